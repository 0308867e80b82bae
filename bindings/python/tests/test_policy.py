"""The Python API: compiling, errors, facts, decisions, dump and lint."""

import dataclasses
import tempfile
import threading
import unittest
from pathlib import Path

from _support import DATA, relaypolicy

from relaypolicy import (
    Decision,
    Error,
    Finding,
    Permission,
    Policy,
    PolicyError,
    Status,
    Step,
    Verdict,
)

EXAMPLE = """\
domain local.example local recipients alice bob
domain old.example reroute local.example
network devices 10.1.2.3
listener internet {
    bind 0.0.0.0:25 [::]:25
    role gateway
    allow network devices relay
}
listener submission {
    bind 0.0.0.0:587
    role submission
}
"""

OUTSIDE = "203.0.113.9"
MX = ("192.0.2.1", 25)


class Compile(unittest.TestCase):
    def test_from_string_and_bytes(self) -> None:
        for text in (EXAMPLE, EXAMPLE.encode()):
            with Policy.from_string(text) as p:
                self.assertEqual([l.name for l in p.listeners()],
                                 ["internet", "submission"])

    def test_from_file(self) -> None:
        with Policy.from_file(DATA / "seeds.conf") as p:
            d = p.decide(client=OUTSIDE, local=MX,
                         recipient="alice@local.example")
            self.assertEqual(d.rule_file, str(DATA / "seeds.conf"))
        with Policy.from_file(str(DATA / "seeds.conf")) as p:
            self.assertFalse(p.closed)

    def test_syntax_error_location(self) -> None:
        with self.assertRaises(PolicyError) as cm:
            Policy.from_string("domain a.example local\n"
                               "domain b.example bogus\n")
        e = cm.exception
        self.assertEqual(e.status, Status.E_SYNTAX)
        self.assertEqual(e.file, "<string>")
        self.assertEqual((e.line, e.column), (2, 18))
        self.assertIn("bogus", e.message)
        self.assertTrue(str(e).startswith("<string>:2:18: "), str(e))
        self.assertIsInstance(e, relaypolicy.Error)

    def test_error_names_the_file(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bad.conf"
            path.write_text("listener x {\n    bind 0.0.0.0:25\n"
                            "    allow network 127.0.0.1/8 relay\n}\n")
            with self.assertRaises(PolicyError) as cm:
                Policy.from_file(path)
            e = cm.exception
            self.assertEqual(e.file, str(path))
            self.assertEqual(e.line, 3)
            self.assertGreater(e.column, 0)
            self.assertTrue(str(e).startswith("%s:3:" % path), str(e))

    def test_missing_file(self) -> None:
        with self.assertRaises(PolicyError) as cm:
            Policy.from_file("/nonexistent/relaypolicy.conf")
        self.assertEqual(cm.exception.status, Status.E_IO)

    def _save(self, policy: Policy, path: Path) -> None:
        """Write @policy as a compiled policy file (rp_policy_save())."""
        import ctypes
        lib = relaypolicy._ffi.load()
        lib.rp_policy_save.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                       ctypes.c_void_p]
        handle = policy._acquire()
        try:
            self.assertEqual(
                lib.rp_policy_save(handle, str(path).encode(), None), 0)
        finally:
            policy._release()

    def test_from_file_opens_a_compiled_file(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "policy.rpc"
            with Policy.from_string(EXAMPLE) as p:
                self._save(p, path)
                want = p.dump()
            self.assertEqual(path.read_bytes()[:8], b"\x89RPC\r\n\x1a\n")
            with Policy.from_file(path) as p:
                self.assertEqual(p.dump(), want)
                d = p.decide(client=OUTSIDE, local=MX,
                             recipient="alice@local.example")
                self.assertEqual(d.verdict, Verdict.ACCEPT)
            # Damaged, it is refused: never compiled as text.
            data = bytearray(path.read_bytes())
            data[8] += 1  # another format version
            path.write_bytes(bytes(data))
            with self.assertRaises(PolicyError) as cm:
                Policy.from_file(path)
            self.assertEqual(cm.exception.status, Status.E_FORMAT)
            self.assertIn("format version", cm.exception.message)

    def test_directory_refused(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaises(PolicyError) as cm:
                Policy.from_file(tmp)
            self.assertEqual(cm.exception.status, Status.E_IO)

    def test_open_relay_refused(self) -> None:
        text = "listener x {\n bind *:25\n allow anonymous relay\n}\n"
        with self.assertRaises(PolicyError) as cm:
            Policy.from_string(text)
        self.assertEqual(cm.exception.status, Status.E_UNSAFE)
        Policy.from_string("allow open-relay\n" + text).close()

    def test_options(self) -> None:
        with self.assertRaises(PolicyError) as cm:
            Policy.from_string(EXAMPLE, max_line_length=10)
        self.assertEqual(cm.exception.status, Status.E_LIMIT)
        with self.assertRaises(TypeError):
            Policy.from_string(EXAMPLE, no_such_limit=1)
        with self.assertRaises(PolicyError):
            Policy.from_string('domain a.example local recipients "x.txt"\n',
                               no_files=True)
        Policy.from_string(EXAMPLE, no_jit=True, max_rules=100).close()


class Decide(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.p = Policy.from_string(EXAMPLE)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.p.close()

    def decide(self, **kw: object) -> Decision:
        facts = {"client": OUTSIDE, "local": MX}
        facts.update(kw)
        return self.p.decide(**facts)  # type: ignore[arg-type]

    def test_relay_refused(self) -> None:
        d = self.decide(sender="a@example.org", recipient="bob@remote.example")
        self.assertIs(d.verdict, Verdict.REJECT)
        self.assertEqual((d.code, d.enhanced, d.reason), (550, "5.7.1",
                                                         "relay-denied"))
        self.assertEqual(d.reply, "550 5.7.1 <bob@remote.example>: "
                                  "Relaying prohibited")
        self.assertEqual(d.text, "Relaying prohibited")
        self.assertEqual(d.step, Step.CLASS)
        self.assertEqual(d.listener, "internet")
        self.assertEqual(d.destination, "bob@remote.example")
        self.assertFalse(d.accepted)
        self.assertTrue(d.permanent)

    def test_local_accepted(self) -> None:
        d = self.decide(recipient="<alice@local.example>")
        self.assertIs(d.verdict, Verdict.ACCEPT)
        self.assertEqual(d.reply, "250 2.1.5 OK")
        self.assertTrue(d.accepted)
        self.assertEqual(d.rule_line, 6)
        self.assertIn(Permission.SUBMIT, d.permissions)

    def test_device_relays(self) -> None:
        d = self.decide(client="10.1.2.3", recipient="x@remote.example")
        self.assertIs(d.verdict, Verdict.RELAY)
        self.assertEqual(d.reason, "relayed")
        self.assertEqual(d.rule_line, 7)
        self.assertIn(Permission.RELAY, d.permissions)

    def test_submission(self) -> None:
        d = self.decide(local="192.0.2.1:587", recipient="x@remote.example")
        self.assertEqual((d.code, d.reason, d.step),
                         (530, "auth-required", Step.REQUIRE_AUTH))
        d = self.decide(local="192.0.2.1:587", user="alice",
                        recipient="x@remote.example")
        self.assertIs(d.verdict, Verdict.RELAY)
        self.assertEqual(d.listener, "submission")

    def test_rewritten(self) -> None:
        d = self.decide(recipient="bob@old.example")
        self.assertIs(d.verdict, Verdict.ACCEPT)
        self.assertEqual(d.rewritten, "bob@local.example")

    def test_explain(self) -> None:
        self.assertEqual(self.decide(recipient="x@remote.example")
                         .explanation, "")
        d = self.decide(recipient="x@remote.example", explain=True,
                        helo="mail.example.org")
        self.assertIn("step 7", d.explanation)
        self.assertIn("internet", d.explanation)

    def test_local_forms(self) -> None:
        want = self.decide(recipient="alice@local.example")
        for local in (("192.0.2.1", 25), "192.0.2.1:25",
                      ("::ffff:192.0.2.1", 25), "[::ffff:192.0.2.1]:25"):
            d = self.decide(local=local, recipient="alice@local.example")
            self.assertEqual(d, want, local)
        d = self.decide(client="2001:db8::9", local="[2001:db8::1]:25",
                        recipient="x@remote.example")
        self.assertEqual(d.reason, "relay-denied")

    def test_bad_local(self) -> None:
        for local in ("192.0.2.1", "2001:db8::1:25", "[2001:db8::1]25",
                      "192.0.2.1:x", ("192.0.2.1",), ":25", ("1.2.3.4", -1)):
            with self.assertRaises(ValueError, msg=repr(local)):
                self.decide(local=local, recipient="a@local.example")
        with self.assertRaises(TypeError):
            self.decide(local=25, recipient="a@local.example")

    def test_bad_facts_raise_library_message(self) -> None:
        cases = [
            {"client": "10.1"},
            {"client": "010.1.2.3"},
            {"client": " 10.1.2.3"},
            {"client": "fe80::1%eth0"},
            {"client": "167838211"},
            {"local": ("192.0.2.01", 25)},
            {"local": ("192.0.2.1", 0)},
            {"local": ("192.0.2.1", 65536)},
            {"user": ""},
            {"user": "bad\nname"},
            {"user": "alice", "groups": [""]},
            {"user": "alice", "groups": ["a\tb"]},
        ]
        for kw in cases:
            with self.subTest(kw=kw):
                with self.assertRaises(ValueError) as cm:
                    self.decide(recipient="alice@local.example", **kw)
                self.assertTrue(str(cm.exception))
        with self.assertRaises(ValueError) as cm:
            self.decide(client="10.1", recipient="alice@local.example")
        self.assertIn("client", str(cm.exception))

    def test_type_errors(self) -> None:
        with self.assertRaises(TypeError):
            self.decide(recipient=None)
        with self.assertRaises(TypeError):
            self.decide(recipient="a@local.example", groups="helpdesk")
        with self.assertRaises(TypeError):
            self.decide(recipient="a@local.example", local=("1.2.3.4", True))

    def test_addresses_are_never_api_errors(self) -> None:
        for rcpt in ("", "a\0b@local.example", b"a\r\nb@local.example",
                     b"j\xc3rg@local.example", b"\xff@local.example",
                     "x" * 400 + "@local.example", "<<>>"):
            with self.subTest(rcpt=rcpt):
                d = self.decide(recipient=rcpt)
                self.assertEqual((d.code, d.reason),
                                 (501, "bad-recipient-syntax"), d.reply)
        d = self.decide(sender="a\0b@x.example",
                        recipient="alice@local.example")
        self.assertEqual(d.reason, "bad-sender-syntax")

    def test_smtputf8(self) -> None:
        # A UTF-8 address needs SMTPUTF8 (relaypolicy(7) section 2).
        d = self.decide(recipient="j\u00f6rg@local.example")
        self.assertEqual((d.code, d.enhanced, d.reason),
                         (553, "5.6.7", "smtputf8-required"), d.reply)
        d = self.decide(recipient="j\u00f6rg@local.example", smtputf8=True)
        self.assertNotEqual(d.reason, "smtputf8-required", d.reply)
        d = self.decide(recipient="x@\u2603.example", smtputf8=True)
        self.assertEqual(d.reason, "bad-recipient-syntax", d.reply)

    def test_null_sender_forms(self) -> None:
        a = self.decide(recipient="x@remote.example")
        for sender in ("", "<>"):
            self.assertEqual(self.decide(sender=sender,
                                         recipient="x@remote.example"), a)

    def test_decision_is_frozen(self) -> None:
        d = self.decide(recipient="alice@local.example")
        with self.assertRaises(dataclasses.FrozenInstanceError):
            d.verdict = Verdict.RELAY  # type: ignore[misc]
        self.assertEqual(hash(d), hash(dataclasses.replace(d)))

    def test_verdict_enum(self) -> None:
        self.assertEqual([v.name for v in Verdict],
                         ["ACCEPT", "RELAY", "REJECT", "TEMPFAIL"])
        self.assertTrue(Verdict.RELAY.accepted)
        self.assertFalse(Verdict.TEMPFAIL.accepted)


class Inspect(unittest.TestCase):
    def test_dump_round_trip(self) -> None:
        with Policy.from_string(EXAMPLE) as p:
            text = p.dump()
        self.assertTrue(text.startswith("# relaypolicy"), text)
        self.assertIn("allow network devices relay", text)
        self.assertIn("require auth", text)
        with Policy.from_string(text) as again:
            self.assertEqual(again.dump(), text)

    def test_lint_types(self) -> None:
        with Policy.from_string(EXAMPLE) as p:
            found = p.lint()
        self.assertIsInstance(found, list)
        for f in found:
            self.assertIsInstance(f, Finding)
            self.assertTrue(f.code and f.message)

    def test_lint_reports_open_relay(self) -> None:
        text = ("allow open-relay\n"
                "domain a.example local\n"
                "listener x {\n"
                "    bind *:25\n"
                "    allow anonymous relay\n"
                "}\n")
        with Policy.from_string(text) as p:
            found = p.lint()
        critical = [f for f in found
                    if f.severity == relaypolicy.Severity.CRITICAL]
        self.assertTrue(critical, found)
        self.assertEqual(critical[0].line, 5)
        self.assertEqual(critical[0].file, "<string>")
        self.assertTrue(critical[0].advice)

    def test_version(self) -> None:
        self.assertRegex(relaypolicy.version(), r"^1\.\d+\.\d+$")
        self.assertIn("librelaypolicy", relaypolicy.library_path())


class Loading(unittest.TestCase):
    def run_python(self, code: str, **env: str) -> "subprocess.CompletedProcess":
        import os
        import subprocess
        import sys
        full = dict(os.environ)
        full.update(env)
        full["PYTHONPATH"] = os.pathsep.join(sys.path)
        return subprocess.run([sys.executable, "-c", code], env=full,
                              capture_output=True, text=True, timeout=60)

    def test_environment_variable_wins(self) -> None:
        r = self.run_python("import relaypolicy; relaypolicy.version()",
                            RELAYPOLICY_LIBRARY="/nonexistent/librp.so")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("RELAYPOLICY_LIBRARY", r.stderr)
        self.assertIn("/nonexistent/librp.so", r.stderr)

    def test_loaded_from_environment(self) -> None:
        import os
        from relaypolicy import _ffi
        env = os.environ.get("RELAYPOLICY_LIBRARY")
        if env:
            self.assertEqual(_ffi.candidates(), [env])
            self.assertEqual(relaypolicy.library_path(), env)
        names = self.run_python(
            "from relaypolicy import _ffi; print(_ffi.candidates())",
            RELAYPOLICY_LIBRARY="").stdout
        self.assertIn("librelaypolicy.so.1", names)


class Lifetime(unittest.TestCase):
    def test_close_is_idempotent(self) -> None:
        p = Policy.from_string(EXAMPLE)
        p.close()
        p.close()
        self.assertTrue(p.closed)
        for call in (lambda: p.decide(client=OUTSIDE, local=MX,
                                      recipient="a@local.example"),
                     p.dump, p.lint, p.listeners):
            with self.assertRaises(ValueError):
                call()

    def test_context_manager_closes(self) -> None:
        with Policy.from_string(EXAMPLE) as p:
            pass
        self.assertTrue(p.closed)

    def test_garbage_collected(self) -> None:
        for _ in range(200):
            Policy.from_string(EXAMPLE).decide(
                client=OUTSIDE, local=MX, recipient="alice@local.example")

    def test_error_is_exception(self) -> None:
        self.assertTrue(issubclass(PolicyError, Error))
        self.assertTrue(issubclass(Error, Exception))


class Threads(unittest.TestCase):
    """One Policy shared by many threads gives the single-threaded answers."""

    RCPTS = ["alice@local.example", "zed@local.example", "x@remote.example",
             "x%remote.example@local.example", "bob@old.example",
             "postmaster", "a@@b"]
    CLIENTS = ["203.0.113.9", "10.1.2.3", "2001:db8::7"]

    def facts(self, i: int) -> dict:
        client = self.CLIENTS[i % len(self.CLIENTS)]
        local = ("2001:db8::1", 25) if ":" in client else MX
        return {"client": client, "local": local,
                "recipient": self.RCPTS[i % len(self.RCPTS)]}

    def test_threads_agree(self) -> None:
        n = 21 * 20
        with Policy.from_string(EXAMPLE) as p:
            want = [p.decide(**self.facts(i)) for i in range(n)]
            results = {}
            errors = []

            def work(t: int) -> None:
                try:
                    results[t] = [p.decide(**self.facts(i)) for i in range(n)]
                except Exception as exc:  # reported below
                    errors.append(exc)

            threads = [threading.Thread(target=work, args=(t,))
                       for t in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 8)
        for got in results.values():
            self.assertEqual(got, want)

    def test_close_while_deciding(self) -> None:
        p = Policy.from_string(EXAMPLE)
        stop = threading.Event()
        outcomes = []

        def work() -> None:
            while not stop.is_set():
                try:
                    p.decide(client=OUTSIDE, local=MX,
                             recipient="alice@local.example")
                except ValueError:
                    outcomes.append("closed")
                    return
            outcomes.append("stopped")

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        p.close()
        stop.set()
        for t in threads:
            t.join(60)
        self.assertEqual(len(outcomes), 4)
        self.assertTrue(p.closed)


if __name__ == "__main__":
    unittest.main()
