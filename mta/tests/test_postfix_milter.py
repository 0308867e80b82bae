"""A real Postfix with relaypolicy-milter in smtpd_milters, over SMTP.

The test runs its own Postfix (postfix -c DIR start) on 127.0.0.1 only: a
gateway port and a submission port chosen free at run time, queue and data
directories in a scratch directory, every message discarded.  Both smtpd
services are guarded: Postfix leaves every relay decision to the milter
and fails closed without it (the recipe of relaypolicy-milter(8)):

    -o smtpd_relay_restrictions=check_client_access,static:OK,reject_unauth_destination
    -o smtpd_milters=inet:127.0.0.1:PORT
    -o milter_default_action=tempfail

XCLIENT (allowed from 127.0.0.0/8) presents the clients of the scenarios
and, with LOGIN=, a login (Postfix's sasl_username, the milter's
{auth_authen}).  Clients that do not use XCLIENT are 127.0.0.1, an outside
client for the policy.  Needs root and Debian's postfix, swaks and nmap.
"""

import os
import shutil
import smtplib
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from mtalib import (POSTFIX_SERVICES, Daemon, PortTaken, RelayScenarios,
                    binary, free_ports, need_postfix, postfix_maillog,
                    postfix_start, postfix_stop, wait_port, xclient_session)

POLICY = """\
domain local.example local recipients alice bob admin
network devices     10.1.2.0/24
network quarantined 10.1.2.66
listener internet {{
    bind 127.0.0.1:{smtp}
    role gateway
    allow network devices relay
    deny  network quarantined relay
}}
listener submission {{
    bind 127.0.0.1:{submission}
    role submission
}}
deny client 198.51.100.0/24
domain домен.рф local recipients alice
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.relaypolicy.test
mydomain = relaypolicy.test
myorigin = $myhostname
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
smtpd_authorized_xclient_hosts = 127.0.0.0/8
default_transport = discard
local_transport = discard
relay_transport = discard
smtputf8_enable = yes
biff = no
append_dot_mydomain = no
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
# relaypolicy-milter: the facts it needs at each stage.
milter_protocol = 6
milter_connect_macros = j {{daemon_name}} {{daemon_addr}} {{daemon_port}}
    {{client_addr}} {{client_port}} v _
milter_mail_macros = i {{auth_type}} {{auth_authen}} {{mail_addr}}
"""

# Each guarded smtpd: relaying is the milter's decision, and without the
# milter Postfix answers 4xx (fail closed).
GUARD = ("  -o smtpd_relay_restrictions=check_client_access,static:OK,reject_unauth_destination\n"
         "  -o smtpd_recipient_restrictions=\n"
         "  -o smtpd_milters=inet:127.0.0.1:{milter}\n"
         "  -o milter_default_action=tempfail\n")

MASTER_CF = """\
127.0.0.1:{smtp} inet n - n - - smtpd
""" + GUARD + """\
127.0.0.1:{submission} inet n - n - - smtpd
""" + GUARD + POSTFIX_SERVICES

OUTSIDE = "203.0.113.9"
DEVICE = "10.1.2.3"
QUARANTINED = "10.1.2.66"
BLOCKED = "198.51.100.7"


