"""relaypolicy-opensmtpd driven over smtpd-filters(7), as smtpd drives it.

A protocol-level test (no MTA): the filter runs with pipes for standard
input and output, gets smtpd's configuration lines, reports and rcpt-to
requests in protocol versions 0.5, 0.6 (Debian's OpenSMTPD 6.8) and 0.7,
and must answer each request with the library's exact reply.
"""

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from mtalib import TIMEOUT, binary

POLICY = """\
domain local.example local recipients alice bob admin
network devices 10.1.2.0/24
listener internet {
    bind 192.0.2.1:25 [2001:db8::1]:25
    role gateway
    allow network devices relay
}
listener submission {
    bind 192.0.2.1:587
    role submission
}
domain домен.рф local recipients alice
"""

REGISTERED = [
    "register|report|smtp-in|link-connect",
    "register|report|smtp-in|link-disconnect",
    "register|report|smtp-in|link-identify",
    "register|report|smtp-in|link-auth",
    "register|report|smtp-in|link-tls",
    "register|report|smtp-in|tx-mail",
    "register|report|smtp-in|tx-reset",
    "register|report|smtp-in|protocol-client",
    "register|filter|smtp-in|rcpt-to",
    "register|ready",
]


class Filter:
    def __init__(self, policy: Path, log: Path):
        self.log = open(log, "ab")
        self.proc = subprocess.Popen(
            [binary("RP_OPENSMTPD_FILTER", "relaypolicy-opensmtpd"), "-p",
             str(policy)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log)
        self.buf = b""
        self.token = 0

    def send(self, *lines: str) -> None:
        self.proc.stdin.write("".join(l + "\n" for l in lines).encode())
        self.proc.stdin.flush()

    def read_lines(self, n: int) -> List[str]:
        deadline = time.monotonic() + TIMEOUT
        while self.buf.count(b"\n") < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [],
                                              left)[0]:
                raise AssertionError("no answer; got %r" % self.buf)
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise AssertionError("filter exited; got %r" % self.buf)
            self.buf += chunk
        lines = self.buf.split(b"\n")
        self.buf = b"\n".join(lines[n:])
        return [l.decode() for l in lines[:n]]

    def start(self) -> List[str]:
        self.send("config|smtpd-version|6.8.0", "config|smtp-session-timeout|300",
                  "config|subsystem|smtp-in", "config|ready")
        return self.read_lines(len(REGISTERED))

    def report(self, event: str, session: str, params: str,
               version: str = "0.6") -> None:
        self.send("report|%s|1576146008.006099|smtp-in|%s|%s%s" % (
            version, event, session, "|" + params if params else ""))

    def rcpt(self, session: str, address: str, version: str = "0.6") -> str:
        self.token += 1
        token = "%016x" % self.token
        self.send("filter|%s|1576146008.006099|smtp-in|rcpt-to|%s|%s|%s" % (
            version, session, token, address))
        (line,) = self.read_lines(1)
        prefix = "filter-result|%s|%s|" % (session, token)
        assert line.startswith(prefix), line
        return line[len(prefix):]

    def connect(self, session: str, src: str, dest: str,
                version: str = "0.6") -> None:
        self.report("link-connect", session,
                    "client.test|pass|%s|%s" % (src, dest), version)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(TIMEOUT)
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass
        self.log.close()
        return self.proc.returncode


RELAY_DENIED = "reject|550 5.7.1 <bob@remote.example>: Relaying prohibited"


