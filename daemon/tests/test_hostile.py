"""relaypolicyd against hostile and careless clients: idle floods,
slowloris, clients that never read, log floods, SIGHUP storms, FIFOs in
place of the policy, and the operator's checks (-n, listener warnings).

Every case talks to 127.0.0.1 only and is bounded in time.
Needs RP_POLICYD and RP_POLICYD_LOAD (set by daemon/CMakeLists.txt).
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from mtalib import Policyd, ask, binary, request

POLICY = """\
domain local.example local recipients alice bob
network devices 10.1.2.0/24
listener internet {
    bind 0.0.0.0:25 [::]:25
    role gateway
    allow network devices relay
}
"""

OK = "action=OK\n\n"
RELAY_DENIED = "action=550 5.7.1 Relaying prohibited\n\n"


class Hostile(unittest.TestCase):
    extra: List[str] = []

    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = Path(self.tmp.name)
        self.policy = self.dir / "policy.conf"
        self.policy.write_text(POLICY)
        self.d = Policyd(self.policy, "inet:127.0.0.1:0", self.dir,
                         self.extra)
        self.addCleanup(self.stop)
        self.socks: List[socket.socket] = []
        self.addCleanup(self.close_all)

    def stop(self) -> None:
        alive = self.d.proc.poll() is None
        rc = self.d.stop()
        self.assertTrue(alive, "relaypolicyd died: " + self.d.log_text())
        self.assertEqual(rc, 0, self.d.log_text())

    def close_all(self) -> None:
        for s in self.socks:
            s.close()

    def open(self) -> socket.socket:
        s = self.d.connect()
        self.socks.append(s)
        return s

    def timed_ask(self, rcpt: str = "alice@local.example") -> float:
        """Connect and ask as a fresh client; the seconds it took."""
        t0 = time.monotonic()
        with self.d.connect() as s:
            s.settimeout(5)
            self.assertEqual(ask(s, request(recipient=rcpt)), OK)
        return time.monotonic() - t0

    def assertClosedWithin(self, s: socket.socket, seconds: float) -> float:
        """Wait until the server closes @s; how long it took."""
        t0 = time.monotonic()
        s.settimeout(seconds)
        try:
            while s.recv(65536):
                pass
        except ConnectionResetError:
            pass
        except socket.timeout:
            self.fail("not closed within %.1f s" % seconds)
        return time.monotonic() - t0


class IdleFlood(Hostile):
    """Defaults (-m 1024, -c 256): one address holds at most 256."""

    def test_300_idle_then_a_real_client(self) -> None:
        for _ in range(300):
            self.open()
        time.sleep(0.3)
        took = self.timed_ask()
        self.assertLess(took, 1.0, self.d.log_text()[-2000:])
        self.d.wait_log(r"127\.0\.0\.1: \d+ connections \(-c 256\): "
                        r"closing its oldest idle one")


class IdleFloodGlobalCap(Hostile):
    """The global cap sheds the oldest idle connection, whoever's."""
    extra = ["-m", "100", "-c", "0"]

    def test_300_idle_then_a_real_client(self) -> None:
        for _ in range(300):
            self.open()
        time.sleep(0.3)
        took = self.timed_ask()
        self.assertLess(took, 1.0)
        # The newest idle clients are still served; the oldest are gone.
        self.assertEqual(ask(self.socks[-1], request(
            recipient="alice@local.example")), OK)
        self.assertClosedWithin(self.socks[0], 2)


