"""smtpd-mini and the aiosmtpd example under scanners and hostile clients.

- nmap's smtp-open-relay script (Debian nmap) must report "not an open
  relay" against both servers.  The script only runs on the SMTP ports, so
  each server listens on 127.0.0.1:25 inside a private network namespace
  (`unshare -n`, loopback only) where nmap runs too; skipped (77) without
  root.
- swaks's routing tricks are refused.
- smtpd-mini: one write per reply (EHLO's lines arrive together), strict
  <CRLF>.<CRLF> (a bare <LF>.<LF> does not end DATA), strict AUTH PLAIN,
  SIZE enforced, per-command deadlines (slowloris), a client that never
  reads blocks nobody, 130 stalled clients do not lock out a new one, and
  a warning at start when no listener of the policy matches.

Needs RP_SMTPD_MINI, RELAYPOLICY_LIBRARY (examples/CMakeLists.txt).
"""

import base64
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path
from typing import List, Tuple

from test_smtpd_mini import Dialogue, free_ports

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
AIOSMTPD = ROOT / "bindings" / "python" / "examples" / "aiosmtpd_server.py"
PYSRC = ROOT / "bindings" / "python" / "src"

POLICY = """\
domain local.example local recipients alice bob admin
listener gateway {{
    bind 127.0.0.1:{smtp}
    role gateway
}}
listener submission {{
    bind 127.0.0.1:{submission}
    role submission
}}
"""

SWAKS_TRICKS = [
    "user@remote.example",
    "user%remote.example@local.example",
    "remote.example!user@local.example",
    "\"user@remote.example\"@local.example",
    "@local.example:user@remote.example",
    "user@[203.0.113.50]",
]


def mini_binary() -> str:
    path = os.environ.get("RP_SMTPD_MINI")
    if not path:
        raise RuntimeError("set RP_SMTPD_MINI to the built smtpd-mini")
    return path


# Debian's interpreter sees Debian's python3-aiosmtpd.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
    else sys.executable


def aiosmtpd_argv(policy: Path, port: int) -> List[str]:
    return [PYTHON, str(AIOSMTPD), "--policy", str(policy),
            "--listen", "127.0.0.1:%d" % port]


def aiosmtpd_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PYSRC)
    return env


class Server:
    """A server process whose output goes to a file."""

    def __init__(self, argv: List[str], workdir: Path, ready: bytes,
                 env: dict = None):
        self.log_path = workdir / ("server-%d.log" % id(self))
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while ready not in self.log_path.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start: " + self.text())
            time.sleep(0.02)

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        self.log.close()


class Base(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = Path(self.tmp.name)
        self.smtp, self.submission = free_ports(2)
        self.policy = self.dir / "policy.conf"
        self.policy.write_text(POLICY.format(smtp=self.smtp,
                                             submission=self.submission))
        (self.dir / "users").write_text("alice:secret\n")

    def mini(self, *extra: str) -> Server:
        s = Server([mini_binary(), "-p", str(self.policy), "-u",
                    str(self.dir / "users"), "-l", "127.0.0.1:%d" % self.smtp,
                    "-l", "127.0.0.1:%d" % self.submission, "-n",
                    "mini.test"] + list(extra), self.dir, b"ready")
        self.addCleanup(s.stop)
        return s

    def aiosmtpd(self) -> Server:
        s = Server(aiosmtpd_argv(self.policy, self.smtp), self.dir,
                   b"listening on", aiosmtpd_env())
        self.addCleanup(s.stop)
        return s

    def dialogue(self, port: int = 0) -> Dialogue:
        d = Dialogue(port or self.smtp)
        self.addCleanup(d.close)
        return d

    def swaks_refused(self, port: int) -> None:
        if not shutil.which("swaks"):
            self.fail("swaks is not installed (scripts/install-deps.sh)")
        for rcpt in SWAKS_TRICKS:
            with self.subTest(rcpt=rcpt):
                out = subprocess.run(
                    ["swaks", "--server", "127.0.0.1:%d" % port, "--from",
                     "someone@example.org", "--to", rcpt, "--quit-after",
                     "RCPT", "--timeout", "20"], capture_output=True,
                    text=True, timeout=60)
                rcpt_reply = [l for l in out.stdout.splitlines()
                              if l.startswith(("<** ", "<-  "))]
                self.assertRegex(rcpt_reply[-2], r"^<\*\* 5\d\d ", out.stdout)


NMAP_SCRIPT = """\
ip link set lo up || exit 97
"$@" > "$LOG" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
i=0
while ! grep -q "$READY" "$LOG" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 300 ] && exit 98
    kill -0 $server 2>/dev/null || exit 99
    sleep 0.1
done
nmap -Pn -n -p 25 --script smtp-open-relay --script-args \
    smtp-open-relay.domain=local.example,smtp-open-relay.ip=127.0.0.1 \
    127.0.0.1
"""


class Nmap(Base):
    """nmap smtp-open-relay, on port 25 of a private network namespace."""

    def setUp(self) -> None:
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root for a private network namespace")
        for tool in ("nmap", "unshare", "ip"):
            if not shutil.which(tool):
                self.fail("%s is not installed (scripts/install-deps.sh)"
                          % tool)
        self.policy.write_text(POLICY.format(smtp=25,
                                             submission=self.submission))

    def scan(self, ready: str, argv: List[str], env: dict = None) -> str:
        env = dict(env or os.environ)
        env["LOG"] = str(self.dir / "ns-server.log")
        env["READY"] = ready
        out = subprocess.run(["unshare", "-n", "sh", "-c", NMAP_SCRIPT,
                              "sh"] + argv, capture_output=True, text=True,
                             timeout=120, env=env)
        log = (self.dir / "ns-server.log").read_text(errors="replace") \
            if (self.dir / "ns-server.log").exists() else ""
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr + log)
        line = [l for l in out.stdout.splitlines() if "smtp-open-relay" in l]
        self.assertTrue(line, out.stdout)
        return line[0]

    def test_smtpd_mini_is_not_an_open_relay(self) -> None:
        line = self.scan("ready", [mini_binary(), "-p", str(self.policy),
                                   "-l", "127.0.0.1:25", "-n", "mini.test"])
        self.assertIn("doesn't seem to be an open relay", line)
        self.assertNotIn("Server is an open relay", line)

    def test_aiosmtpd_example_is_not_an_open_relay(self) -> None:
        line = self.scan("listening on", aiosmtpd_argv(self.policy, 25),
                         aiosmtpd_env())
        self.assertIn("doesn't seem to be an open relay", line)
        self.assertNotIn("Server is an open relay", line)


