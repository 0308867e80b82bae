"""A real Exim 4 asking relaypolicyd through ${readsocket}, without any C.

Debian's exim4-daemon-light is unpacked (not installed: Postfix stays the
system's MTA) by fetch_exim.sh into the build directory and run with its
own configuration, spool and log directories under a temporary directory,
listening on two free loopback ports.  Exim looks up its compiled-in user
"Debian-exim" at start; it runs in a private mount namespace where
/etc/passwd and /etc/group are copies that add that user, so the system's
files are never touched.  The RCPT ACL is the shipped
daemon/exim/relaypolicy.acl and nothing else.

Checked with `exim -bh` (a simulated session from any client address) and
over SMTP to the real listener: outside relaying refused with the
policy's reply, a trusted network relays, the routing tricks refused,
local recipients accepted, and with relaypolicyd stopped Exim defers
(fails closed).  Needs root; skipped (77) with the reason otherwise.
"""

import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from typing import List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from mtalib import TIMEOUT, Policyd, free_ports, skip_module

SRC = Path(os.environ.get("RP_DAEMON_SRC", Path(__file__).parent.parent))
BUILD = Path(os.environ.get("RP_DAEMON_BUILD", tempfile.gettempdir()))
EXIM_DIR = BUILD / "exim-pkg"
EXIM = EXIM_DIR / "root" / "usr" / "sbin" / "exim4"
EXIM_UID = 64990

POLICY = """\
domain local.example local recipients alice bob postmaster
network devices 10.1.2.0/24
listener internet {{
    bind 127.0.0.1:{p1}
    role gateway
    allow network devices relay
}}
# Loopback clients on the second port are this host's own programs.
listener trusted {{
    bind 127.0.0.1:{p2}
    role gateway
    allow network 127.0.0.0/8 relay
}}
domain домен.рф local recipients alice
"""

EXIM_CONF = """\
RELAYPOLICYD = inet:127.0.0.1:{policyd}
primary_hostname = exim.relaypolicy.test
spool_directory = {dir}/spool
log_file_path = {dir}/log/%slog
pid_file_path = {dir}/exim.pid
daemon_smtp_ports = {p1} : {p2}
local_interfaces = <; 127.0.0.1
keep_environment =
host_lookup =
rfc1413_hosts =
smtp_enforce_sync = false
acl_smtp_rcpt = acl_check_rcpt
domainlist local_domains = local.example

begin acl

acl_check_rcpt:
.include {acl}
  deny
    message = 550 5.7.1 not decided by relaypolicyd

begin routers

blackhole:
  driver = redirect
  data = :blackhole:
"""

OUTSIDE = "203.0.113.9"
DEVICE = "10.1.2.3"
TRICKS = ["user%remote.example@local.example",
          "remote.example!user@local.example",
          "\"user@remote.example\"@local.example",
          "user@REMOTE.EXAMPLE."]


def prepare_exim() -> None:
    if os.geteuid() != 0:
        skip_module("Exim runs as root in a private mount namespace; not root")
    if not shutil.which("unshare"):
        skip_module("unshare (util-linux) is missing")
    out = subprocess.run(["sh", str(SRC / "tests" / "fetch_exim.sh"),
                          str(EXIM_DIR)], capture_output=True, text=True,
                         timeout=600)
    if out.returncode != 0:
        skip_module("no Exim: " + out.stdout + out.stderr)
    ldd = subprocess.run(["ldd", str(EXIM)], capture_output=True, text=True)
    missing = [l.split()[0] for l in ldd.stdout.splitlines()
               if "not found" in l]
    if missing:
        skip_module("Exim's libraries are missing (scripts/install-deps.sh): " +
             " ".join(missing))


