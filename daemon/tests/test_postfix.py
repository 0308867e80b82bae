"""A real Postfix in front of relaypolicyd, talked to over SMTP.

The test runs its own Postfix instance (postfix -c DIR start) on 127.0.0.1
only, with a gateway port and a submission port chosen free at run time,
its queue and data directories under a temporary directory, and

    smtpd_relay_restrictions = check_policy_service inet:127.0.0.1:PORT, reject

pointing at a relaypolicyd started for the test.  XCLIENT (allowed
from 127.0.0.0/8) presents the client addresses of the classic relay scenarios
and, with LOGIN=, an authenticated user (it sets Postfix's sasl_username).
The instance and the policy server are stopped at the end, whatever
happens.  A second instance runs with smtputf8_enable = yes and
strict_smtputf8 = yes, and a policy naming IDN domains as U-label and as
A-label: both spellings are accepted, with SMTPUTF8 for the U-label.  A
third runs with TLS and smtpd_tls_ask_ccert = yes: a client certificate
made on the fly (openssl, a throw-away CA) relays on the submission port
by its public-key fingerprint, and a device network relays to one vendor
only.  Needs root and Debian's postfix and openssl
(scripts/install-deps.sh).
"""

import os
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from mtalib import (POSTFIX_SERVICES, TIMEOUT, Policyd, binary, free_ports,
                    need_postfix,
                    postfix_maillog, postfix_start,
                    postfix_stop, wait_port, xclient_session)

POLICY = """\
# A typical set-up: a gateway every client may submit to, trusted devices
# that may relay, one device that may never relay, a blocked network and
# a submission port for authenticated users.
domain local.example local recipients alice bob admin
network devices     10.1.2.0/24
network quarantined 10.1.2.66
listener internet {{
    bind 127.0.0.1:{smtp}
    role gateway
    allow network devices relay
    deny  network quarantined relay
{internet}}}
listener submission {{
    bind 127.0.0.1:{submission}
    role submission
{submission_rules}}}
deny client 198.51.100.0/24
{idn}"""

# The SMTPUTF8 instance's policy adds an IDN domain written each way:
# домен.рф is xn--d1acufc.xn--p1ai, тест.рф is xn--e1aybc.xn--p1ai.
IDN_POLICY = """\
domain домен.рф local recipients alice алиса
domain xn--e1aybc.xn--p1ai local recipients bob
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
mynetworks = 127.0.0.0/8
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_relay_restrictions = check_policy_service inet:127.0.0.1:{policyd},
    reject
smtpd_recipient_restrictions =
smtpd_policy_service_timeout = 60s
default_transport = discard
local_transport = discard
relay_transport = discard
{smtputf8}
biff = no
append_dot_mydomain = no
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
"""

MASTER_CF = """\
127.0.0.1:{smtp} inet n - n - - smtpd
127.0.0.1:{submission} inet n - n - - smtpd
""" + POSTFIX_SERVICES

OUTSIDE = "203.0.113.9"
DEVICE = "10.1.2.3"
QUARANTINED = "10.1.2.66"
BLOCKED = "198.51.100.7"


class PostfixInstance(unittest.TestCase):
    """A Postfix and a relaypolicyd for the tests of a subclass."""

    main_cf_smtputf8 = "smtputf8_enable = no"
    idn_policy = ""
    internet_rules = ""
    submission_rules = ""
    extra_master_cf = ""

    @classmethod
    def setUpClass(cls) -> None:
        # Without root or Postfix: skipped (ctest SKIP_RETURN_CODE 77).
        need_postfix()
        binary("RP_POLICYD", "relaypolicyd")
        cls.dir = Path(tempfile.mkdtemp(prefix="rp-postfix-"))
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        # Postfix's daemons (user postfix) must reach the queue.
        cls.dir.chmod(0o755)
        cls.smtp, cls.submission = free_ports(2)
        cls.policy = cls.dir / "policy.conf"
        cls.policy.write_text(POLICY.format(
            smtp=cls.smtp, submission=cls.submission, idn=cls.idn_policy,
            internet=cls.internet_rules,
            submission_rules=cls.submission_rules))
        cls.policyd = Policyd(cls.policy, "inet:127.0.0.1:0", cls.dir)
        cls.addClassCleanup(cls.policyd.stop)
        cls.start_postfix()

    @classmethod
    def start_postfix(cls) -> None:
        cls.addClassCleanup(postfix_stop, cls.dir)
        postfix_start(cls.dir,
                      MAIN_CF.format(dir=cls.dir, policyd=cls.policyd.port,
                                     smtputf8=cls.main_cf_smtputf8),
                      MASTER_CF.format(smtp=cls.smtp,
                                       submission=cls.submission)
                      + cls.extra_master_cf)
        wait_port(cls.smtp, banner=True)
        wait_port(cls.submission, banner=True)

    @classmethod
    def maillog(cls) -> str:
        return postfix_maillog(cls.dir)

    # ---- SMTP through Postfix -----------------------------------------

    def session(self, port: int, client: str,
                login: Optional[str] = None) -> smtplib.SMTP:
        return xclient_session(self, port, client, login)

    def rcpt(self, port: int, client: str, rcpt: str,
             sender: str = "someone@example.org",
             login: Optional[str] = None) -> Tuple[int, str]:
        s = self.session(port, client, login)
        code, msg = s.mail(sender)
        self.assertEqual(code, 250, msg)
        code, msg = s.rcpt(rcpt)
        s.rset()
        s.quit()
        return code, msg.decode()

    def assertRefused(self, got: Tuple[int, str], code: int, enhanced: str,
                      text: str) -> None:
        self.assertEqual(got[0], code, got)
        self.assertTrue(got[1].startswith(enhanced + " "), got)
        self.assertIn("Recipient address rejected: " + text, got[1])


