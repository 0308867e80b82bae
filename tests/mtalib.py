"""Helpers shared by the tests that run our programs and real MTAs:
relaypolicyd's (daemon/tests), the milter's and the OpenSMTPD filter's
(mta/tests) and the import differential (tests/import).  Standard library
only.

Processes started here log to files in the test's scratch directory and are
stopped by the tests' cleanups, whatever happens.  A test imports it with

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
    from mtalib import ...
"""

import os
import re
import shutil
import signal
import smtplib
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
        HERE.parent / "scripts" / "fetch-mta.sh")
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


# ---- relaypolicyd ------------------------------------------------------------

class Policyd(Daemon):
    """A running relaypolicyd (RP_POLICYD) listening on @p listen."""

    def __init__(self, policy: Path, listen: str, workdir: Path,
                 extra: Optional[List[str]] = None):
        super().__init__([binary("RP_POLICYD", "relaypolicyd"), "-p",
                          str(policy), "-l", listen, "-v"] + (extra or []),
                         workdir / "policyd.log")
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


# ---- a Postfix instance of a test's own ---------------------------------------

POSTFIX = "/usr/sbin/postfix"

# The services every test instance's master.cf ends with.
POSTFIX_SERVICES = """\
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def need_postfix() -> None:
    """Skip the test program without root or Debian's postfix."""
    need_root("this test runs Postfix")
    if not os.access(POSTFIX, os.X_OK):
        skip_module("Debian's postfix is not installed "
                    "(scripts/install-deps.sh)")


def postfix_maillog(d: Path) -> str:
    path = d / "maillog"
    return path.read_text(errors="replace") if path.exists() else ""


def postfix_start(d: Path, main_cf: Optional[str] = None,
                  master_cf: Optional[str] = None) -> None:
    """Start the Postfix of @p d (postfix -c d/etc start), writing its
    main.cf and master.cf first when given; its queue and data directories
    are d/queue and d/data."""
    etc = d / "etc"
    for sub in ("etc", "queue", "data"):
        (d / sub).mkdir(exist_ok=True)
    shutil.chown(d / "data", "postfix")
    if main_cf is not None:
        (etc / "main.cf").write_text(main_cf)
    if master_cf is not None:
        (etc / "master.cf").write_text(master_cf)
    out = subprocess.run([POSTFIX, "-c", str(etc), "start"],
                         capture_output=True, text=True, timeout=TIMEOUT * 4)
    if out.returncode != 0:
        raise RuntimeError("postfix start failed: %s%s\n%s" % (
            out.stdout, out.stderr, postfix_maillog(d)))


def postfix_stop(d: Path) -> None:
    """Stop the Postfix of @p d, and abort it when its master stays."""
    etc = str(d / "etc")
    subprocess.run([POSTFIX, "-c", etc, "stop"], capture_output=True,
                   timeout=TIMEOUT * 4)
    pid_file = d / "queue" / "pid" / "master.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.1)
    subprocess.run([POSTFIX, "-c", etc, "abort"], capture_output=True,
                   timeout=TIMEOUT)


def xclient_session(test, port: int, client: Optional[str],
                    login: Optional[str] = None) -> smtplib.SMTP:
    """An SMTP session to 127.0.0.1:@p port presenting @p client (and the
    login @p login) through XCLIENT; None: 127.0.0.1 itself.  Closed by
    @p test's cleanups."""
    s = smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT * 2)
    test.addCleanup(s.close)
    test.assertEqual(s.ehlo("client.test")[0], 250)
    if client is not None:
        test.assertIn("xclient", s.esmtp_features)
        attrs = "ADDR=%s NAME=[UNAVAILABLE]" % client
        if login:
            attrs += " LOGIN=%s" % login
        code, msg = s.docmd("XCLIENT", attrs)
        test.assertEqual(code, 220, msg)  # A new session begins.
        test.assertEqual(s.ehlo("client.test")[0], 250)
    return s


# ---- scenarios every real-MTA test runs ----------------------------------------

class OpenRelayScenarios:
    """Mixed into a real-MTA test case whose MTA listens on self.smtp at
    127.0.0.1: the §6 tricks through swaks and nmap's open-relay script."""

    smtp: int

    def test_relay_tricks_refused_swaks(self) -> None:
        for rcpt in TRICKS:
            for sender in TRICK_SENDERS:
                rcpt_ = rcpt.format(self="127.0.0.1")
                sender_ = sender.format(self="127.0.0.1")
                with self.subTest(rcpt=rcpt_, sender=sender_):
                    reply = swaks_rcpt_reply(swaks(self.smtp, rcpt_, sender_))
                    self.assertRegex(reply, r"^5\d\d ", reply)

    def test_nmap_not_an_open_relay(self) -> None:
        out = nmap_open_relay(self.smtp)
        self.assertIn("smtp-open-relay", out, out)
        self.assertNotIn("Server is an open relay", out, out)
        self.assertIn("doesn't seem to be an open relay", out, out)