class Slowloris(Hostile):
    extra = ["-t", "2", "-m", "4", "-c", "0", "-w", "1"]

    def test_one_byte_per_second_does_not_outlive_the_deadline(self) -> None:
        raw = request(recipient="alice@local.example")
        s = self.open()
        stop = threading.Event()

        def drip() -> None:
            for b in raw:
                if stop.wait(0.5):
                    return
                try:
                    s.send(bytes([b]))
                except OSError:
                    return

        t = threading.Thread(target=drip)
        t.start()
        try:
            took = self.assertClosedWithin(s, 6)
        finally:
            stop.set()
            t.join(10)
        # Bytes kept coming every half second; the deadline still held.
        self.assertLess(took, 3.0)
        self.d.wait_log("request not complete within the deadline")

    def test_stalled_clients_do_not_lock_out_others(self) -> None:
        # Four connections (the cap) each hold half a request.
        for _ in range(4):
            self.open().sendall(b"request=smtpd_access_policy\n")
        time.sleep(0.2)
        self.assertLess(self.timed_ask(), 1.0)
        self.assertLess(self.timed_ask(), 1.0)


class NeverReads(Hostile):
    # -q: thousands of decision lines would use up the log's rate limit
    # and hide the line this test looks for.
    extra = ["-t", "2", "-q"]

    def test_a_client_that_never_reads_blocks_nobody(self) -> None:
        hog = self.open()
        hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hog.settimeout(1)
        chunk = request(recipient="bob@remote.example") * 200
        result = {"sent": 0, "closed": False}
        stop = threading.Event()

        def pipeline() -> None:
            # Whole requests, never reading an answer, until the server
            # drops the connection (or the test gives up).
            end = time.monotonic() + 60
            while not stop.is_set() and time.monotonic() < end:
                try:
                    result["sent"] += hog.send(chunk)
                except socket.timeout:
                    continue
                except OSError:
                    result["closed"] = True
                    return

        t = threading.Thread(target=pipeline)
        t.start()
        try:
            time.sleep(1)
            # Meanwhile other clients are answered at once.
            for _ in range(5):
                self.assertLess(self.timed_ask(), 1.0)
            # Dropped at the deadline: its answers waited, or the request
            # it was in the middle of when it blocked never completed.
            self.d.wait_log("closed: (answers not read|request not complete)"
                            " within the deadline")
        finally:
            stop.set()
            t.join(70)
        # (The client may not notice at once: the server's FIN waits
        # behind answers the client never makes room for.)
        self.assertGreater(result["sent"], 0)


class LogFlood(Hostile):
    def test_a_mebibyte_of_blank_lines(self) -> None:
        before = self.d.log_path.stat().st_size
        s = self.open()
        got = [0]

        def drain() -> None:
            s.settimeout(30)
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        return
                    got[0] += len(chunk)
            except OSError:
                return

        t = threading.Thread(target=drain)
        t.start()
        s.sendall(b"\n" * (1 << 20))
        s.shutdown(socket.SHUT_WR)
        t.join(60)
        # Every blank line was answered (451: malformed) ...
        self.assertEqual(got[0], (1 << 20) * len(
            b"action=451 4.3.0 Policy service: malformed request\n\n"))
        # ... the first is logged, the rest are counted when the client
        # leaves ...
        self.d.wait_log("%d more malformed requests" % ((1 << 20) - 1))
        # ... so the log grew by a few lines, however slow the machine.
        grown = self.d.log_path.stat().st_size - before
        self.assertLess(grown, 4096, "log grew by %d bytes" % grown)
        self.assertEqual(self.ask_ok(), OK)

    def ask_ok(self) -> str:
        with self.d.connect() as s:
            return ask(s, request(recipient="alice@local.example"))


def big_policy(n: int) -> str:
    nets = "\n".join("network big 10.%d.%d.%d" % (
        (i >> 16) & 255, (i >> 8) & 255, i & 255) for i in range(n))
    return POLICY.replace("allow network devices relay",
                          "allow network devices relay\n"
                          "    allow network big relay") + nets + "\n"