class Swaks(Base):
    def test_smtpd_mini_refuses_swaks_tricks(self) -> None:
        self.mini()
        self.swaks_refused(self.smtp)

    def test_aiosmtpd_example_refuses_swaks_tricks(self) -> None:
        self.aiosmtpd()
        self.swaks_refused(self.smtp)


def ehlo_in_one_segment(test: unittest.TestCase, port: int) -> None:
    """The whole EHLO reply arrives in the first read after it is sent."""
    with socket.create_connection(("127.0.0.1", port), 10) as s:
        s.settimeout(10)
        banner = s.recv(4096)
        test.assertTrue(banner.startswith(b"220"), banner)
        s.sendall(b"EHLO scanner.test\r\n")
        time.sleep(0.3)  # every write the server made has arrived
        first = s.recv(65536)
        lines = first.split(b"\r\n")
        test.assertGreater(len(lines), 3, first)
        test.assertRegex(lines[-2], rb"^250 ", first)


class AiosmtpdWrites(Base):
    def test_ehlo_in_one_write(self) -> None:
        self.aiosmtpd()
        ehlo_in_one_segment(self, self.smtp)


class MiniProtocol(Base):
    def setUp(self) -> None:
        super().setUp()
        self.server = self.mini()

    def test_ehlo_in_one_write(self) -> None:
        ehlo_in_one_segment(self, self.smtp)

    def start_data(self) -> Dialogue:
        d = self.dialogue()
        self.assertEqual(d.cmd("EHLO client.test")[0], 250)
        self.assertEqual(d.cmd("MAIL FROM:<a@example.org>")[0], 250)
        self.assertEqual(d.cmd("RCPT TO:<alice@local.example>")[0], 250)
        self.assertEqual(d.cmd("DATA")[0], 354)
        return d

    def test_bare_lf_dot_does_not_end_data(self) -> None:
        d = self.start_data()
        # The smuggling pattern: <LF>.<LF> then a second MAIL FROM.
        d.sock.sendall(b"Subject: x\r\n\r\nhello\n.\nMAIL FROM:<evil@x>\r\n"
                       b"RCPT TO:<bob@remote.example>\r\nDATA\r\n")
        d.sock.sendall(b"\r\n.\n\r\n")
        d.sock.settimeout(1)
        with self.assertRaises(socket.timeout):
            d.read()  # nothing ended the message yet
        d.sock.settimeout(10)
        d.sock.sendall(b".\r\n")
        code, text = d.read()
        self.assertEqual(code, 250, text)
        self.assertIn("1 recipients", text)
        # Exactly one reply: the smuggled commands were message text.
        self.assertEqual(d.cmd("NOOP")[0], 250)

    def test_crlf_dot_crlf_ends_data(self) -> None:
        d = self.start_data()
        d.sock.sendall(b"Subject: x\r\n\r\nhello\r\n.\r\n")
        self.assertEqual(d.read()[0], 250)

    def auth(self, blob: bytes) -> int:
        d = self.dialogue(self.submission)
        self.assertEqual(d.cmd("EHLO client.test")[0], 250)
        return d.cmd("AUTH PLAIN " + blob.decode())[0]

    def test_auth_plain_is_strict(self) -> None:
        good = base64.b64encode(b"\0alice\0secret")
        self.assertEqual(self.auth(good), 235)
        self.assertEqual(self.auth(base64.b64encode(b"alice\0alice\0secret")),
                         235)
        for bad in (b"\0alice\0secret\0junk", b"bob\0alice\0secret",
                    b"\0alice\0", b"\0\0secret"):
            with self.subTest(bad=bad):
                self.assertEqual(self.auth(base64.b64encode(bad)), 501)
        for blob in (good + b"junk", good + b"=", good[:-1],
                     good.replace(b"A", b"*", 1)):
            with self.subTest(blob=blob):
                self.assertEqual(self.auth(blob), 501)

    def test_size_enforced(self) -> None:
        d = self.dialogue()
        self.assertEqual(d.cmd("EHLO client.test")[0], 250)
        self.assertEqual(d.cmd("MAIL FROM:<a@example.org> SIZE=99999999")[0],
                         552)
        self.assertEqual(d.cmd("MAIL FROM:<a@example.org> SIZE=1x")[0], 501)
        self.assertEqual(d.cmd("MAIL FROM:<a@example.org> SIZE=1000")[0],
                         250)
        self.assertEqual(d.cmd("RCPT TO:<alice@local.example>")[0], 250)
        self.assertEqual(d.cmd("DATA")[0], 354)
        line = b"x" * 998 + b"\r\n"
        chunk = line * 1024
        for _ in range(11):  # 11 MB, over the 10 MB limit
            d.sock.sendall(chunk)
        d.sock.sendall(b".\r\n")
        code, text = d.read()
        self.assertEqual(code, 552, text)
        self.assertEqual(d.cmd("NOOP")[0], 250)