class Postfix(PostfixInstance):
    # ---- the relay scenarios -------------------------------------------

    def test_outside_client_relaying_refused(self) -> None:
        self.assertRefused(self.rcpt(self.smtp, OUTSIDE,
                                     "bob@remote.example"),
                           550, "5.7.1", "Relaying prohibited")

    def test_local_recipient_accepted(self) -> None:
        self.assertEqual(self.rcpt(self.smtp, OUTSIDE,
                                   "alice@local.example")[0], 250)
        self.assertRefused(self.rcpt(self.smtp, OUTSIDE,
                                     "zed@local.example"),
                           550, "5.1.1", "User unknown")

    def test_trusted_device_relays(self) -> None:
        self.assertEqual(self.rcpt(self.smtp, DEVICE,
                                   "bob@remote.example")[0], 250)

    def test_deny_list_overrides_grant(self) -> None:
        # 10.1.2.66 is inside the devices granted relay, and denied it.
        self.assertRefused(self.rcpt(self.smtp, QUARANTINED,
                                     "bob@remote.example"),
                           550, "5.7.1", "Relaying prohibited")
        self.assertEqual(self.rcpt(self.smtp, QUARANTINED,
                                   "alice@local.example")[0], 250)
        self.assertRefused(self.rcpt(self.smtp, BLOCKED,
                                     "alice@local.example"),
                           554, "5.7.1", "Access denied")

    def test_authenticated_relay_on_submission(self) -> None:
        self.assertRefused(self.rcpt(self.submission, OUTSIDE,
                                     "bob@remote.example"),
                           530, "5.7.0", "Authentication required")
        self.assertEqual(self.rcpt(self.submission, OUTSIDE,
                                   "bob@remote.example",
                                   sender="alice@local.example",
                                   login="alice")[0], 250)
        # The same login on the gateway port does not relay.
        self.assertRefused(self.rcpt(self.smtp, OUTSIDE,
                                     "bob@remote.example", login="alice"),
                           550, "5.7.1", "Relaying prohibited")

    def test_relay_tricks_and_senders(self) -> None:
        for rcpt in ("user%remote.example@local.example",
                     "remote.example!user@local.example",
                     "user@REMOTE.EXAMPLE."):
            with self.subTest(rcpt=rcpt):
                self.assertRefused(self.rcpt(self.smtp, OUTSIDE, rcpt),
                                   550, "5.7.1", "Relaying prohibited")
        for sender in ("", "admin@local.example"):
            with self.subTest(sender=sender):
                self.assertRefused(self.rcpt(self.smtp, OUTSIDE,
                                             "bob@remote.example",
                                             sender=sender),
                                   550, "5.7.1", "Relaying prohibited")

    def test_whole_message_to_accepted_recipients(self) -> None:
        s = self.session(self.smtp, OUTSIDE)
        s.mail("someone@example.org")
        self.assertEqual(s.rcpt("alice@local.example")[0], 250)
        self.assertEqual(s.rcpt("bob@remote.example")[0], 550)
        self.assertEqual(s.rcpt("bob@local.example")[0], 250)
        code, msg = s.data(b"Subject: test\r\n\r\nhello\r\n")
        self.assertEqual(code, 250, msg)
        s.quit()

    def test_zz_reload_while_postfix_runs(self) -> None:
        new = "10.77.0.1"
        self.assertEqual(self.rcpt(self.smtp, new,
                                   "bob@remote.example")[0], 550)
        self.policy.write_text(self.policy.read_text().replace(
            "10.1.2.0/24", "10.1.2.0/24 %s" % new))
        self.policyd.signal(signal.SIGHUP)
        self.policyd.wait_log("policy reloaded")
        self.assertEqual(self.rcpt(self.smtp, new,
                                   "bob@remote.example")[0], 250)
        # The decisions came from the policy server, with Postfix's facts.
        log = self.policyd.log_text()
        self.assertIn("client=%s server=127.0.0.1:%d" % (new, self.smtp),
                      log)
        self.assertIn("user=alice", log)

    def test_zz_throughput(self) -> None:
        """The policy server's rate with many concurrent clients."""
        out = subprocess.run(
            [binary("RP_POLICYD_LOAD", "relaypolicyd-load"),
             "-c", "64", "-n", "500", "-d", "30", "-C", DEVICE,
             "-s", "127.0.0.1", "-P", str(self.smtp),
             "inet:127.0.0.1:%d" % self.policyd.port],
            capture_output=True, text=True, timeout=300)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        print("\n    policyd load:", out.stdout.strip())



