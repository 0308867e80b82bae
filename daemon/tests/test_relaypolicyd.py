"""relaypolicyd over real sockets: the protocol, malformed input,
SIGHUP reloads under load and many concurrent connections.

Needs RP_POLICYD, RP_POLICYD_LOAD and RP_CLI (set by examples/CMakeLists.txt).
"""

import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from mtalib import Policyd, ask, binary, read_reply, request

POLICY = """\
domain local.example local recipients alice bob
network devices 10.1.2.0/24
network quarantined 10.1.2.66
listener internet {
    bind 0.0.0.0:25 [::]:25
    role gateway
    allow network devices relay
    deny  network quarantined relay
}
listener submission {
    bind 0.0.0.0:587
    role submission
}
certificate roadwarriors 04eee26dfc453b87d5127d23d953cf0ae8bc1ec1d79858ad68264bb13c1d20e8
listener smtps {
    bind 0.0.0.0:465
    require auth or certificate
    allow authenticated submit relay
    allow certificate roadwarriors relay
}
deny client 198.51.100.0/24
domain домен.рф local recipients alice
"""

RELAY_DENIED = "action=550 5.7.1 Relaying prohibited\n\n"
OK = "action=OK\n\n"
TEMPFAIL = "action=451 4.3.0 "


class PolicydTest(unittest.TestCase):
    listen = "inet:127.0.0.1:0"
    extra: list = []

    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = Path(self.tmp.name)
        self.policy = self.dir / "policy.conf"
        self.policy.write_text(POLICY)
        listen = self.listen.replace("@DIR@", str(self.dir))
        self.d = Policyd(self.policy, listen, self.dir, self.extra)
        self.addCleanup(self.stop)

    def stop(self) -> None:
        alive = self.d.proc.poll() is None
        rc = self.d.stop()
        self.assertTrue(alive, "policyd died: " + self.d.log_text())
        self.assertEqual(rc, 0, self.d.log_text())

    def ask(self, **attrs: str) -> str:
        with self.d.connect() as s:
            return ask(s, request(**attrs))


