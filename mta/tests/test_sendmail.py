"""A real Sendmail with relaypolicy-milter (INPUT_MAIL_FILTER, F=T).

Debian's sendmail-bin conflicts with the installed Postfix, so
scripts/fetch-mta.sh unpacks it (and sendmail-cf) into a scratch
directory.  The test generates its own sendmail.cf with m4 from
sendmail-cf's macros, runs `sendmail -bD` in the foreground on two free
127.0.0.1 ports with its own queue directory (queue-only: nothing is
delivered), and Cyrus SASL PLAIN against its own sasldb.  Sendmail runs in
a private mount namespace (unshare) where a scratch directory stands in
for /usr/lib/sasl2, so its SASL configuration is the test's and nothing of
the system's changes.

Sendmail has no XCLIENT: clients are told apart by the loopback source
address they connect from (127.0.0.1 outside, 127.0.0.2 a trusted device,
127.0.0.66 a quarantined device, 127.0.0.99 a blocked client).  Sendmail
relays for everyone (FEATURE(`promiscuous_relay')): the milter decides,
and F=T makes Sendmail refuse with 4xx when the milter is not there.
"""

import os
import re
import shutil
import smtplib
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from mtalib import (TIMEOUT, Daemon, PortTaken, RelayScenarios, binary,
                    fetch_mta, free_ports, need_root, tool, wait_port)

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

# The parts of the .mc that matter for relaypolicy-milter are marked; the
# rest keeps the test's Sendmail to itself (own files, no DNS, no delivery).
MC = """\
divert(0)dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `mx.relaypolicy.test')dnl
define(`QUEUE_DIR', `{dir}/mqueue')dnl
define(`STATUS_FILE', `{dir}/statistics')dnl
define(`confPID_FILE', `{dir}/sendmail.pid')dnl
define(`ALIAS_FILE', `')dnl
define(`confHELP_FILE', `')dnl
define(`confSERVICE_SWITCH_FILE', `{dir}/service.switch')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`confDELIVERY_MODE', `queueonly')dnl
define(`confTO_IDENT', `0')dnl
define(`confBAD_RCPT_THROTTLE', `0')dnl
define(`confMAX_DAEMON_CHILDREN', `64')dnl
define(`confREFUSE_LA', `0')dnl
define(`confQUEUE_LA', `0')dnl
define(`confCONNECTION_RATE_THROTTLE', `0')dnl
define(`confDONT_BLAME_SENDMAIL', `GroupWritableDirPathSafe, TrustStickyBit')dnl
define(`confLOG_LEVEL', `9')dnl
define(`confAUTH_MECHANISMS', `PLAIN LOGIN')dnl
TRUST_AUTH_MECH(`PLAIN LOGIN')dnl
FEATURE(`nocanonify')dnl
FEATURE(`accept_unresolvable_domains')dnl
FEATURE(`accept_unqualified_senders')dnl
dnl relaypolicy-milter: Sendmail relays for every client on these
dnl listeners and the milter decides; F=T: no milter, no mail (4xx).
FEATURE(`promiscuous_relay')dnl
DAEMON_OPTIONS(`Port={smtp}, Addr=127.0.0.1, Name=MTA')dnl
DAEMON_OPTIONS(`Port={submission}, Addr=127.0.0.1, Name=MSA, M=E')dnl
INPUT_MAIL_FILTER(`relaypolicy', `S=unix:{milter}, F=T, T=C:10s;S:30s;R:30s;E:1m')dnl
define(`confMILTER_MACROS_CONNECT', `j, _, v, {{daemon_name}}, {{daemon_addr}}, {{daemon_port}}, {{if_addr}}, {{client_addr}}')dnl
define(`confMILTER_MACROS_ENVFROM', `i, {{auth_type}}, {{auth_authen}}, {{mail_addr}}')dnl
MAILER(`smtp')dnl
"""

SASL_CONF = """\
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: {dir}/sasldb2
mech_list: PLAIN LOGIN
"""

OUTSIDE = "127.0.0.1"
DEVICE = "127.0.0.2"
QUARANTINED = "127.0.0.66"
BLOCKED = "127.0.0.99"
PASSWORD = "relaypolicy-test-secret"