class FilterProtocol(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="rp-osf-"))
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.policy = self.dir / "policy.conf"
        self.policy.write_text(POLICY)
        self.f = Filter(self.policy, self.dir / "filter.log")
        self.addCleanup(self.f.stop)
        self.assertEqual(self.f.start(), REGISTERED)

    def log(self) -> str:
        return (self.dir / "filter.log").read_text(errors="replace")

    def test_decisions_with_the_library_reply(self) -> None:
        f = self.f
        f.connect("a1", "203.0.113.9:40000", "192.0.2.1:25")
        f.report("tx-mail", "a1", "00000001|ok|someone@example.org")
        self.assertEqual(f.rcpt("a1", "<bob@remote.example>"), RELAY_DENIED)
        self.assertEqual(f.rcpt("a1", "<alice@local.example> NOTIFY=NEVER"),
                         "proceed")
        self.assertEqual(f.rcpt("a1", "<zed@local.example>"),
                         "reject|550 5.1.1 <zed@local.example>: User unknown")
        self.assertRegex(f.rcpt("a1", "<user%remote.example@local.example>"),
                         r"^reject\|550 5\.7\.1 .*Relaying prohibited$")
        self.assertRegex(f.rcpt("a1", '<"a b>c"@remote.example> X=Y'),
                         r"^reject\|550 5\.7\.1 ")
        f.connect("a2", "10.1.2.3:40000", "192.0.2.1:25")
        self.assertEqual(f.rcpt("a2", "<bob@remote.example>"), "proceed")
        f.connect("a3", "[2001:db8:9::1]:40000", "[2001:db8::1]:25")
        self.assertEqual(f.rcpt("a3", "<bob@remote.example>"), RELAY_DENIED)

    def test_login_in_each_protocol_version(self) -> None:
        f = self.f
        for version, auth in (("0.6", "alice|pass"), ("0.7", "pass|alice"),
                              ("0.5", "alice|pass")):
            with self.subTest(version=version):
                s = "b" + version[-1]
                f.connect(s, "203.0.113.9:40000", "192.0.2.1:587", version)
                self.assertEqual(f.rcpt(s, "<bob@remote.example>", version),
                                 "reject|530 5.7.0 Authentication required")
                f.report("link-auth", s, auth, version)
                self.assertEqual(f.rcpt(s, "<bob@remote.example>", version),
                                 "proceed")
        f.connect("b9", "203.0.113.9:40000", "192.0.2.1:587")
        f.report("link-auth", "b9", "mallory|fail")
        self.assertEqual(f.rcpt("b9", "<bob@remote.example>"),
                         "reject|530 5.7.0 Authentication required")

    def test_sender_in_each_protocol_version(self) -> None:
        f = self.f
        f.connect("c1", "203.0.113.9:40000", "192.0.2.1:25", "0.5")
        f.report("tx-mail", "c1", "00000001|someone@example.org|ok", "0.5")
        f.rcpt("c1", "<alice@local.example>", "0.5")
        f.report("tx-mail", "c1", "00000002|ok|other@example.org")
        f.rcpt("c1", "<alice@local.example>")
        f.report("tx-reset", "c1", "00000002")
        f.rcpt("c1", "<alice@local.example>")
        log = self.log()
        self.assertIn("from=<someone@example.org> to=<alice@local.example>",
                      log)
        self.assertIn("from=<other@example.org> to=<alice@local.example>",
                      log)
        self.assertIn("from=<> to=<alice@local.example>", log)

    def test_smtputf8_from_the_mail_command(self) -> None:
        # tx-mail drops MAIL FROM's parameters: SMTPUTF8 is read from the
        # command (protocol-client), reported just before it.
        f = self.f
        f.connect("f1", "203.0.113.9:40000", "192.0.2.1:25")
        for command, given in (
                ("MAIL FROM:<jörg@example.org> BODY=8BITMIME SMTPUTF8", True),
                ("MAIL FROM:<a@example.org>", False),
                ("mail from: <a@example.org> smtputf8", True),
                ('MAIL FROM:<"x> SMTPUTF8"@example.org>', False),
                ("MAIL FROM:<a@example.org> SMTPUTF8=X", False)):
            with self.subTest(command=command):
                f.report("protocol-client", "f1", command)
                f.report("tx-mail", "f1", "00000001|ok|a@example.org")
                self.assertEqual(f.rcpt("f1", "<alice@xn--d1acufc.xn--p1ai>"),
                                 "proceed")
                reply = f.rcpt("f1", "<alice@домен.рф>")
                if given:
                    self.assertEqual(reply, "proceed")
                    self.assertRegex(f.rcpt("f1", "<bob@пример.рф>"),
                                     r"^reject\|550 5\.7\.1 .*Relaying")
                else:
                    self.assertRegex(reply, r"^reject\|553 5\.6\.7 ")
                f.report("tx-reset", "f1", "00000001")
        # Another command between MAIL and RCPT changes nothing; a reset
        # transaction forgets it.
        f.report("protocol-client", "f1", "MAIL FROM:<a@example.org> SMTPUTF8")
        f.report("tx-mail", "f1", "00000002|ok|a@example.org")
        f.report("protocol-client", "f1", "RCPT TO:<alice@домен.рф>")
        self.assertEqual(f.rcpt("f1", "<alice@домен.рф>"), "proceed")
        f.report("tx-reset", "f1", "00000002")
        self.assertRegex(f.rcpt("f1", "<alice@домен.рф>"),
                         r"^reject\|553 5\.6\.7 ")

    def test_missing_facts_fail_closed(self) -> None:
        f = self.f
        tempfail = "reject|451 4.3.0 Policy service unavailable"
        self.assertEqual(f.rcpt("d0", "<alice@local.example>"), tempfail)
        f.report("link-connect", "d1",
                 "localhost|pass|unix:/var/run/smtpd.sock|"
                 "unix:/var/run/smtpd.sock")
        self.assertEqual(f.rcpt("d1", "<alice@local.example>"), tempfail)
        f.connect("d2", "203.0.113.9:40000", "192.0.2.1:25")
        f.report("link-disconnect", "d2", "")
        self.assertEqual(f.rcpt("d2", "<alice@local.example>"), tempfail)
        f.connect("d3", "203.0.113.9:40000", "192.0.2.1:25")
        self.assertEqual(f.rcpt("d3", "<" + "x" * 70000 + "@local.example>"),
                         tempfail)
        self.assertEqual(f.rcpt("d3", "<alice@local.example>"), "proceed")
        self.assertIn("over-long line", self.log())

    def test_protocol_errors_stop_the_filter(self) -> None:
        self.f.send("filter|0.4|1.0|smtp-in|rcpt-to|e1|t1|<a@b>")
        self.assertEqual(self.f.proc.wait(TIMEOUT), 1)
        self.assertIn("not supported", self.log())

    def test_nul_byte_stops_the_filter(self) -> None:
        self.f.send("report|0.6|1.0|smtp-in|link-identify|e1|helo|a\0b")
        self.assertEqual(self.f.proc.wait(TIMEOUT), 1)

    def test_end_of_input_is_a_clean_exit(self) -> None:
        self.assertEqual(self.f.stop(), 0)

    def test_reload(self) -> None:
        f = self.f
        f.connect("f1", "10.77.0.1:40000", "192.0.2.1:25")
        self.assertEqual(f.rcpt("f1", "<bob@remote.example>"), RELAY_DENIED)
        self.policy.write_text(POLICY.replace("10.1.2.0/24",
                                              "10.1.2.0/24 10.77.0.1"))
        f.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + TIMEOUT
        while "policy reloaded" not in self.log():
            self.assertLess(time.monotonic(), deadline, self.log())
            time.sleep(0.02)
        self.assertEqual(f.rcpt("f1", "<bob@remote.example>"), "proceed")
        self.policy.write_text("listener {\n")
        f.proc.send_signal(signal.SIGHUP)
        while "reload failed" not in self.log():
            self.assertLess(time.monotonic(), deadline, self.log())
            time.sleep(0.02)
        self.assertEqual(f.rcpt("f1", "<bob@remote.example>"), "proceed")


if __name__ == "__main__":
    unittest.main()