class Protocol(PolicydTest):
    def test_relay_refused(self) -> None:
        self.assertEqual(self.ask(recipient="bob@remote.example"),
                         RELAY_DENIED)

    def test_local_accepted(self) -> None:
        self.assertEqual(self.ask(recipient="alice@local.example"), OK)
        self.assertEqual(self.ask(recipient="zed@local.example"),
                         "action=550 5.1.1 User unknown\n\n")

    def test_device_relays_and_deny_overrides(self) -> None:
        self.assertEqual(self.ask(client_address="10.1.2.3",
                                  recipient="bob@remote.example"), OK)
        self.assertEqual(self.ask(client_address="10.1.2.66",
                                  recipient="bob@remote.example"),
                         RELAY_DENIED)
        self.assertEqual(self.ask(client_address="198.51.100.7",
                                  recipient="alice@local.example"),
                         "action=554 5.7.1 Access denied\n\n")

    def test_submission(self) -> None:
        self.assertEqual(self.ask(server_port="587",
                                  recipient="bob@remote.example"),
                         "action=530 5.7.0 Authentication required\n\n")
        self.assertEqual(self.ask(server_port="587", sasl_username="alice",
                                  recipient="bob@remote.example"), OK)

    def test_ipv6(self) -> None:
        self.assertEqual(self.ask(client_address="2001:db8::9",
                                  server_address="2001:db8::1",
                                  recipient="bob@remote.example"),
                         RELAY_DENIED)

    def test_null_sender_and_tricks(self) -> None:
        for rcpt in ("bob%remote.example@local.example",
                     "remote.example!bob@local.example",
                     "@local.example:bob@remote.example"):
            self.assertTrue(self.ask(sender="", recipient=rcpt)
                            .startswith("action=550 5.7.1 "), rcpt)

    def test_smtputf8(self) -> None:
        # Postfix sends no SMTPUTF8 attribute: a non-ASCII sender or
        # recipient means the client gave it; the Exim ACL says so itself.
        for rcpt in ("alice@домен.рф", "alice@xn--d1acufc.xn--p1ai",
                     "Alice@ДОМЕН.РФ"):
            self.assertEqual(self.ask(recipient=rcpt), OK, rcpt)
        self.assertEqual(self.ask(recipient="bob@пример.рф"), RELAY_DENIED)
        self.assertEqual(self.ask(recipient="bob@xn--e1afmkfd.xn--p1ai"),
                         RELAY_DENIED)
        self.assertEqual(self.ask(sender="jörg@example.org",
                                  recipient="alice@local.example"), OK)
        self.assertEqual(self.ask(recipient="alice@домен.рф",
                                  smtputf8="yes"), OK)
        for attrs in ({"recipient": "alice@домен.рф"},
                      {"recipient": "alice@local.example",
                       "sender": "jörg@example.org"}):
            self.assertEqual(self.ask(smtputf8="no", **attrs),
                             "action=553 5.6.7 SMTPUTF8 required\n\n",
                             attrs)
        self.assertEqual(self.ask(recipient="alice@xn--d1acufc.xn--p1ai",
                                  smtputf8="no"), OK)

    def test_certificate(self) -> None:
        # Postfix's ccert_pubkey_fingerprint, SHA-256 with colons.
        fp = ("04:EE:E2:6D:FC:45:3B:87:D5:12:7D:23:D9:53:CF:0A:E8:BC:1E:"
              "C1:D7:98:58:AD:68:26:4B:B1:3C:1D:20:E8")
        self.assertEqual(self.ask(server_port="465", sender="",
                                  ccert_pubkey_fingerprint=fp,
                                  recipient="bob@remote.example"), OK)
        self.assertEqual(self.ask(server_port="465",
                                  ccert_pubkey_fingerprint="",
                                  recipient="bob@remote.example"),
                         "action=530 5.7.0 Authentication required\n\n")
        # An MD5 fingerprint matches nothing: as if none was presented,
        # and the log says how to fix Postfix's configuration.
        self.assertEqual(self.ask(server_port="465",
                                  ccert_pubkey_fingerprint=fp[:47],
                                  recipient="bob@remote.example"),
                         "action=530 5.7.0 Authentication required\n\n")
        self.d.wait_log(r"smtpd_tls_fingerprint_digest = sha256")
        # A malformed one is a malformed request, never a guess.
        self.assertTrue(self.ask(server_port="465",
                                 ccert_pubkey_fingerprint="zz:zz",
                                 recipient="bob@remote.example")
                        .startswith(TEMPFAIL))

    def test_other_stages_get_dunno(self) -> None:
        for state in ("DATA", "END-OF-MESSAGE", "VRFY", "ETRN"):
            self.assertEqual(self.ask(protocol_state=state, recipient=""),
                             "action=DUNNO\n\n")

    def test_many_requests_per_connection_pipelined(self) -> None:
        with self.d.connect() as s:
            s.sendall(request(recipient="alice@local.example") +
                      request(recipient="bob@remote.example") * 2)
            data = b""
            while data.count(b"\n\n") < 3:
                chunk = s.recv(4096)
                self.assertTrue(chunk, data)
                data += chunk
            self.assertEqual(data.decode(), OK + RELAY_DENIED * 2)
            self.assertEqual(ask(s, request(recipient="bob@local.example")),
                             OK)

    def test_crlf_lines(self) -> None:
        raw = request(recipient="alice@local.example").replace(b"\n",
                                                               b"\r\n")
        with self.d.connect() as s:
            self.assertEqual(ask(s, raw), OK)


