"""A FIFO as an include or a list file must be refused with a clear error,
without blocking, and relaypolicyd must keep serving the old policy.

The policy file itself is checked by the daemon (test_hostile.FifoPolicy);
includes and list files are opened by the library, whose one file reader
refuses what is not a regular file.  If the library in use still blocks
on a FIFO, this test says so and exits 77 (skipped), rather than hang.

Run as a script: python3 test_fifo.py (daemon/CMakeLists.txt does).
"""

import os
import signal
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from mtalib import Policyd, ask, binary, request

POLICY = """\
domain local.example local recipients alice bob
listener internet {
    bind 0.0.0.0:25
    role gateway
}
"""
INCLUDE = 'include "fifo.conf"\n'
LIST = POLICY.replace("recipients alice bob", 'recipients "users.fifo"')


def config_test(path: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([binary("RP_POLICYD", "relaypolicyd"), "-n", "-p",
                           str(path)], capture_output=True, text=True,
                          timeout=timeout)


def library_refuses_fifos() -> bool:
    with tempfile.TemporaryDirectory() as d:
        os.mkfifo(Path(d) / "fifo.conf")
        (Path(d) / "p.conf").write_text(POLICY + INCLUDE)
        try:
            config_test(Path(d) / "p.conf", 5)
        except subprocess.TimeoutExpired:
            return False
    return True


class Fifo(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = Path(self.tmp.name)
        os.mkfifo(self.dir / "fifo.conf")
        os.mkfifo(self.dir / "users.fifo")
        self.policy = self.dir / "policy.conf"

    def check_refused(self, text: str, fifo: str) -> None:
        self.policy.write_text(text)
        out = config_test(self.policy, 10)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn(fifo, out.stderr)
        self.assertRegex(out.stderr, r"(?i)regular file|fifo")

    def test_config_test_refuses_a_fifo_include(self) -> None:
        self.check_refused(POLICY + INCLUDE, "fifo.conf")

    def test_config_test_refuses_a_fifo_list(self) -> None:
        self.check_refused(LIST, "users.fifo")

    def test_reload_refuses_fifos_and_keeps_serving(self) -> None:
        self.policy.write_text(POLICY)
        d = Policyd(self.policy, "inet:127.0.0.1:0", self.dir)
        try:
            for n, text in enumerate((POLICY + INCLUDE, LIST), start=1):
                self.policy.write_text(text)
                d.signal(signal.SIGHUP)
                d.wait_log("reload failed", count=n)
                with d.connect() as s:
                    self.assertEqual(ask(s, request(
                        recipient="alice@local.example")), "action=OK\n\n")
            self.assertRegex(d.log_text(), r"fifo\.conf.*(regular|FIFO)")
        finally:
            self.assertEqual(d.stop(), 0, d.log_text())


if __name__ == "__main__":
    if not library_refuses_fifos():
        print("SKIP: the library in use blocks opening a FIFO include "
              "(its file reader does not yet refuse non-regular files)")
        sys.exit(77)
    unittest.main()
