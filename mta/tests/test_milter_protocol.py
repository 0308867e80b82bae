"""relaypolicy-milter driven over the milter protocol, as an MTA drives it.

A protocol-level test (no MTA): milter_client.Milter plays Sendmail or
Postfix, with each MTA's way of writing the macros, and checks the milter's
answer to every stage, its exact replies, its log, and SIGHUP reloading.
"""

import signal
import shutil
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from mtalib import Daemon, binary, free_ports
from milter_client import Milter, MilterError, SMFIF_SETSYMLIST

POLICY = """\
domain local.example local recipients alice bob admin
network devices     10.1.2.0/24
network quarantined 10.1.2.66
listener internet {
    bind 192.0.2.1:25 [2001:db8::1]:25
    role gateway
    allow network devices relay
    deny  network quarantined relay
}
listener submission {
    bind 192.0.2.1:587
    role submission
}
deny client 198.51.100.0/24
domain домен.рф local recipients alice
"""

OUTSIDE = "203.0.113.9"
DEVICE = "10.1.2.3"

# How Postfix writes the connect macros, and how Sendmail does.
POSTFIX_CONNECT = {"j": "mx.test", "v": "Postfix 3.7.11",
                   "{daemon_addr}": "192.0.2.1",
                   "{daemon_port}": "25", "{client_addr}": OUTSIDE}
SENDMAIL_CONNECT = {"j": "mx.test", "v": "8.17.1.9",
                    "{daemon_addr}": "0.0.0.0",
                    "{daemon_port}": "25", "{if_addr}": "192.0.2.1",
                    "{client_addr}": OUTSIDE}


class MilterProtocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.dir = Path(tempfile.mkdtemp(prefix="rp-milter-"))
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.policy = cls.dir / "policy.conf"
        cls.policy.write_text(POLICY)
        (cls.port,) = free_ports(1)
        cls.milter = Daemon(
            [binary("RP_MILTER", "relaypolicy-milter"), "-p", str(cls.policy),
             "-l", "inet:%d@127.0.0.1" % cls.port, "-t", "10"],
            cls.dir / "milter.log", ready="listening on")
        cls.addClassCleanup(cls.milter.stop)

    def session(self, client: str = OUTSIDE, connect=None,
                port: str = "25") -> Milter:
        m = Milter(self.port)
        self.addCleanup(m.close)
        m.negotiate()
        macros = dict(connect or POSTFIX_CONNECT)
        macros["{daemon_port}"] = port
        self.assertEqual(m.connect(client, macros=macros), "continue")
        self.assertEqual(m.helo("client.test"), "continue")
        return m

    def rcpt(self, rcpt: str, client: str = OUTSIDE, sender="<a@example.org>",
             user=None, port="25", connect=None) -> str:
        m = self.session(client, connect, port)
        mail_macros = {"i": "ABC123"}
        if user:
            mail_macros["{auth_authen}"] = user
        self.assertEqual(m.mail([sender], mail_macros), "continue")
        return m.rcpt(rcpt)

    # ---- negotiation ---------------------------------------------------

    def test_negotiation_asks_for_the_macros_and_skips_content(self) -> None:
        m = Milter(self.port)
        self.addCleanup(m.close)
        m.negotiate()
        self.assertIn("{daemon_port}", m.requested[0])
        self.assertIn("{if_addr}", m.requested[0])
        self.assertIn("{auth_authen}", m.requested[2])
        # No body, headers, end of headers, unknown commands or DATA.
        self.assertEqual(m.protocol & 0x370, 0x370)
        m2 = Milter(self.port)
        self.addCleanup(m2.close)
        m2.negotiate(actions=0x1FF & ~SMFIF_SETSYMLIST)
        self.assertEqual(m2.requested, {})

    # ---- decisions -----------------------------------------------------

    def test_outside_relaying_refused_with_the_library_reply(self) -> None:
        self.assertEqual(self.rcpt("<bob@remote.example>"),
                         "550 5.7.1 <bob@remote.example>: Relaying prohibited")

    def test_local_delivery_and_unknown_user(self) -> None:
        self.assertEqual(self.rcpt("<alice@local.example>"), "continue")
        self.assertEqual(self.rcpt("<zed@local.example>"),
                         "550 5.1.1 <zed@local.example>: User unknown")

    def test_trusted_network_relays_deny_wins(self) -> None:
        self.assertEqual(self.rcpt("<bob@remote.example>", client=DEVICE),
                         "continue")
        self.assertTrue(self.rcpt("<bob@remote.example>",
                                  client="10.1.2.66").startswith("550 5.7.1"))
        self.assertEqual(self.rcpt("<alice@local.example>",
                                   client="198.51.100.7"),
                         "554 5.7.1 Access denied")

    def test_submission_needs_the_login(self) -> None:
        self.assertEqual(self.rcpt("<bob@remote.example>", port="587"),
                         "530 5.7.0 Authentication required")
        self.assertEqual(self.rcpt("<bob@remote.example>", port="587",
                                   user="alice"), "continue")
        self.assertTrue(self.rcpt("<bob@remote.example>", user="alice")
                        .startswith("550 5.7.1"))

    def test_sendmail_macros_and_ipv6(self) -> None:
        self.assertEqual(self.rcpt("<alice@local.example>",
                                   connect=SENDMAIL_CONNECT), "continue")
        v6 = {"v": "8.17.1.9", "{daemon_addr}": "IPv6:::",
              "{daemon_port}": "25", "{if_addr}": "IPv6:2001:db8::1"}
        # Sendmail names the recipient itself: the milter leaves out the
        # library's "<rcpt>: " for it.
        self.assertEqual(self.rcpt("<bob@remote.example>",
                                   client="2001:db8:99::5", connect=v6),
                         "550 5.7.1 Relaying prohibited")

    def test_routing_tricks_and_percent_in_replies(self) -> None:
        for rcpt in ("user%remote.example@local.example",
                     "remote.example!user@local.example",
                     '"user@remote.example"@local.example',
                     "@local.example:user@remote.example",
                     "user@REMOTE.EXAMPLE."):
            with self.subTest(rcpt=rcpt):
                got = self.rcpt("<%s>" % rcpt)
                self.assertRegex(got, r"^550 5\.7\.1 <.*>: Relaying "
                                 r"prohibited$")
                # libmilter passes the text on with every '%' doubled, the
                # escape Sendmail and Postfix undo.
                self.assertEqual("%" in rcpt, "%%" in got)
                self.assertNotRegex(got.replace("%%", ""), "%")
        for sender in ("<>", "<admin@local.example>"):
            with self.subTest(sender=sender):
                self.assertTrue(self.rcpt("<bob@remote.example>",
                                          sender=sender)
                                .startswith("550 5.7.1"))

    def test_missing_facts_fail_closed(self) -> None:
        wildcard = {"{daemon_addr}": "0.0.0.0", "{daemon_port}": "25"}
        no_port = {"{daemon_addr}": "192.0.2.1"}
        for macros in (wildcard, no_port, {}):
            with self.subTest(macros=macros):
                m = Milter(self.port)
                self.addCleanup(m.close)
                m.negotiate()
                m.macros(b"C", macros)
                m.send(b"C", b"[c]\x004" + b"\x9c\x40" + DEVICE.encode() +
                       b"\0")
                self.assertEqual(Milter.answer(*m.recv()), "continue")
                m.mail(["<a@example.org>"])
                self.assertEqual(m.rcpt("<alice@local.example>"),
                                 "451 4.3.0 Policy service unavailable")
        self.milter.wait_log("no local (address|port)")

    def test_smtputf8_from_the_mail_parameters(self) -> None:
        # MAIL FROM's ESMTP parameters follow the sender in the arguments.
        m = self.session()
        self.assertEqual(m.mail(["<jörg@example.org>", "BODY=8BITMIME",
                                 "smtputf8"]), "continue")
        for rcpt in ("<alice@домен.рф>", "<alice@xn--d1acufc.xn--p1ai>"):
            self.assertEqual(m.rcpt(rcpt), "continue", rcpt)
        self.assertRegex(m.rcpt("<bob@пример.рф>"),
                         r"^550 5\.7\.1 .*Relaying prohibited$")
        # The next transaction without it: only the A-label spelling.
        m.abort()
        self.assertEqual(m.mail(["<a@example.org>", "BODY=8BITMIME"]),
                         "continue")
        self.assertRegex(m.rcpt("<alice@домен.рф>"),
                         r"^553 5\.6\.7 .*SMTPUTF8 required$")
        self.assertEqual(m.rcpt("<alice@xn--d1acufc.xn--p1ai>"), "continue")

    def test_transactions_reset(self) -> None:
        m = self.session(DEVICE)
        m.mail(["<a@example.org>"], {"{auth_authen}": "alice"})
        m.abort()
        m.mail(["<b@example.org>"])
        self.assertEqual(m.rcpt("<bob@remote.example>"), "continue")

    def test_garbage_closes_only_that_connection(self) -> None:
        m = Milter(self.port)
        self.addCleanup(m.close)
        m.sock.sendall(b"\xff\xff\xff\xffjunk")
        with self.assertRaises((MilterError, OSError)):
            m.negotiate()
        self.assertEqual(self.rcpt("<alice@local.example>"), "continue")

    def test_certificate_subject_is_logged(self) -> None:
        m = Milter(self.port)
        self.addCleanup(m.close)
        m.negotiate()
        m.connect(DEVICE, macros=POSTFIX_CONNECT)
        m.helo("client.test", {"{tls_version}": "TLSv1.3",
                               "{cert_subject}": "CN=printer.example"})
        m.mail(["<a@example.org>"])
        self.assertEqual(m.rcpt("<alice@local.example>"), "continue")
        self.milter.wait_log(r"client=10\.1\.2\.3 .* rule=\S+ "
                             r"cert=CN=printer\.example")

    def test_log_names_the_rule(self) -> None:
        self.rcpt("<bob@remote.example>", client=DEVICE)
        self.milter.wait_log(r"client=10\.1\.2\.3 server=192\.0\.2\.1:25 .*"
                             r"to=<bob@remote\.example>: RELAY 250 "
                             r"\(relayed\) listener=internet rule=\S+"
                             r"policy\.conf:7")

    def test_zz_reload(self) -> None:
        self.assertTrue(self.rcpt("<bob@remote.example>", client="10.77.0.1")
                        .startswith("550"))
        self.policy.write_text(POLICY.replace("10.1.2.0/24",
                                              "10.1.2.0/24 10.77.0.1"))
        self.milter.signal(signal.SIGHUP)
        self.milter.wait_log("policy reloaded")
        self.assertEqual(self.rcpt("<bob@remote.example>",
                                   client="10.77.0.1"), "continue")
        # A policy that does not compile leaves the old one in force.
        self.policy.write_text("listener {\n")
        for _ in range(5):
            self.milter.signal(signal.SIGHUP)
            time.sleep(0.05)
        self.milter.wait_log("reload failed")
        self.assertEqual(self.rcpt("<bob@remote.example>",
                                   client="10.77.0.1"), "continue")
        self.assertIsNone(self.milter.proc.poll(), "SIGHUP stopped the milter")
        self.policy.write_text(POLICY)


if __name__ == "__main__":
    unittest.main()