class Malformed(PolicydTest):
    def check_tempfail(self, raw: bytes) -> None:
        with self.d.connect() as s:
            reply = ask(s, raw)
            self.assertTrue(reply.startswith(TEMPFAIL), reply)
            # The connection still works afterwards.
            self.assertEqual(ask(s, request(recipient="alice@local.example")),
                             OK)

    def test_not_name_value(self) -> None:
        self.check_tempfail(b"hello there\n\n")
        self.check_tempfail(b"=value\n\n")

    def test_missing_facts(self) -> None:
        self.check_tempfail(request(client_address="",
                                    recipient="a@local.example"))
        self.check_tempfail(request(recipient=""))
        self.check_tempfail(request(request="junk",
                                    recipient="a@local.example"))

    def test_bad_facts(self) -> None:
        for attrs in ({"client_address": "unknown"},
                      {"client_address": "010.1.2.3"},
                      {"server_address": "not-an-ip"},
                      {"server_port": "abc"}, {"server_port": "0"},
                      {"server_port": "99999"}, {"server_port": "025"},
                      {"sasl_username": "bad\x01user"}):
            with self.subTest(attrs=attrs):
                self.check_tempfail(request(recipient="a@local.example",
                                            **attrs))

    def test_long_line(self) -> None:
        self.check_tempfail(request(recipient="a@local.example",
                                    ccert_subject="x" * 100000))
        self.check_tempfail(request(recipient="a" * 5000 + "@local.example"))

    def test_too_many_attributes(self) -> None:
        extra = b"".join(b"x%d=y\n" % i for i in range(300))
        self.check_tempfail(extra + request(recipient="a@local.example"))

    def test_binary_garbage(self) -> None:
        self.check_tempfail(b"recipient=a\0b@local.example\n\x01\x02=\xff\n"
                            + request(recipient="a@local.example"))
        with self.d.connect() as s:
            s.sendall(bytes(range(256)) * 64)
        self.assertEqual(self.ask(recipient="alice@local.example"), OK)

    def test_logged(self) -> None:
        self.check_tempfail(b"garbage\n\n")
        self.d.wait_log(r"malformed request \(attribute line without "
                        r"name=value\): answered 451 4.3.0")

    def test_abrupt_disconnects(self) -> None:
        for n in range(50):
            with self.d.connect() as s:
                s.sendall(request(recipient="a@local.example")[:n * 7])
        self.assertEqual(self.ask(recipient="alice@local.example"), OK)


class UnixSocket(PolicydTest):
    listen = "unix:@DIR@/policyd.sock"

    def test_unix_socket(self) -> None:
        path = self.dir / "policyd.sock"
        self.assertTrue(stat.S_ISSOCK(path.stat().st_mode))
        self.assertEqual(stat.S_IMODE(path.stat().st_mode), 0o666)
        self.assertEqual(self.ask(recipient="bob@remote.example"),
                         RELAY_DENIED)


class DunnoOnAccept(PolicydTest):
    extra = ["-a", "DUNNO"]

    def test_accept_action(self) -> None:
        self.assertEqual(self.ask(recipient="alice@local.example"),
                         "action=DUNNO\n\n")
        self.assertEqual(self.ask(recipient="bob@remote.example"),
                         RELAY_DENIED)


class FullReply(PolicydTest):
    extra = ["-R"]

    def test_full_reply(self) -> None:
        self.assertEqual(self.ask(recipient="bob@remote.example"),
                         "action=550 5.7.1 <bob@remote.example>: "
                         "Relaying prohibited\n\n")
        self.assertEqual(self.ask(recipient="alice@local.example"), OK)