class Exim(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        prepare_exim()
        cls.dir = Path(tempfile.mkdtemp(prefix="rp-exim-"))
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.dir.chmod(0o755)
        cls.p1, cls.p2 = free_ports(2)
        cls.policy = cls.dir / "policy.conf"
        cls.policy.write_text(POLICY.format(p1=cls.p1, p2=cls.p2))
        cls.policyd = Policyd(cls.policy, "inet:127.0.0.1:0", cls.dir)
        cls.addClassCleanup(cls.policyd.stop)
        cls.write_config()
        cls.daemon: Optional[subprocess.Popen] = None
        cls.start_exim()

    @classmethod
    def write_config(cls) -> None:
        for sub in ("spool", "log"):
            (cls.dir / sub).mkdir()
            os.chown(cls.dir / sub, EXIM_UID, EXIM_UID)
        passwd = (Path("/etc/passwd").read_text() +
                  "Debian-exim:x:%d:%d::%s:/usr/sbin/nologin\n" %
                  (EXIM_UID, EXIM_UID, cls.dir))
        group = Path("/etc/group").read_text() + "Debian-exim:x:%d:\n" % (
            EXIM_UID)
        (cls.dir / "passwd").write_text(passwd)
        (cls.dir / "group").write_text(group)
        cls.conf = cls.dir / "exim.conf"
        cls.conf.write_text(EXIM_CONF.format(
            policyd=cls.policyd.port, dir=cls.dir, p1=cls.p1, p2=cls.p2,
            acl=SRC / "exim" / "relaypolicy.acl"))

    @classmethod
    def exim_argv(cls, *args: str) -> List[str]:
        script = ('mount --bind "$1/passwd" /etc/passwd && '
                  'mount --bind "$1/group" /etc/group && shift && '
                  'exec "$@"')
        return (["unshare", "-m", "--propagation", "private", "sh", "-c",
                 script, "sh", str(cls.dir), str(EXIM), "-C",
                 str(cls.conf)] + list(args))

    @classmethod
    def start_exim(cls) -> None:
        log = open(cls.dir / "exim-daemon.out", "wb")
        cls.daemon = subprocess.Popen(cls.exim_argv("-bdf"), stdout=log,
                                      stderr=subprocess.STDOUT,
                                      start_new_session=True)
        cls.addClassCleanup(cls.stop_exim)
        cls.addClassCleanup(log.close)
        deadline = time.monotonic() + TIMEOUT
        for port in (cls.p1, cls.p2):
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port),
                                                  5) as s:
                        if s.recv(512).startswith(b"220 "):
                            break
                except OSError:
                    pass
                if cls.daemon.poll() is not None or \
                        time.monotonic() > deadline:
                    raise RuntimeError("Exim did not start: " +
                                       cls.exim_log())
                time.sleep(0.1)

    @classmethod
    def stop_exim(cls) -> None:
        if cls.daemon is None or cls.daemon.poll() is not None:
            return
        os.killpg(cls.daemon.pid, signal.SIGTERM)
        try:
            cls.daemon.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(cls.daemon.pid, signal.SIGKILL)
            cls.daemon.wait(TIMEOUT)

    @classmethod
    def exim_log(cls) -> str:
        text = ""
        for name in ("exim-daemon.out", "log/mainlog", "log/paniclog",
                     "log/rejectlog"):
            p = cls.dir / name
            if p.exists():
                text += "\n--- %s\n%s" % (name, p.read_text(errors="replace"))
        return text

    # ---- exim -bh: a simulated session from any address ----------------

    def bh(self, client: str, rcpt: str, port: Optional[int] = None,
           sender: str = "someone@example.org") -> str:
        """The reply to RCPT TO in a -bh session; its last line."""
        session = ("EHLO client.test\r\nMAIL FROM:<%s>\r\n"
                   "RCPT TO:<%s>\r\nQUIT\r\n" % (sender, rcpt))
        out = subprocess.run(
            self.exim_argv("-bh", client, "-oMi", "127.0.0.1.%d" % (
                port or self.p1)),
            input=session, capture_output=True, text=True, timeout=TIMEOUT)
        finals = [l for l in out.stdout.splitlines()
                  if len(l) > 3 and l[:3].isdigit() and l[3] == " "]
        self.assertGreaterEqual(len(finals), 4, out.stdout + out.stderr)
        return finals[3]

    def test_bh_outside_relaying_refused(self) -> None:
        self.assertEqual(self.bh(OUTSIDE, "bob@remote.example"),
                         "550 5.7.1 Relaying prohibited")

    def test_bh_trusted_network_relays(self) -> None:
        self.assertTrue(self.bh(DEVICE, "bob@remote.example")
                        .startswith("250 "))

    def test_bh_local_recipients(self) -> None:
        self.assertTrue(self.bh(OUTSIDE, "alice@local.example")
                        .startswith("250 "))
        self.assertEqual(self.bh(OUTSIDE, "zed@local.example"),
                         "550 5.1.1 User unknown")

    def test_bh_routing_tricks_refused(self) -> None:
        for rcpt in TRICKS:
            with self.subTest(rcpt=rcpt):
                reply = self.bh(OUTSIDE, rcpt)
                self.assertRegex(reply, r"^5\d\d ", rcpt)
        for sender in ("", "admin@local.example"):
            with self.subTest(sender=sender):
                self.assertEqual(self.bh(OUTSIDE, "bob@remote.example",
                                         sender=sender),
                                 "550 5.7.1 Relaying prohibited")

    def test_bh_listener_chosen_by_port(self) -> None:
        # 127.0.0.1 may relay on the trusted port only.
        self.assertTrue(self.bh("127.0.0.1", "bob@remote.example",
                                port=self.p2).startswith("250 "))
        self.assertEqual(self.bh("127.0.0.1", "bob@remote.example"),
                         "550 5.7.1 Relaying prohibited")

    # ---- the real listener -----------------------------------------------

    def rcpt(self, port: int, rcpt: str) -> Tuple[int, str]:
        with smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT) as s:
            self.assertEqual(s.ehlo("client.test")[0], 250)
            code, msg = s.mail("someone@example.org")
            self.assertEqual(code, 250, msg)
            code, msg = s.rcpt(rcpt)
            return code, msg.decode()

    def test_smtp_outside_relaying_refused(self) -> None:
        self.assertEqual(self.rcpt(self.p1, "bob@remote.example"),
                         (550, "5.7.1 Relaying prohibited"))
        for rcpt in TRICKS:
            with self.subTest(rcpt=rcpt):
                code, msg = self.rcpt(self.p1, rcpt)
                self.assertGreaterEqual(code, 500, msg)

    def test_smtp_smtputf8(self) -> None:
        # Exim says whether MAIL FROM had SMTPUTF8 ($message_smtputf8):
        # with it both spellings of the IDN domain are accepted.
        with smtplib.SMTP("127.0.0.1", self.p1, timeout=TIMEOUT) as s:
            self.assertEqual(s.ehlo("client.test")[0], 250)
            self.assertTrue(s.has_extn("smtputf8"), s.esmtp_features)
            code, msg = s.mail("jörg@example.org", ["SMTPUTF8"])
            self.assertEqual(code, 250, msg)
            for rcpt in ("alice@домен.рф", "alice@xn--d1acufc.xn--p1ai",
                         "Alice@ДОМЕН.РФ"):
                code, msg = s.rcpt(rcpt)
                self.assertEqual(code, 250, (rcpt, msg))
            self.assertEqual(s.rcpt("bob@пример.рф"),
                             (550, b"5.7.1 Relaying prohibited"))
        self.policyd.wait_log(r"from=<j\S+@example\.org> "
                              r"to=<alice@xn--d1acufc\.xn--p1ai>")
        # Without it: the A-label only; a UTF-8 address is refused.
        self.assertEqual(self.rcpt(self.p1, "alice@xn--d1acufc.xn--p1ai")[0],
                         250)
        with smtplib.SMTP("127.0.0.1", self.p1, timeout=TIMEOUT) as s:
            s.ehlo("client.test")
            self.assertEqual(s.mail("someone@example.org")[0], 250)
            s.command_encoding = "utf-8"
            code, msg = s.rcpt("alice@домен.рф")
            self.assertGreaterEqual(code, 500, msg)

    def test_smtp_trusted_relays_and_a_message_goes_through(self) -> None:
        self.assertEqual(self.rcpt(self.p2, "bob@remote.example")[0], 250)
        with smtplib.SMTP("127.0.0.1", self.p2, timeout=TIMEOUT) as s:
            refused = s.sendmail("someone@example.org",
                                 ["bob@remote.example", "alice@local.example"],
                                 b"Subject: test\r\n\r\nhello\r\n")
            self.assertEqual(refused, {})
        # relaypolicyd saw Exim's facts, port included.
        self.policyd.wait_log(r"client=127\.0\.0\.1 server=127\.0\.0\.1:%d "
                              r"helo=client\.test" % self.p2)

    def test_zz_daemon_down_exim_defers(self) -> None:
        self.policyd.stop()
        self.assertTrue(self.bh(DEVICE, "bob@remote.example")
                        .startswith("451 4.3.0 "))
        self.assertTrue(self.bh(OUTSIDE, "alice@local.example")
                        .startswith("451 4.3.0 "))
        code, msg = self.rcpt(self.p2, "bob@remote.example")
        self.assertEqual(code, 451, msg)


if __name__ == "__main__":
    unittest.main()
