"""smtpd-mini over a real socket: the SMTP dialogue, AUTH PLAIN, and the
public scanners' open-relay patterns (relaypolicy(7) §6), all refused.

Needs RP_SMTPD_MINI (set by examples/CMakeLists.txt).
"""

import base64
import os
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
import unittest
from pathlib import Path
from typing import List, Tuple

TIMEOUT = 30.0

POLICY = """\
domain local.example local recipients alice bob admin
domain домен.рф local recipients alice алиса
listener gateway {{
    bind 127.0.0.1:{smtp}
    role gateway
}}
listener submission {{
    bind 127.0.0.1:{submission}
    role submission
}}
"""

# The server's own address and domain, as the scanners use them.
IP = "127.0.0.1"
DOMAIN = "local.example"
REMOTE = "remote.example"

# relaypolicy(7) §6, written for this server.
SPEC6 = [
    "<user@remote.example>",
    "<user%remote.example@local.example>",
    "<remote.example!user@local.example>",
    "<user@remote.example@local.example>",
    '<"user@remote.example"@local.example>',
    '<"user%remote.example"@local.example>',
    "<@local.example:user@remote.example>",
    "<@local.example,@x:user@remote.example>",
    "<user@[203.0.113.50]>",
    "<user%remote.example@[127.0.0.1]>",
    '<"user%remote.example">',
    "<remote.example!user>",
    "<user@remote.example@>",
    "<user@REMOTE.EXAMPLE.>",
    "<USER%Remote.Example@LOCAL.EXAMPLE.>",
]

# nmap smtp-open-relay's recipient forms ([ip] and domain are the
# server's), with its three senders.
NMAP_RCPTS = [
    "<relaytest@{r}>", "<relaytest%{r}@[{ip}]>", "<relaytest%{r}@{d}>",
    '<"relaytest@{r}">', '<"relaytest%{r}">', "<relaytest@{r}@[{ip}]>",
    '<"relaytest@{r}"@[{ip}]>', "<relaytest@{r}@{d}>",
    "<@[{ip}]:relaytest@{r}>", "<@{d}:relaytest@{r}>", "<{r}!relaytest>",
    "<{r}!relaytest@[{ip}]>", "<{r}!relaytest@{d}>",
]
NMAP_SENDERS = ["<>", "<antispam@[{ip}]>", "<antispam@{d}>"]


