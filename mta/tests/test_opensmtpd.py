"""A real OpenSMTPD with relaypolicy-opensmtpd as its filter.

Debian's opensmtpd conflicts with the installed Postfix, so
scripts/fetch-mta.sh unpacks it into a scratch directory.  OpenSMTPD's
paths (queue, chroot, control socket) and users are compiled in, so the
test runs `smtpd -d` in private mount and host name namespaces (unshare)
where scratch directories stand in for /var/spool, /var/lib and /run and
scratch copies of /etc/passwd and /etc/group add its two users: nothing of
the system's changes.  Two listeners on free 127.0.0.1 ports, the second
with STARTTLS (a throw-away self-signed certificate) and AUTH against a
scratch credentials table.  Every accepted message is queued for a relay
host that does not answer: nothing leaves.

OpenSMTPD accepts every recipient on these listeners (match from any for
any): the filter decides, and a filter that dies takes smtpd down with it
(smtpd-filters(7): a lost filter process stops smtpd), so nothing is ever
accepted unfiltered.  Clients are told apart by loopback source address as
in the Sendmail test.
"""

import os
import re
import shutil
import signal
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from mtalib import (TIMEOUT, Daemon, PortTaken, RelayScenarios, binary,
                    fetch_mta, free_ports, need_root, nmap_open_relay, tool,
                    wait_port)

POLICY = """\
domain local.example local recipients alice bob admin
network devices     127.0.0.2
network quarantined 127.0.0.66
listener mta {{
    bind 127.0.0.1:{smtp}
    role gateway
    allow network devices relay
    deny  network quarantined relay
}}
listener msa {{
    bind 127.0.0.1:{submission}
    role submission
}}
deny client 127.0.0.99
"""

# The relaypolicy part: the filter on each guarded listener, and smtpd
# accepting every recipient there (the filter decides).
SMTPD_CONF = """\
pki mx.relaypolicy.test cert "{dir}/cert.pem"
pki mx.relaypolicy.test key "{dir}/key.pem"
table creds file:{dir}/creds
filter "relaypolicy" proc-exec "{filter} -p {dir}/policy.conf"
listen on 127.0.0.1 port {smtp} hostname mx.relaypolicy.test \\
    filter "relaypolicy"
listen on 127.0.0.1 port {submission} hostname mx.relaypolicy.test \\
    tls pki mx.relaypolicy.test auth-optional <creds> filter "relaypolicy"
action "hold" relay host smtp://127.0.0.1:{sink}
match from any for any action "hold"
match auth from any for any action "hold"
"""

OUTSIDE = "127.0.0.1"
DEVICE = "127.0.0.2"
QUARANTINED = "127.0.0.66"
BLOCKED = "127.0.0.99"
PASSWORD = "relaypolicy-test-secret"