class SendmailMilter(RelayScenarios, unittest.TestCase):
    OUTSIDE, DEVICE, QUARANTINED, BLOCKED = (OUTSIDE, DEVICE, QUARANTINED,
                                             BLOCKED)
    MTA = "sendmail+milter"

    @classmethod
    def setUpClass(cls) -> None:
        need_root("running Sendmail")
        tool("m4")
        tool("unshare")
        cls.root = fetch_mta("sendmail")
        # Ports are picked free, but another program may take one before
        # Sendmail binds it: then start again on other ports.
        for attempt in range(3):
            try:
                cls.start_all()
                return
            except PortTaken:
                cls.sendmail.stop()
                cls.milter.stop()
        raise RuntimeError("three sets of free ports were taken")

    @classmethod
    def start_all(cls) -> None:
        cls.dir = Path(tempfile.mkdtemp(prefix="rp-sendmail-"))
        if not os.environ.get("RP_MTA_KEEP"):
            cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.smtp, cls.submission = free_ports(2)
        # A unix socket: over TCP, Sendmail's macro and command packets
        # meet Nagle and delayed ACKs (about 40 ms per recipient).  The
        # scratch directory is in /tmp, whose sticky bit Sendmail is told
        # to trust (TrustStickyBit) for the socket's path.
        cls.milter_socket = cls.dir / "milter.sock"
        cls.policy = cls.dir / "policy.conf"
        cls.policy.write_text(POLICY.format(smtp=cls.smtp,
                                            submission=cls.submission))
        cls.start_milter()
        cls.write_config()
        cls.start_sendmail()

    @classmethod
    def start_milter(cls) -> None:
        cls.milter = Daemon(
            [binary("RP_MILTER", "relaypolicy-milter"), "-p", str(cls.policy),
             "-l", "unix:%s" % cls.milter_socket],
            cls.dir / "milter.log", ready="listening on")
        cls.addClassCleanup(cls.milter.stop)

    @classmethod
    def write_config(cls) -> None:
        d = cls.dir
        (d / "mqueue").mkdir(mode=0o700)
        (d / "statistics").touch()
        (d / "service.switch").write_text("hosts files\naliases files\n")
        # Sendmail wants a fully qualified host name, from files: without
        # one it sleeps and retries for minutes.
        (d / "hosts").write_text("127.0.0.1 mx.relaypolicy.test mx "
                                 "localhost\n")
        (d / "nsswitch.conf").write_text("passwd: files\ngroup: files\n"
                                         "hosts: files\n")
        cf_dir = cls.root / "usr/share/sendmail/cf"
        (d / "test.mc").write_text(MC.format(
            dir=d, smtp=cls.smtp, submission=cls.submission,
            milter=cls.milter_socket))
        with open(d / "sendmail.cf", "w") as out:
            subprocess.run(["m4", "-D_CF_DIR_=%s/" % cf_dir,
                            str(cf_dir / "m4/cf.m4"), str(d / "test.mc")],
                           stdout=out, check=True, timeout=TIMEOUT)
        sasl = d / "sasl2"
        sasl.mkdir()
        (sasl / "Sendmail.conf").write_text(SASL_CONF.format(dir=d))
        subprocess.run(["saslpasswd2", "-p", "-c", "-f", str(d / "sasldb2"),
                        "-u", "mx.relaypolicy.test", "alice"],
                       input=PASSWORD, text=True, check=True,
                       timeout=TIMEOUT)

    @classmethod
    def start_sendmail(cls) -> None:
        d = cls.dir
        sendmail = cls.root / "usr/libexec/sendmail/sendmail"
        # Private mount and host name namespaces: the test's host name,
        # hosts file and SASL configuration stand in for the system's, for
        # this Sendmail only.
        script = ("hostname mx.relaypolicy.test && "
                  "mount --bind {d}/hosts /etc/hosts && "
                  "mount --bind {d}/nsswitch.conf /etc/nsswitch.conf && "
                  "mount --bind {d}/sasl2 /usr/lib/sasl2 && "
                  "exec {sm} -bD -C {d}/sendmail.cf -L relaypolicy-test"
                  .format(d=d, sm=sendmail))
        cls.sendmail = Daemon(["unshare", "--mount", "--uts", "--propagation",
                               "private", "sh", "-c", script],
                              d / "sendmail.log")
        cls.addClassCleanup(cls.sendmail.stop)
        try:
            wait_port(cls.smtp, banner=True, timeout=TIMEOUT)
            wait_port(cls.submission, banner=True)
        except RuntimeError as e:
            if "Address already in use" in cls.sendmail.log_text():
                raise PortTaken()
            raise RuntimeError("%s\n%s" % (e, cls.sendmail.log_text()))

    # ---- SMTP through Sendmail ----------------------------------------

    def session(self, port: int, client: str = OUTSIDE,
                login: Optional[str] = None) -> smtplib.SMTP:
        s = smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT * 2,
                         source_address=(client, 0))
        self.addCleanup(s.close)
        self.assertEqual(s.ehlo("client.test")[0], 250)
        if login:
            s.login(login, PASSWORD)
        return s

    def assertReply(self, got: Tuple[int, str], reply: str) -> None:
        """The library's reply, as Sendmail writes it: Sendmail names the
        recipient itself ("<rcpt>... "), the milter leaves out the
        library's "<rcpt>: "."""
        self.assertEqual("%d %s" % got, re.sub(r" (<[^>]*>): ", r" \1... ",
                                               reply))

    # ---- the scenarios ------------------------------------------------

    def test_authenticated_submission_relays(self) -> None:
        super().test_authenticated_submission_relays()
        # The login does not make the gateway port a submission port.
        self.assertReply(self.rcpt(self.smtp, OUTSIDE, "bob@remote.example",
                                   login="alice"),
                         "550 5.7.1 <bob@remote.example>: Relaying prohibited")

    def test_percent_reaches_the_client_unchanged(self) -> None:
        got = self.rcpt(self.smtp, OUTSIDE,
                        "user%remote.example@local.example")
        self.assertEqual(got[0], 550, got)
        self.assertIn("user%remote.example@local.example>... Relaying "
                      "prohibited", got[1])

    def test_log_has_sendmail_facts_and_rules(self) -> None:
        self.rcpt(self.submission, OUTSIDE, "bob@remote.example",
                  sender="alice@local.example", login="alice")
        self.milter.wait_log(r"client=127\.0\.0\.1 server=127\.0\.0\.1:%d "
                             r".*user=alice from=<alice@local\.example> "
                             r"to=<bob@remote\.example>: RELAY 250 "
                             r"\(relayed\) listener=msa rule=\S+:\d+"
                             % self.submission)

    def test_zz_zz_milter_stopped_fails_closed(self) -> None:
        self.milter.stop()
        self.assertFailsClosed(((DEVICE, "bob@remote.example"),
                                (OUTSIDE, "bob@remote.example"),
                                (OUTSIDE, "alice@local.example")))


if __name__ == "__main__":
    unittest.main()