def run_load(address: str, *args: str) -> str:
    out = subprocess.run(
        [binary("RP_POLICYD_LOAD", "relaypolicyd-load")] + list(args)
        + [address], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise AssertionError("load failed: %s %s" % (out.stdout, out.stderr))
    print("\n    load:", out.stdout.strip())
    return out.stdout


def compile_to(text: str, src: Path, out: Path) -> None:
    """relaypolicy compile: @p text, saved as @p src, into @p out."""
    src.write_text(text)
    subprocess.run([binary("RP_CLI", "relaypolicy"), "compile", str(src),
                    "-o", str(out)], check=True, timeout=60)


class CompiledFile(unittest.TestCase):
    """The daemon opens a compiled policy file (relaypolicy compile) and
    reloads it when a new one is renamed over it; a damaged one is
    refused and the policy in force stays."""

    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = Path(self.tmp.name)
        self.src = self.dir / "policy.conf"
        self.policy = self.dir / "policy.rpc"
        compile_to(POLICY, self.src, self.policy)
        self.d = Policyd(self.policy, "inet:127.0.0.1:0", self.dir)
        self.addCleanup(self.d.stop)

    def ask(self, **attrs: str) -> str:
        with self.d.connect() as s:
            return ask(s, request(**attrs))

    def test_answers_and_reloads_from_the_file(self) -> None:
        self.assertEqual(self.ask(recipient="alice@local.example"), OK)
        self.assertEqual(self.ask(client_address="10.9.9.9",
                                  recipient="bob@remote.example"),
                         RELAY_DENIED)
        compile_to(POLICY.replace("10.1.2.0/24", "10.1.2.0/24 10.9.9.9"),
                   self.src, self.policy)
        self.d.signal(signal.SIGHUP)
        self.d.wait_log("policy reloaded")
        # The compiled file was opened: compiled as text it would not parse.
        self.assertIn("loading " + str(self.policy), self.d.log_text())
        self.assertEqual(self.ask(client_address="10.9.9.9",
                                  recipient="bob@remote.example"), OK)

    def test_damaged_file_keeps_the_old(self) -> None:
        data = bytearray(self.policy.read_bytes())
        del data[len(data) // 2:]
        tmp = self.dir / "cut.rpc"
        tmp.write_bytes(bytes(data))
        os.rename(tmp, self.policy)
        self.d.signal(signal.SIGHUP)
        self.d.wait_log("reload failed")
        self.assertIn("cut short", self.d.log_text())
        self.assertEqual(self.ask(recipient="alice@local.example"), OK)


class Reload(PolicydTest):
    def test_sighup_switches_policy(self) -> None:
        self.assertEqual(self.ask(client_address="10.9.9.9",
                                  recipient="bob@remote.example"),
                         RELAY_DENIED)
        self.policy.write_text(POLICY.replace("10.1.2.0/24",
                                              "10.1.2.0/24 10.9.9.9"))
        self.d.signal(signal.SIGHUP)
        self.d.wait_log("policy reloaded")
        self.assertEqual(self.ask(client_address="10.9.9.9",
                                  recipient="bob@remote.example"), OK)

    def test_broken_policy_keeps_the_old(self) -> None:
        with self.d.connect() as s:
            self.policy.write_text("domain x bogus\n")
            self.d.signal(signal.SIGHUP)
            self.d.wait_log("reload failed")
            self.assertIn("unknown domain kind", self.d.log_text())
            # An open connection and a new one both still get answers.
            self.assertEqual(ask(s, request(recipient="alice@local.example")),
                             OK)
        self.assertEqual(self.ask(recipient="bob@remote.example"),
                         RELAY_DENIED)

    def test_reload_under_load_drops_nothing(self) -> None:
        stop = threading.Event()
        hups = []

        def hup() -> None:
            while not stop.is_set() and len(hups) < 200:
                self.d.signal(signal.SIGHUP)
                hups.append(1)
                time.sleep(0.01)

        t = threading.Thread(target=hup)
        t.start()
        try:
            run_load("inet:127.0.0.1:%d" % self.d.port, "-c", "16", "-n",
                     "3000", "-d", "20")
        finally:
            stop.set()
            t.join(60)
        self.assertGreater(len(hups), 5)
        self.d.wait_log("policy reloaded", count=5)


class Concurrency(PolicydTest):
    extra = ["-m", "512"]

    def test_many_connections(self) -> None:
        out = run_load("inet:127.0.0.1:%d" % self.d.port, "-c", "128", "-n",
                       "300", "-d", "60")
        self.assertIn("errors 0", out)

    def test_idle_connections_do_not_block_others(self) -> None:
        idle = [self.d.connect() for _ in range(100)]
        try:
            self.assertEqual(self.ask(recipient="alice@local.example"), OK)
        finally:
            for s in idle:
                s.close()


class Capped(PolicydTest):
    extra = ["-m", "4", "-w", "1"]

    def test_beyond_the_cap_the_oldest_idle_is_closed(self) -> None:
        idle = [self.d.connect() for _ in range(4)]
        try:
            time.sleep(0.2)
            # A fifth client is answered; the first idle one was closed.
            self.assertEqual(self.ask(recipient="alice@local.example"), OK)
            idle[0].settimeout(5)
            self.assertEqual(idle[0].recv(10), b"")
            # The others still work.
            self.assertEqual(ask(idle[3],
                                 request(recipient="alice@local.example")),
                             OK)
        finally:
            for s in idle:
                s.close()
        self.d.signal(signal.SIGHUP)
        self.d.wait_log("policy reloaded")


if __name__ == "__main__":
    unittest.main()