class MiniHostile(Base):
    def setUp(self) -> None:
        super().setUp()
        self.server = self.mini("-t", "2")

    def test_slowloris_closed_at_the_deadline(self) -> None:
        d = self.dialogue()
        t0 = time.monotonic()
        d.sock.settimeout(10)
        try:
            for b in b"EHLO slow.test\r\n":
                d.sock.send(bytes([b]))
                time.sleep(0.5)
        except OSError:
            pass
        try:
            while d.sock.recv(4096):
                pass
        except OSError:
            pass
        self.assertLess(time.monotonic() - t0, 5.0)

    def test_stalled_clients_do_not_lock_out_new_ones(self) -> None:
        stalled = []
        for _ in range(130):
            s = socket.create_connection(("127.0.0.1", self.smtp), 10)
            s.sendall(b"EHL")
            stalled.append(s)
        try:
            t0 = time.monotonic()
            d = self.dialogue()
            self.assertEqual(d.greeting[0], 220)
            self.assertEqual(d.cmd("EHLO client.test")[0], 250)
            self.assertLess(time.monotonic() - t0, 2.0)
        finally:
            for s in stalled:
                s.close()

    def test_a_client_that_never_reads_blocks_nobody(self) -> None:
        hog = socket.create_connection(("127.0.0.1", self.smtp), 10)
        hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.addCleanup(hog.close)
        hog.setblocking(False)
        junk = b"NOOP\r\n" * 10000
        sent = 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sent < 20 * len(junk):
            try:
                sent += hog.send(junk)
            except BlockingIOError:
                break
        # Others are served at once while the hog's replies back up.
        for _ in range(3):
            t0 = time.monotonic()
            d = self.dialogue()
            self.assertEqual(d.cmd("EHLO client.test")[0], 250)
            self.assertLess(time.monotonic() - t0, 2.0)
            d.close()
        # And the hog is dropped once its replies wait past the deadline
        # (-t 2): without it reading anything, its connection is reset.
        time.sleep(4.5)
        hog.setblocking(True)
        hog.settimeout(2)
        with self.assertRaises(OSError):
            for _ in range(50):
                hog.send(b"NOOP\r\n")
                time.sleep(0.02)


class MiniWarning(Base):
    def test_warns_when_no_listener_matches(self) -> None:
        self.policy.write_text(POLICY.format(smtp=1, submission=2))
        s = self.mini()
        self.assertIn("warning: no listener of the policy matches "
                      "127.0.0.1:%d" % self.smtp, s.text())


if __name__ == "__main__":
    unittest.main()
