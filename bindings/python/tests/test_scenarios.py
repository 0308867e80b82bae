"""The decide tables: the binding must agree with every expected line."""

import unittest
from pathlib import Path
from typing import Dict

from _support import Case, parse_table, relaypolicy, tables


class Scenarios(unittest.TestCase):
    policies: Dict[Path, relaypolicy.Policy] = {}

    @classmethod
    def tearDownClass(cls) -> None:
        for p in cls.policies.values():
            p.close()
        cls.policies = {}

    def policy(self, path: Path) -> relaypolicy.Policy:
        if path not in self.policies:
            self.policies[path] = relaypolicy.Policy.from_file(path)
        return self.policies[path]

    def check(self, case: Case) -> None:
        d = self.policy(case.policy).decide(
            client=case.client, local=case.local, user=case.user,
            groups=case.groups, sender=case.sender,
            recipient=case.recipient, smtputf8=case.smtputf8,
            peer=case.peer, cert=case.cert)
        got = (d.verdict.name, d.code, d.enhanced, d.reason)
        want = (case.verdict,
                case.code if case.code is not None else d.code,
                case.enhanced if case.enhanced is not None else d.enhanced,
                case.reason if case.reason is not None else d.reason)
        self.assertEqual(got, want, "%s: %s %s -> %s" % (
            case.source, case.client, case.recipient, d.reply))
        seen = {"step": str(int(d.step)), "rewritten": d.rewritten,
                "destination": d.destination, "line": str(d.rule_line),
                "listener": d.listener}
        for key, value in case.checks.items():
            self.assertEqual(seen[key], value, "%s: %s of %s (%s)" % (
                case.source, key, case.recipient, d.reply))
        # The reply line is always the code, the enhanced code and a text.
        self.assertTrue(d.reply.startswith("%d %s " % (d.code, d.enhanced)),
                        d.reply)
        self.assertEqual(d.verdict.accepted, d.code // 100 == 2)

    def test_tables(self) -> None:
        found = tables()
        self.assertTrue(found, "no decide tables found")
        total = 0
        for table in found:
            for case in parse_table(table):
                total += 1
                with self.subTest(case=case.source):
                    self.check(case)
        # The binding's own table alone has more than fifty cases.
        self.assertGreater(total, 50)

    def test_table_parser_rejects_garbage(self) -> None:
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            bad = Path(tmp) / "bad.txt"
            for text in ("1.2.3.4 5.6.7.8:25 - - a@b\n",
                         "1.2.3.4 5.6.7.8 - - a@b => ACCEPT\n",
                         "1.2.3.4 5.6.7.8:25 - a@b => ACCEPT\n",
                         "1.2.3.4 5.6.7.8:25 - - a@b => A 1 2 3 4 x=1\n"):
                bad.write_text("policy x.conf\n" + text)
                with self.assertRaises(ValueError, msg=text):
                    list(parse_table(bad))


if __name__ == "__main__":
    unittest.main()