class HupStorm(Hostile):
    def test_twenty_hups_compile_at_most_twice(self) -> None:
        self.policy.write_text(big_policy(100000))
        self.d.signal(signal.SIGHUP)
        self.d.wait_log("policy reloaded")
        first = self.d.log_text().count(": loading ")
        worst = [0.0]
        stop = threading.Event()

        def probe() -> None:
            while not stop.is_set():
                worst[0] = max(worst[0], self.timed_ask())

        t = threading.Thread(target=probe)
        t.start()
        try:
            time.sleep(0.2)
            for _ in range(20):
                self.d.signal(signal.SIGHUP)
            time.sleep(0.2)
            self.d.wait_log("policy reloaded", count=2)
            time.sleep(3)  # room for any further (wrong) compiles
        finally:
            stop.set()
            t.join(30)
        compiles = self.d.log_text().count(": loading ") - first
        self.assertGreaterEqual(compiles, 1)
        self.assertLessEqual(compiles, 2, self.d.log_text()[-3000:])
        self.assertLess(worst[0], 0.5, "a new client waited %.2f s" %
                        worst[0])
        # The new policy is in force: 10.0.1.2 is in "big".
        with self.d.connect() as s:
            self.assertEqual(ask(s, request(client_address="10.0.1.2",
                                            recipient="x@remote.example")),
                             OK)


class FifoPolicy(Hostile):
    def test_a_fifo_as_the_policy_is_refused(self) -> None:
        os.unlink(self.policy)
        os.mkfifo(self.policy)
        self.d.signal(signal.SIGHUP)
        self.d.wait_log("reload failed")
        self.assertIn("not a regular file", self.d.log_text())
        with self.d.connect() as s:
            self.assertEqual(ask(s, request(recipient="bob@remote.example")),
                             RELAY_DENIED)

    def test_a_fifo_at_start_is_refused(self) -> None:
        fifo = self.dir / "fifo.conf"
        os.mkfifo(fifo)
        out = subprocess.run([binary("RP_POLICYD", "relaypolicyd"), "-p",
                              str(fifo), "-l", "inet:127.0.0.1:0"],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 1)
        self.assertIn("not a regular file", out.stderr)


class Operator(unittest.TestCase):
    """-n, and the warnings about listeners that cannot match."""

    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = Path(self.tmp.name)

    def run_n(self, text: str) -> subprocess.CompletedProcess:
        path = self.dir / "p.conf"
        path.write_text(text)
        return subprocess.run([binary("RP_POLICYD", "relaypolicyd"), "-n",
                               "-p", str(path)], capture_output=True,
                              text=True, timeout=30)

    def test_config_test_passes(self) -> None:
        out = self.run_n(POLICY)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("compiles", out.stdout)
        self.assertNotIn("warning", out.stderr)

    def test_config_test_fails_with_the_line(self) -> None:
        out = self.run_n("domain x bogus\n")
        self.assertEqual(out.returncode, 1)
        self.assertIn("p.conf:1:10: unknown domain kind", out.stderr)

    def test_config_test_lints(self) -> None:
        out = self.run_n(POLICY.replace(" recipients alice bob", ""))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"p\.conf:1: warning: ")

    def test_no_listener_matches_this_host(self) -> None:
        out = self.run_n(POLICY.replace("0.0.0.0:25 [::]:25",
                                        "192.0.2.25:25"))
        self.assertEqual(out.returncode, 0)
        self.assertIn("warning: no listener of", out.stderr)
        self.assertIn("127.0.0.1", out.stderr)

    def test_requests_matching_no_listener_are_reported_once(self) -> None:
        path = self.dir / "policy.conf"
        path.write_text(POLICY)
        d = Policyd(path, "inet:127.0.0.1:0", self.dir)
        try:
            for _ in range(3):
                with d.connect() as s:
                    self.assertTrue(ask(s, request(
                        server_port="2525", recipient="alice@local.example"))
                        .startswith("action=554 5.7.1"))
            d.wait_log("no listener of .* matches server address "
                       r"192\.0\.2\.1:2525")
            time.sleep(0.2)
            self.assertEqual(d.log_text().count("matches server address"), 1)
        finally:
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
