"""Start and stop relaypolicyd for the tests (standard library only)."""

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import List, Optional

HERE = Path(__file__).resolve().parent
TIMEOUT = 30.0


def binary(name: str, env: str) -> str:
    path = os.environ.get(env)
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set %s to the built %s" % (env, name))
    return path


class Policyd:
    """A running relaypolicyd whose log goes to a file."""

    def __init__(self, policy: Path, listen: str, workdir: Path,
                 extra: Optional[List[str]] = None):
        self.log_path = workdir / "policyd.log"
        self.log = open(self.log_path, "ab")
        args = [binary("relaypolicyd", "RP_POLICYD"), "-p",
                str(policy), "-l", listen, "-v"] + (extra or [])
        self.proc = subprocess.Popen(args, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.address = self._wait_listening()

    def _wait_listening(self) -> str:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            m = re.search(r"listening on (\S+),", self.log_text())
            if m:
                return m.group(1)
            if self.proc.poll() is not None:
                raise RuntimeError("policyd exited: " + self.log_text())
            time.sleep(0.02)
        raise RuntimeError("policyd did not start: " + self.log_text())

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, pattern: str, count: int = 1) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if len(re.findall(pattern, self.log_text())) >= count:
                return
            time.sleep(0.02)
        raise AssertionError("%r not logged: %s" % (pattern,
                                                    self.log_text()))

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])

    def connect(self) -> socket.socket:
        if self.address.startswith("unix:"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(TIMEOUT)
            s.connect(self.address[5:])
        else:
            s = socket.create_connection(("127.0.0.1", self.port), TIMEOUT)
        return s

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(TIMEOUT)
        self.log.close()
        return self.proc.returncode


def request(**attrs: str) -> bytes:
    """A policy request; attributes default to a RCPT-stage query."""
    base = {"request": "smtpd_access_policy", "protocol_state": "RCPT",
            "protocol_name": "ESMTP", "client_address": "203.0.113.9",
            "client_name": "unknown", "server_address": "192.0.2.1",
            "server_port": "25", "helo_name": "client.test",
            "sender": "someone@example.org", "sasl_username": ""}
    base.update(attrs)
    return "".join("%s=%s\n" % kv for kv in base.items()).encode() + b"\n"


def read_reply(sock: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n\n"):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed after %r" % data)
        data += chunk
    return data.decode()


def ask(sock: socket.socket, raw: bytes) -> str:
    sock.sendall(raw)
    return read_reply(sock)