def free_ports(n: int) -> List[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Dialogue:
    """A raw SMTP client: send a line, read one (multi-line) reply."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), TIMEOUT)
        self.buf = b""
        self.greeting = self.read()

    def read(self) -> Tuple[int, str]:
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(4096)
                if not chunk:
                    raise ConnectionError("closed after %r" % lines)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode())
            if len(line) < 4 or line[3:4] != b"-":
                return int(lines[-1][:3]), "\n".join(l[4:] for l in lines)

    def cmd(self, line: str) -> Tuple[int, str]:
        self.sock.sendall(line.encode() + b"\r\n")
        return self.read()

    def close(self) -> None:
        self.sock.close()


class SmtpdMini(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        binary = os.environ.get("RP_SMTPD_MINI")
        if not binary:
            raise RuntimeError("set RP_SMTPD_MINI to the built smtpd-mini")
        cls.tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(cls.tmp.cleanup)
        d = Path(cls.tmp.name)
        cls.smtp, cls.submission = free_ports(2)
        (d / "policy.conf").write_text(POLICY.format(
            smtp=cls.smtp, submission=cls.submission))
        (d / "users").write_text("# test accounts\nalice:secret\n")
        cls.log = open(d / "log", "wb")
        cls.addClassCleanup(cls.log.close)
        cls.proc = subprocess.Popen(
            [binary, "-p", str(d / "policy.conf"), "-u", str(d / "users"),
             "-l", "127.0.0.1:%d" % cls.smtp,
             "-l", "127.0.0.1:%d" % cls.submission, "-n", "mini.test"],
            stdout=cls.log, stderr=subprocess.STDOUT)
        cls.addClassCleanup(cls.stop)
        cls.log_path = d / "log"
        deadline = time.monotonic() + TIMEOUT
        while b"ready" not in cls.log_path.read_bytes():
            if cls.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("smtpd-mini did not start: %s"
                                   % cls.log_path.read_text())
            time.sleep(0.02)

    @classmethod
    def stop(cls) -> None:
        if cls.proc.poll() is None:
            cls.proc.send_signal(signal.SIGTERM)
            try:
                cls.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                cls.proc.kill()
                cls.proc.wait(TIMEOUT)

    def dialogue(self, port: int = 0) -> Dialogue:
        d = Dialogue(port or self.smtp)
        self.addCleanup(d.close)
        self.assertEqual(d.greeting[0], 220)
        self.assertEqual(d.cmd("EHLO scanner.test")[0], 250)
        return d

    def assert_refused(self, sender: str, rcpt: str) -> None:
        d = self.dialogue()
        self.assertEqual(d.cmd("MAIL FROM:%s" % sender)[0], 250)
        code, text = d.cmd("RCPT TO:%s" % rcpt)
        self.assertIn(code, (550, 501), "%s %s -> %d %s"
                      % (sender, rcpt, code, text))
        self.assertRegex(text, r"^5\.(7\.1|1\.3) ")
        # And no message can follow.
        self.assertEqual(d.cmd("DATA")[0], 554)

    # ---- the open-relay patterns --------------------------------------

    def test_spec6_patterns_refused(self) -> None:
        for rcpt in SPEC6:
            for sender in ("<someone@example.org>", "<>",
                           "<admin@local.example>", "<user@[127.0.0.1]>"):
                with self.subTest(rcpt=rcpt, sender=sender):
                    self.assert_refused(sender, rcpt)

    def test_nmap_patterns_refused(self) -> None:
        for sender in NMAP_SENDERS:
            for rcpt in NMAP_RCPTS:
                s = sender.format(ip=IP, d=DOMAIN)
                r = rcpt.format(ip=IP, d=DOMAIN, r=REMOTE)
                with self.subTest(sender=s, rcpt=r):
                    self.assert_refused(s, r)

    def test_one_session_many_attempts(self) -> None:
        """A scanner reusing one session with RSET gets nowhere either."""
        d = self.dialogue()
        for rcpt in SPEC6:
            self.assertEqual(d.cmd("MAIL FROM:<>")[0], 250)
            self.assertIn(d.cmd("RCPT TO:" + rcpt)[0], (550, 501), rcpt)
            self.assertEqual(d.cmd("RSET")[0], 250)

    # ---- the dialogue ---------------------------------------------------

    def test_telnet_session(self) -> None:
        """The classic telnet relay test, typed over the socket."""
        d = self.dialogue()
        self.assertEqual(d.cmd("MAIL FROM:<someone@example.org>"),
                         (250, "2.1.0 OK"))
        self.assertEqual(d.cmd("RCPT TO:<bob@remote.example>"),
                         (550, "5.7.1 <bob@remote.example>: "
                               "Relaying prohibited"))
        self.assertEqual(d.cmd("RCPT TO:<zed@local.example>"),
                         (550, "5.1.1 <zed@local.example>: User unknown"))
        self.assertEqual(d.cmd("RCPT TO:<alice@local.example>"),
                         (250, "2.1.5 OK"))
        self.assertEqual(d.cmd("DATA")[0], 354)
        d.sock.sendall(b"Subject: test\r\n\r\nhello\r\n..dot\r\n.\r\n")
        code, text = d.read()
        self.assertEqual(code, 250, text)
        self.assertIn("discarded", text)
        self.assertEqual(d.cmd("NOOP")[0], 250)
        self.assertEqual(d.cmd("QUIT")[0], 221)

    def test_smtplib(self) -> None:
        with smtplib.SMTP("127.0.0.1", self.smtp, timeout=TIMEOUT) as s:
            refused = s.sendmail("someone@example.org",
                                 ["alice@local.example", "x@remote.example"],
                                 b"Subject: x\r\n\r\nbody\r\n")
            self.assertEqual(list(refused), ["x@remote.example"])
            self.assertEqual(refused["x@remote.example"][0], 550)

    def test_smtputf8(self) -> None:
        # Advertised; with it on MAIL FROM both spellings of an IDN domain
        # and UTF-8 local parts are decided (relaypolicy(7) section 2).
        with smtplib.SMTP("127.0.0.1", self.smtp, timeout=TIMEOUT) as s:
            s.ehlo("client.test")
            self.assertTrue(s.has_extn("smtputf8"), s.esmtp_features)
            self.assertEqual(s.mail("jörg@example.org",
                                    ["SMTPUTF8", "BODY=8BITMIME"])[0], 250)
            for rcpt in ("alice@домен.рф", "Alice@ДОМЕН.РФ",
                         "alice@xn--d1acufc.xn--p1ai", "АЛИСА@домен.рф"):
                self.assertEqual(s.rcpt(rcpt)[0], 250, rcpt)
            code, msg = s.rcpt("x@пример.рф")
            self.assertEqual(code, 550, msg)
            self.assertIn(b"5.7.1", msg)
            self.assertEqual(s.rcpt("x@xn--e1afmkfd.xn--p1ai")[0], 550)
        d = Dialogue(self.smtp)
        self.addCleanup(d.close)
        self.assertEqual(d.cmd("EHLO client.test")[0], 250)
        # Without it only the A-label spelling (553 5.6.7 otherwise); a
        # refused MAIL FROM leaves no SMTPUTF8 behind.
        for mail in ("MAIL FROM:<a@example.org>",
                     "MAIL FROM:<a@example.org> SMTPUTF8 FOO=1"):
            code, _ = d.cmd(mail)
            if code != 250:
                self.assertEqual(code, 555)
                self.assertEqual(d.cmd("MAIL FROM:<a@example.org>")[0], 250)
            code, text = d.cmd("RCPT TO:<alice@домен.рф>")
            self.assertEqual(code, 553, text)
            self.assertTrue(text.startswith("5.6.7 "), text)
            self.assertEqual(d.cmd("RCPT TO:<alice@xn--d1acufc.xn--p1ai>")[0],
                             250)
            self.assertEqual(d.cmd("RSET")[0], 250)
        self.assertEqual(d.cmd("MAIL FROM:<a@example.org> smtputf8")[0], 250)
        self.assertEqual(d.cmd("RCPT TO:<alice@домен.рф>")[0], 250)

    def test_sequencing_and_syntax(self) -> None:
        d = Dialogue(self.smtp)
        self.addCleanup(d.close)
        self.assertEqual(d.cmd("MAIL FROM:<a@example.org>")[0], 503)
        self.assertEqual(d.cmd("HELO client.test")[0], 250)
        self.assertEqual(d.cmd("RCPT TO:<alice@local.example>")[0], 503)
        self.assertEqual(d.cmd("DATA")[0], 503)
        self.assertEqual(d.cmd("MAIL FROM:")[0], 501)
        self.assertEqual(d.cmd("MAIL FROM:<a@example.org>")[0], 250)
        self.assertEqual(d.cmd("MAIL FROM:<a@example.org>")[0], 503)
        self.assertEqual(d.cmd("RCPT TO:<unterminated")[0], 501)
        self.assertEqual(d.cmd("BOGUS")[0], 500)
        self.assertEqual(d.cmd("X" * 5000)[0], 500)
        self.assertEqual(d.cmd("RSET")[0], 250)
        self.assertEqual(d.cmd("RCPT TO:<alice@local.example>")[0], 503)
        self.assertEqual(d.cmd("QUIT")[0], 221)

    def test_bad_syntax_is_501(self) -> None:
        d = self.dialogue()
        d.cmd("MAIL FROM:<a@example.org>")
        code, text = d.cmd("RCPT TO:<a@@local.example>")
        self.assertEqual(code, 501, text)
        self.assertTrue(text.startswith("5.1.3 "), text)

    def test_garbage_does_not_kill_the_server(self) -> None:
        with socket.create_connection(("127.0.0.1", self.smtp),
                                      TIMEOUT) as s:
            s.sendall(bytes(range(256)) * 40 + b"\r\n" + b"\0\r\n" * 10)
        d = self.dialogue()
        self.assertEqual(d.cmd("NOOP")[0], 250)
        self.assertIsNone(self.proc.poll())

    # ---- authentication ---------------------------------------------------

    @staticmethod
    def plain(user: str, password: str) -> str:
        return base64.b64encode(("\0%s\0%s" % (user, password))
                                .encode()).decode()

    def test_submission_requires_auth(self) -> None:
        d = self.dialogue(self.submission)
        d.cmd("MAIL FROM:<alice@local.example>")
        self.assertEqual(d.cmd("RCPT TO:<bob@remote.example>"),
                         (530, "5.7.0 Authentication required"))

    def test_auth_plain_relays_on_submission(self) -> None:
        d = self.dialogue(self.submission)
        self.assertEqual(d.cmd("AUTH PLAIN " + self.plain("alice", "secret")),
                         (235, "2.7.0 Authentication successful"))
        d.cmd("MAIL FROM:<alice@local.example>")
        self.assertEqual(d.cmd("RCPT TO:<bob@remote.example>"),
                         (250, "2.1.5 OK"))

    def test_auth_plain_continuation_and_failure(self) -> None:
        d = self.dialogue(self.submission)
        self.assertEqual(d.cmd("AUTH PLAIN")[0], 334)
        self.assertEqual(d.cmd(self.plain("alice", "wrong"))[0], 535)
        self.assertEqual(d.cmd("AUTH PLAIN")[0], 334)
        self.assertEqual(d.cmd("*")[0], 501)
        self.assertEqual(d.cmd("AUTH PLAIN !!!")[0], 501)
        self.assertEqual(d.cmd("AUTH LOGIN")[0], 504)
        d.cmd("MAIL FROM:<alice@local.example>")
        self.assertEqual(d.cmd("RCPT TO:<bob@remote.example>")[0], 530)

    def test_smtplib_login(self) -> None:
        with smtplib.SMTP("127.0.0.1", self.submission,
                          timeout=TIMEOUT) as s:
            s.login("alice", "secret")
            self.assertEqual(s.sendmail("alice@local.example",
                                        ["bob@remote.example"],
                                        b"Subject: x\r\n\r\nbody\r\n"), {})

    def test_authenticated_user_cannot_relay_on_gateway(self) -> None:
        d = self.dialogue(self.smtp)
        self.assertEqual(d.cmd("AUTH PLAIN " + self.plain("alice",
                                                          "secret"))[0], 235)
        d.cmd("MAIL FROM:<alice@local.example>")
        self.assertEqual(d.cmd("RCPT TO:<bob@remote.example>")[0], 550)

    def test_many_clients(self) -> None:
        ds = [Dialogue(self.smtp) for _ in range(60)]
        try:
            for d in ds:
                self.assertEqual(d.cmd("HELO c.test")[0], 250)
                d.cmd("MAIL FROM:<>")
                self.assertEqual(d.cmd("RCPT TO:<x@remote.example>")[0], 550)
        finally:
            for d in ds:
                d.close()


if __name__ == "__main__":
    unittest.main()