class PostfixSMTPUTF8(PostfixInstance):
    """Postfix with SMTPUTF8: one IDN domain, two spellings."""

    main_cf_smtputf8 = "smtputf8_enable = yes\nstrict_smtputf8 = yes"
    idn_policy = IDN_POLICY

    def utf8_session(self, client: str) -> smtplib.SMTP:
        s = self.session(self.smtp, client)
        self.assertIn("smtputf8", s.esmtp_features)
        code, msg = s.mail("jörg@example.org", ["SMTPUTF8"])
        self.assertEqual(code, 250, msg)
        return s

    def test_both_spellings_accepted(self) -> None:
        s = self.utf8_session(OUTSIDE)
        for rcpt in ("alice@домен.рф", "alice@xn--d1acufc.xn--p1ai",
                     "Alice@ДОМЕН.РФ", "АЛИСА@домен.рф",
                     "bob@тест.рф", "bob@xn--e1aybc.xn--p1ai"):
            with self.subTest(rcpt=rcpt):
                code, msg = s.rcpt(rcpt)
                self.assertEqual(code, 250, (rcpt, msg))
        self.assertRefused((lambda r: (r[0], r[1].decode()))(
            s.rcpt("zed@домен.рф")), 550, "5.1.1", "User unknown")
        # The decisions came from the policy server.
        self.policyd.wait_log(r"from=<j\S*@example\.org> "
                              r"to=<alice@xn--d1acufc\.xn--p1ai>")

    def test_a_message_to_both_spellings(self) -> None:
        s = self.session(self.smtp, OUTSIDE)
        refused = s.sendmail("jörg@example.org",
                             ["alice@домен.рф", "alice@xn--d1acufc.xn--p1ai",
                              "bob@тест.рф"],
                             "Subject: IDN\r\n\r\nhello\r\n".encode(),
                             mail_options=["SMTPUTF8"])
        self.assertEqual(refused, {})

    def test_relaying_to_an_idn_outside_domain_refused(self) -> None:
        s = self.utf8_session(OUTSIDE)
        for rcpt in ("bob@пример.рф", "bob@xn--e1afmkfd.xn--p1ai",
                     "bob%пример.рф@домен.рф", "пример.рф!bob@домен.рф"):
            with self.subTest(rcpt=rcpt):
                code, msg = s.rcpt(rcpt)
                self.assertRefused((code, msg.decode()), 550, "5.7.1",
                                   "Relaying prohibited")
        # A trusted device relays to it, in either spelling.
        s = self.utf8_session(DEVICE)
        for rcpt in ("bob@пример.рф", "bob@xn--e1afmkfd.xn--p1ai"):
            self.assertEqual(s.rcpt(rcpt)[0], 250, rcpt)

    def test_without_smtputf8_only_the_a_label(self) -> None:
        self.assertEqual(self.rcpt(self.smtp, OUTSIDE,
                                   "alice@xn--d1acufc.xn--p1ai")[0], 250)
        s = self.session(self.smtp, OUTSIDE)
        self.assertEqual(s.mail("someone@example.org")[0], 250)
        s.command_encoding = "utf-8"
        code, msg = s.rcpt("alice@домен.рф")
        # strict_smtputf8: Postfix itself refuses it (Postfix 3.7 says
        # 501 5.1.3), before asking the policy.
        self.assertIn(code, (501, 553), msg)
        self.assertNotIn(b"Recipient address rejected", msg)
        # A UTF-8 local part too: the policy server never sees one
        # without SMTPUTF8.
        code, msg = s.rcpt("алиса@xn--d1acufc.xn--p1ai")
        self.assertIn(code, (501, 553), msg)
        self.assertNotIn(b"Recipient address rejected", msg)



def openssl(*args: str) -> str:
    return subprocess.run(["openssl", *args], check=True, capture_output=True,
                          text=True, timeout=TIMEOUT * 4).stdout