class PostfixMilter(RelayScenarios, unittest.TestCase):
    OUTSIDE, DEVICE, QUARANTINED, BLOCKED = (OUTSIDE, DEVICE, QUARANTINED,
                                             BLOCKED)
    MTA = "postfix+milter"

    @classmethod
    def setUpClass(cls) -> None:
        need_postfix()
        # Ports are picked free, but another program may take one before
        # Postfix or the milter binds it: then start again on other ports.
        for attempt in range(3):
            try:
                cls.start_all()
                return
            except PortTaken:
                cls.stop_postfix()
                cls.milter.stop()
        raise RuntimeError("three sets of free ports were taken")

    @classmethod
    def start_all(cls) -> None:
        cls.dir = Path(tempfile.mkdtemp(prefix="rp-pfmilter-"))
        if not os.environ.get("RP_MTA_KEEP"):
            cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.dir.chmod(0o755)  # Postfix's daemons must reach the queue.
        cls.smtp, cls.submission, cls.milter_port = free_ports(3)
        cls.policy = cls.dir / "policy.conf"
        cls.policy.write_text(POLICY.format(smtp=cls.smtp,
                                            submission=cls.submission))
        cls.start_milter()
        cls.start_postfix()

    @classmethod
    def start_milter(cls) -> None:
        cls.milter = Daemon(
            [binary("RP_MILTER", "relaypolicy-milter"), "-p", str(cls.policy),
             "-l", "inet:%d@127.0.0.1" % cls.milter_port],
            cls.dir / "milter.log")
        cls.addClassCleanup(cls.milter.stop)
        try:
            cls.milter.wait_log("listening on")
        except AssertionError:
            if "cannot listen" in cls.milter.log_text():
                raise PortTaken()
            raise

    @classmethod
    def start_postfix(cls) -> None:
        cls.addClassCleanup(cls.stop_postfix)
        postfix_start(cls.dir, MAIN_CF.format(dir=cls.dir),
                      MASTER_CF.format(smtp=cls.smtp,
                                       submission=cls.submission,
                                       milter=cls.milter_port))
        try:
            wait_port(cls.smtp, banner=True)
            wait_port(cls.submission, banner=True)
        except RuntimeError as e:
            if "Address already in use" in cls.maillog():
                raise PortTaken()
            raise RuntimeError("%s\n%s" % (e, cls.maillog()[-3000:]))

    @classmethod
    def stop_postfix(cls) -> None:
        postfix_stop(cls.dir)

    @classmethod
    def maillog(cls) -> str:
        return postfix_maillog(cls.dir)

    # ---- SMTP through Postfix -------------------------------------------

    def session(self, port: int, client: Optional[str],
                login: Optional[str] = None) -> smtplib.SMTP:
        return xclient_session(self, port, client, login)

    # ---- the scenarios --------------------------------------------------

    def test_outside_relaying_refused_with_the_library_reply(self) -> None:
        super().test_outside_relaying_refused_with_the_library_reply()
        # A client that does not use XCLIENT is 127.0.0.1, outside too.
        self.assertReply(self.rcpt(self.smtp, None, "bob@remote.example"),
                         "550 5.7.1 <bob@remote.example>: Relaying prohibited")

    def test_authenticated_submission_relays(self) -> None:
        super().test_authenticated_submission_relays()
        # The login does not make the gateway port a submission port.
        self.assertReply(self.rcpt(self.smtp, OUTSIDE, "bob@remote.example",
                                   login="alice"),
                         "550 5.7.1 <bob@remote.example>: Relaying prohibited")

    def test_whole_message_to_accepted_recipients(self) -> None:
        s = self.session(self.smtp, OUTSIDE)
        s.mail("someone@example.org")
        self.assertEqual(s.rcpt("alice@local.example")[0], 250)
        self.assertEqual(s.rcpt("bob@remote.example")[0], 550)
        code, msg = s.data(b"Subject: test\r\n\r\nhello\r\n")
        self.assertEqual(code, 250, msg)
        s.quit()

    def test_smtputf8_from_the_mail_parameters(self) -> None:
        # Postfix hands the milter MAIL FROM's SMTPUTF8 parameter: with it
        # the IDN domain is accepted in both spellings; without it
        # a UTF-8 local part (which strict_smtputf8 = no lets through) is
        # refused 553 5.6.7 and the IDN domain accepted as A-label only.
        s = self.session(self.smtp, OUTSIDE)
        self.assertIn("smtputf8", s.esmtp_features)
        self.assertEqual(s.mail("jörg@example.org", ["SMTPUTF8"])[0], 250)
        for rcpt in ("alice@домен.рф", "alice@xn--d1acufc.xn--p1ai"):
            self.assertEqual(s.rcpt(rcpt)[0], 250, rcpt)
        code, msg = s.rcpt("bob@пример.рф")
        self.assertEqual(code, 550, msg)
        self.assertTrue(msg.startswith(b"5.7.1 "), msg)
        s.rset()
        self.assertEqual(s.mail("someone@example.org")[0], 250)
        s.command_encoding = "utf-8"
        code, msg = s.rcpt("jörg@local.example")
        self.assertEqual(code, 553, msg)
        self.assertTrue(msg.startswith(b"5.6.7 "), msg)
        # Postfix refuses a U-label domain itself (501 5.1.3).
        self.assertGreaterEqual(s.rcpt("alice@домен.рф")[0], 500)
        self.assertEqual(s.rcpt("alice@xn--d1acufc.xn--p1ai")[0], 250)

    def test_log_has_postfix_facts_and_rules(self) -> None:
        self.rcpt(self.submission, OUTSIDE, "bob@remote.example",
                  sender="alice@local.example", login="alice")
        self.milter.wait_log(r"client=203\.0\.113\.9 server=127\.0\.0\.1:%d "
                             r"helo=client\.test user=alice "
                             r"from=<alice@local\.example> "
                             r"to=<bob@remote\.example>: RELAY 250 "
                             r"\(relayed\) listener=submission rule=\S+:\d+"
                             % self.submission)

    def test_zz_zz_milter_stopped_fails_closed(self) -> None:
        self.milter.stop()
        self.assertFailsClosed(((DEVICE, "bob@remote.example"),
                                (None, "bob@remote.example"),
                                (OUTSIDE, "alice@local.example")))


if __name__ == "__main__":
    unittest.main()