class PortTaken(Exception):
    """An MTA could not bind a port free_ports() picked: another program
    took it in between; start again on other ports."""


class RelayScenarios(OpenRelayScenarios):
    """The relay scenarios of the MTA tests, mixed into a test case that
    sets the clients OUTSIDE, DEVICE (may relay), QUARANTINED (may not)
    and BLOCKED (deny client), the ports self.smtp (gateway) and
    self.submission, session(port, client, login), and MTA, the name the
    throughput figure is printed with.  assertReply() compares a reply
    with the library's; an MTA that rewrites replies overrides it."""

    OUTSIDE: str
    DEVICE: str
    QUARANTINED: str
    BLOCKED: str
    MTA: str
    submission: int

    def rcpt(self, port: int, client: Optional[str], rcpt: str,
             sender: str = "someone@example.org",
             login: Optional[str] = None) -> Tuple[int, str]:
        s = self.session(port, client, login)
        code, msg = s.mail(sender)
        self.assertEqual(code, 250, msg)
        code, msg = s.rcpt(rcpt)
        s.rset()
        s.quit()
        return code, msg.decode()

    def assertReply(self, got: Tuple[int, str], reply: str) -> None:
        """The client saw exactly the library's reply line."""
        self.assertEqual("%d %s" % got, reply)

    def test_outside_relaying_refused_with_the_library_reply(self) -> None:
        self.assertReply(self.rcpt(self.smtp, self.OUTSIDE,
                                   "bob@remote.example"),
                         "550 5.7.1 <bob@remote.example>: Relaying prohibited")

    def test_local_delivery_and_unknown_user(self) -> None:
        self.assertEqual(self.rcpt(self.smtp, self.OUTSIDE,
                                   "alice@local.example")[0], 250)
        self.assertReply(self.rcpt(self.smtp, self.OUTSIDE,
                                   "zed@local.example"),
                         "550 5.1.1 <zed@local.example>: User unknown")

    def test_trusted_network_relays(self) -> None:
        self.assertEqual(self.rcpt(self.smtp, self.DEVICE,
                                   "bob@remote.example")[0], 250)
        self.assertReply(self.rcpt(self.smtp, self.QUARANTINED,
                                   "bob@remote.example"),
                         "550 5.7.1 <bob@remote.example>: Relaying prohibited")
        self.assertReply(self.rcpt(self.smtp, self.BLOCKED,
                                   "alice@local.example"),
                         "554 5.7.1 Access denied")

    def test_authenticated_submission_relays(self) -> None:
        self.assertReply(self.rcpt(self.submission, self.OUTSIDE,
                                   "bob@remote.example"),
                         "530 5.7.0 Authentication required")
        self.assertEqual(self.rcpt(self.submission, self.OUTSIDE,
                                   "bob@remote.example",
                                   sender="alice@local.example",
                                   login="alice")[0], 250)

    def assertFailsClosed(self, cases: Sequence[Tuple[Optional[str], str]]
                          ) -> None:
        """With the policy's program stopped, each (client, recipient) of
        @cases is refused for now (4xx at MAIL or RCPT, and no DATA), and
        nmap finds no open relay."""
        for client, rcpt in cases:
            with self.subTest(client=client, rcpt=rcpt):
                s = self.session(self.smtp, client)
                code = s.mail("someone@example.org")[0]
                if code == 250:
                    code = s.rcpt(rcpt)[0]
                self.assertTrue(400 <= code < 500, code)
                self.assertNotEqual(s.docmd("DATA")[0], 354)
        nmap = nmap_open_relay(self.smtp)
        self.assertNotIn("Server is an open relay", nmap, nmap)

    def test_zz_throughput(self) -> None:
        n, secs, errors = rcpt_rate(self.smtp, ["alice@local.example",
                                                "bob@remote.example",
                                                "zed@local.example"])
        self.assertEqual(errors, 0)
        self.assertGreater(n, 0)
        print("\n    %s: %d recipients in %.1f s: %.0f recipients/s"
              % (self.MTA, n, secs, n / secs))