def make_cert(ca: Path, out: Path, name: str) -> None:
    """A key and a certificate for CN=name, signed by the CA ca.{pem,key}."""
    openssl("req", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
            str(out) + ".key", "-out", str(out) + ".csr", "-subj",
            "/CN=" + name)
    openssl("x509", "-req", "-in", str(out) + ".csr", "-CA",
            str(ca) + ".pem", "-CAkey", str(ca) + ".key", "-CAcreateserial",
            "-out", str(out) + ".pem", "-days", "2")


def pubkey_sha256(cert: Path) -> str:
    """The SHA-256 of the certificate's public key (SPKI), as openssl's
    pipe in relaypolicy.conf(5) prints it, with colons."""
    pub = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout",
                          "-pubkey"], check=True, capture_output=True,
                         timeout=TIMEOUT).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=pub, check=True, capture_output=True,
                         timeout=TIMEOUT).stdout
    out = subprocess.run(["openssl", "dgst", "-sha256", "-c"], input=der,
                         check=True, capture_output=True,
                         timeout=TIMEOUT).stdout.decode()
    return out.strip().split()[-1]


class PostfixCertificates(PostfixInstance):
    """TLS client certificates and a device scoped to one destination."""

    internet_rules = ("    allow network 10.1.3.0/24 relay to vendor.example "
                      ".vendor.example\n")
    submission_rules = ("    require auth or certificate\n"
                        "    allow certificate roadwarriors relay\n")
    extra_master_cf = "tlsmgr    unix  - - n 1000? 1 tlsmgr\n"

    @classmethod
    def setUpClass(cls) -> None:
        if os.geteuid() == 0 and shutil.which("openssl") is None:
            print("skip: openssl is not installed: run "
                  "scripts/install-deps.sh")
            sys.exit(77)
        certs = Path(tempfile.mkdtemp(prefix="rp-certs-"))
        cls.addClassCleanup(shutil.rmtree, certs, True)
        ca = certs / "ca"
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                str(ca) + ".key", "-out", str(ca) + ".pem", "-days", "2",
                "-subj", "/CN=relaypolicy test CA")
        for name in ("server", "roadwarrior", "stranger"):
            make_cert(ca, certs / name, name)
        cls.certs = certs
        cls.fingerprint = pubkey_sha256(certs / "roadwarrior.pem")
        cls.idn_policy = "certificate roadwarriors %s\n" % cls.fingerprint
        cls.main_cf_smtputf8 = "\n".join([
            "smtputf8_enable = no",
            "smtpd_tls_security_level = may",
            "smtpd_tls_cert_file = %s/server.pem" % certs,
            "smtpd_tls_key_file = %s/server.key" % certs,
            "smtpd_tls_CAfile = %s/ca.pem" % certs,
            "smtpd_tls_ask_ccert = yes",
            "smtpd_tls_fingerprint_digest = sha256",
            "smtpd_tls_loglevel = 1"])
        super().setUpClass()

    def tls_rcpt(self, cert: Optional[str], rcpt: str) -> Tuple[int, str]:
        """RCPT on the submission port after STARTTLS, presenting the
        named certificate (or none)."""
        import ssl
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if cert is not None:
            ctx.load_cert_chain(str(self.certs / (cert + ".pem")),
                                str(self.certs / (cert + ".key")))
        s = smtplib.SMTP("127.0.0.1", self.submission, timeout=TIMEOUT * 2)
        self.addCleanup(s.close)
        self.assertEqual(s.ehlo("roadwarrior.test")[0], 250)
        code, msg = s.starttls(context=ctx)
        self.assertEqual(code, 220, msg)
        self.assertEqual(s.ehlo("roadwarrior.test")[0], 250)
        code, msg = s.mail("someone@example.org")
        self.assertEqual(code, 250, msg)
        code, msg = s.rcpt(rcpt)
        s.rset()
        s.quit()
        return code, msg.decode()

    def test_certificate_relays(self) -> None:
        self.assertEqual(self.tls_rcpt("roadwarrior", "bob@remote.example"),
                         (250, "2.1.5 Ok"), self.maillog())

    def test_unknown_certificate_or_none_needs_a_login(self) -> None:
        for cert in ("stranger", None):
            self.assertRefused(self.tls_rcpt(cert, "bob@remote.example"),
                               530, "5.7.0", "Authentication required")

    def test_scoped_device(self) -> None:
        for rcpt in ("orders@vendor.example", "help@eu.vendor.example"):
            self.assertEqual(self.rcpt(self.smtp, "10.1.3.5", rcpt)[0], 250,
                             rcpt)
        self.assertRefused(self.rcpt(self.smtp, "10.1.3.5",
                                     "bob@remote.example"),
                           550, "5.7.1", "Relaying prohibited")
        self.assertRefused(self.rcpt(self.smtp, OUTSIDE,
                                     "orders@vendor.example"),
                           550, "5.7.1", "Relaying prohibited")


if __name__ == "__main__":
    unittest.main()