class OpenSMTPDFilter(RelayScenarios, unittest.TestCase):
    OUTSIDE, DEVICE, QUARANTINED, BLOCKED = (OUTSIDE, DEVICE, QUARANTINED,
                                             BLOCKED)
    MTA = "opensmtpd+filter"

    @classmethod
    def setUpClass(cls) -> None:
        need_root("running OpenSMTPD")
        tool("unshare")
        tool("openssl")
        cls.root = fetch_mta("opensmtpd")
        cls.filter = binary("RP_OPENSMTPD_FILTER", "relaypolicy-opensmtpd")
        # Ports are picked free, but another program may take one before
        # smtpd binds it: then start again on other ports.
        for attempt in range(3):
            try:
                cls.start_all()
                return
            except PortTaken:
                cls.smtpd.stop()
        raise RuntimeError("three sets of free ports were taken")

    @classmethod
    def start_all(cls) -> None:
        cls.dir = Path(tempfile.mkdtemp(prefix="rp-opensmtpd-"))
        if not os.environ.get("RP_MTA_KEEP"):
            cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.dir.chmod(0o755)  # the filter runs as the opensmtpd user
        cls.smtp, cls.submission, cls.sink = free_ports(3)
        cls.policy = cls.dir / "policy.conf"
        cls.policy.write_text(POLICY.format(smtp=cls.smtp,
                                            submission=cls.submission))
        cls.policy.chmod(0o644)
        cls.write_config()
        cls.start_smtpd()

    @classmethod
    def write_config(cls) -> None:
        d = cls.dir
        for sub in ("spool", "varlib/opensmtpd/empty", "run"):
            (d / sub).mkdir(parents=True)
        (d / "spool").chmod(0o711)
        (d / "smtpd.conf").write_text(SMTPD_CONF.format(
            dir=d, filter=cls.filter, smtp=cls.smtp,
            submission=cls.submission, sink=cls.sink))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "2", "-subj",
                        "/CN=mx.relaypolicy.test", "-keyout",
                        str(d / "key.pem"), "-out", str(d / "cert.pem")],
                       capture_output=True, check=True, timeout=TIMEOUT * 2)
        (d / "key.pem").chmod(0o600)
        import crypt
        (d / "creds").write_text("alice %s\n" % crypt.crypt(
            PASSWORD, crypt.mksalt(crypt.METHOD_SHA512)))
        (d / "creds").chmod(0o640)
        passwd = Path("/etc/passwd").read_text()
        group = Path("/etc/group").read_text()
        (d / "passwd").write_text(
            passwd + "opensmtpd:x:64711:64711::/var/lib/opensmtpd:"
            "/usr/sbin/nologin\nopensmtpq:x:64712:64712::/var/lib/"
            "opensmtpd:/usr/sbin/nologin\n")
        (d / "group").write_text(group + "opensmtpd:x:64711:\n"
                                 "opensmtpq:x:64712:\n")
        (d / "hosts").write_text("127.0.0.1 mx.relaypolicy.test mx "
                                 "localhost\n")

    @classmethod
    def start_smtpd(cls) -> None:
        d = cls.dir
        smtpd = cls.root / "usr/sbin/smtpd"
        binds = [("passwd", "/etc/passwd"), ("group", "/etc/group"),
                 ("hosts", "/etc/hosts"), ("spool", "/var/spool"),
                 ("varlib", "/var/lib"), ("run", "/run")]
        script = "hostname mx.relaypolicy.test && " + "".join(
            "mount --bind %s %s && " % (d / a, b) for a, b in binds)
        script += "exec %s -d -f %s" % (smtpd, d / "smtpd.conf")
        cls.smtpd = Daemon(["unshare", "--mount", "--uts", "--propagation",
                            "private", "sh", "-c", script],
                           d / "smtpd.log")
        cls.addClassCleanup(cls.smtpd.stop)
        try:
            wait_port(cls.smtp, banner=True, timeout=TIMEOUT)
            wait_port(cls.submission, banner=True, timeout=TIMEOUT)
        except RuntimeError as e:
            if "Address already in use" in cls.smtpd.log_text():
                raise PortTaken()
            raise RuntimeError("%s\n%s" % (e, cls.smtpd.log_text()))

    # ---- SMTP through OpenSMTPD ---------------------------------------

    def session(self, port: int, client: str = OUTSIDE,
                login: Optional[str] = None) -> smtplib.SMTP:
        s = smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT * 2,
                         source_address=(client, 0))
        self.addCleanup(s.close)
        self.assertEqual(s.ehlo("client.test")[0], 250)
        if login:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            # Debian's OpenSMTPD 6.8 signs in a separate process through an
            # RSA engine that fails with OpenSSL 3 on every signature
            # ("EVP lib"); RSA key transport needs no signature.
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers("AES128-GCM-SHA256:@SECLEVEL=0")
            try:
                s.starttls(context=ctx)
            except ssl.SSLError as e:
                self.skipTest("Debian's OpenSMTPD 6.8 cannot complete a TLS "
                              "handshake with OpenSSL 3 (%s), and it offers "
                              "AUTH only after STARTTLS: the login path is "
                              "covered by mta_opensmtpd_protocol" % e)
            s.ehlo("client.test")
            s.login(login, PASSWORD)
        return s

    # ---- the scenarios ------------------------------------------------

    def test_log_has_opensmtpd_facts_and_rules(self) -> None:
        self.rcpt(self.smtp, DEVICE, "bob@remote.example",
                  sender="dev@example.org")
        self.smtpd.wait_log(r"client=127\.0\.0\.2 server=127\.0\.0\.1:%d "
                            r"helo=client\.test user= from=<dev@example\.org> "
                            r"to=<bob@remote\.example>: RELAY 250 "
                            r"\(relayed\) listener=mta rule=\S+:\d+"
                            % self.smtp)

    def test_zz_reload(self) -> None:
        pid = self.filter_pid()
        self.policy.write_text(self.policy.read_text().replace(
            "127.0.0.2\n", "127.0.0.2 127.0.0.77\n"))
        os.kill(pid, signal.SIGHUP)
        self.smtpd.wait_log("policy reloaded")
        self.assertEqual(self.rcpt(self.smtp, "127.0.0.77",
                                   "bob@remote.example")[0], 250)

    def filter_pid(self) -> int:
        m = re.findall(r"relaypolicy-opensmtpd\[(\d+)\]: started",
                       self.smtpd.log_text())
        self.assertTrue(m, self.smtpd.log_text())
        return int(m[-1])

    def test_zz_zz_filter_stopped_fails_closed(self) -> None:
        os.kill(self.filter_pid(), signal.SIGTERM)
        deadline = time.monotonic() + TIMEOUT
        while self.smtpd.proc.poll() is None and \
                time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertIsNotNone(self.smtpd.proc.poll(),
                             "smtpd went on without its filter")
        for client in (DEVICE, OUTSIDE):
            with self.subTest(client=client):
                try:
                    s = smtplib.SMTP("127.0.0.1", self.smtp, timeout=10,
                                     source_address=(client, 0))
                except OSError:
                    continue  # nobody listens: nothing can relay
                self.fail("smtpd still answers: %r" % (s.ehlo(),))
        nmap = nmap_open_relay(self.smtp)
        self.assertNotIn("Server is an open relay", nmap, nmap)


if __name__ == "__main__":
    unittest.main()
