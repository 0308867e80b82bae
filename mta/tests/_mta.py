"""Shared helpers of the MTA tests (standard library only).

Processes started here log to files in the test's scratch directory and are
stopped by the tests' cleanups, whatever happens.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
TIMEOUT = 30.0
SKIP = 77


def skip_module(reason: str) -> None:
    """Stop the whole test program with ctest's skip code and a reason."""
    print("SKIP: " + reason, flush=True)
    sys.exit(SKIP)


def binary(env: str, name: str) -> str:
    path = os.environ.get(env)
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set %s to the built %s" % (env, name))
    return path


def free_ports(n: int, host: str = "127.0.0.1") -> List[int]:
    """n distinct free TCP ports (each held until all are chosen)."""
    socks = []
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        for _ in range(n):
            s = socket.socket(family)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_port(port: int, host: str = "127.0.0.1", banner: bool = False,
              timeout: float = TIMEOUT * 2) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), 5) as s:
                if not banner or s.recv(512).startswith(b"220"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("nothing answers on %s port %d" % (host, port))
        time.sleep(0.1)


class Daemon:
    """A program of ours running in the background, its log in a file."""

    def __init__(self, args: Sequence[str], log_path: Path,
                 ready: Optional[str] = None):
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(list(args), stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        if ready:
            self.wait_log(ready)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, pattern: str, count: int = 1,
                 timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(re.findall(pattern, self.log_text())) >= count:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError("%r not logged (exit %s): %s" % (
            pattern, self.proc.poll(), self.log_text()[-4000:]))

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self) -> Optional[int]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(TIMEOUT)
        if not self.log.closed:
            self.log.close()
        return self.proc.returncode


def fetch_mta(name: str) -> Path:
    """Unpack a Debian MTA with scripts/fetch-mta.sh, or skip the tests."""
    script = os.environ.get("RP_FETCH_MTA") or str(
        HERE.parent.parent / "scripts" / "fetch-mta.sh")
    out = subprocess.run(["bash", script, name], capture_output=True,
                         text=True, timeout=600)
    if out.returncode == SKIP:
        skip_module(out.stderr.strip().splitlines()[-1]
                    if out.stderr.strip() else "cannot fetch " + name)
    if out.returncode != 0:
        raise RuntimeError("fetch-mta.sh %s failed: %s" % (name, out.stderr))
    return Path(out.stdout.strip().splitlines()[-1])


def need_root(what: str) -> None:
    if os.geteuid() != 0:
        skip_module("%s needs root" % what)


def tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        skip_module("%s is not installed (scripts/install-deps.sh)" % name)
    return path


# ---- SMTP clients shared by the MTA tests ----------------------------------

# The §6 tricks of relaypolicy(7), from an outside client, with
# local.example local and remote.example external: every one must be
# refused (5xx).  "{self}" is the listener's address literal.
TRICKS = [
    "user@remote.example",
    "user%remote.example@local.example",
    "remote.example!user@local.example",
    "user@remote.example@local.example",
    '"user@remote.example"@local.example',
    '"user%remote.example"@local.example',
    "@local.example:user@remote.example",
    "@local.example,@x.example:user@remote.example",
    "user@[192.0.2.77]",
    "user%remote.example@[{self}]",
    '"user%remote.example"',
    "remote.example!user",
    "user@remote.example@",
    "user@REMOTE.EXAMPLE.",
]
TRICK_SENDERS = ["someone@example.org", "", "admin@local.example",
                 "postmaster@[{self}]"]


def swaks(port: int, rcpt: str, sender: str, host: str = "127.0.0.1",
          extra: Sequence[str] = ()) -> str:
    """One transaction up to RCPT with Debian's swaks; its transcript."""
    out = subprocess.run(
        [tool("swaks"), "--server", host, "--port", str(port),
         "--to", rcpt, "--from", sender, "--quit-after", "RCPT",
         "--helo", "outside.test", "--timeout", "20", "--suppress-data"]
        + list(extra), capture_output=True, text=True, timeout=60)
    return out.stdout + out.stderr


def swaks_rcpt_reply(transcript: str) -> str:
    """The server's reply to RCPT TO in a swaks transcript."""
    lines = transcript.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(" -> RCPT TO:"):
            for reply in lines[i + 1:]:
                if reply.startswith(("<-", "<**")):
                    return reply.split(" ", 1)[1].strip()
    # Refused before RCPT (at MAIL, or the address was not even sent).
    for line in lines:
        if line.startswith("<**"):
            return line.split(" ", 1)[1].strip()
    return ""


def nmap_open_relay(port: int, domain: str = "local.example") -> str:
    """nmap's smtp-open-relay against 127.0.0.1:@p port; its report."""
    # "+": run the script although the port is not one nmap takes for SMTP.
    out = subprocess.run(
        [tool("nmap"), "-Pn", "-n", "-p", str(port), "--script",
         "+smtp-open-relay", "--script-args",
         "smtp-open-relay.domain=%s,smtp-open-relay.ip=127.0.0.1" % domain,
         "127.0.0.1"], capture_output=True, text=True, timeout=300)
    return out.stdout + out.stderr


def rcpt_rate(port: int, rcpts: Sequence[str], seconds: float = 5.0,
              threads: int = 8, per_tx: int = 50,
              xclient: Optional[str] = None) -> Tuple[int, float, int]:
    """Recipients per second through a real MTA: (count, seconds, errors).

    Each thread runs SMTP sessions of transactions of @p per_tx RCPTs,
    cycling through @p rcpts, and counts each answered RCPT."""
    import smtplib
    import threading

    done = [0] * threads
    errors = [0] * threads
    first_error: List[str] = []
    stop_at = time.monotonic() + seconds

    def work(i: int) -> None:
        while time.monotonic() < stop_at:
            try:
                s = smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT)
                s.ehlo("load.test")
                if xclient:
                    s.docmd("XCLIENT", xclient)
                    s.ehlo("load.test")
                # A few transactions per session: MTAs cut off sessions
                # with many refused recipients (Postfix after 1000).
                for _ in range(4):
                    if time.monotonic() >= stop_at:
                        break
                    s.mail("load@example.org")
                    for k in range(per_tx):
                        code, _ = s.rcpt(rcpts[(i + k) % len(rcpts)])
                        if code >= 400 and code < 500:
                            errors[i] += 1
                            first_error.append("%d %r" % (code, _))
                        done[i] += 1
                    s.rset()
                s.quit()
            except (OSError, smtplib.SMTPException) as e:
                errors[i] += 1
                first_error.append(repr(e))
                time.sleep(0.05)

    start = time.monotonic()
    ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(seconds + TIMEOUT * 2)
    if first_error:
        print("rcpt_rate: first error: %s" % first_error[0])
    return sum(done), time.monotonic() - start, sum(errors)
