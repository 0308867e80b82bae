"""Shared helpers for the binding's tests.

The tests exercise the package in this source tree (src/) unless
RELAYPOLICY_TEST_INSTALLED=1 asks for the installed one.  The shared
library is found as the package finds it (RELAYPOLICY_LIBRARY first).
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
BINDING = HERE.parent
REPO = BINDING.parent.parent
DATA = HERE / "data"

if os.environ.get("RELAYPOLICY_TEST_INSTALLED") != "1":
    sys.path.insert(0, str(BINDING / "src"))

import relaypolicy  # noqa: E402  (the path above decides which copy)


@dataclass(frozen=True)
class Case:
    """One line of a decide table."""

    source: str  # "file:line", for failure messages
    policy: Path
    client: Optional[str]
    local: Tuple[str, int]
    user: Optional[str]
    groups: Tuple[str, ...]
    sender: str
    recipient: str
    verdict: str
    code: Optional[int]
    enhanced: Optional[str]
    reason: Optional[str]
    checks: Dict[str, str]
    smtputf8: bool = False  # "smtputf8=yes": the query carries SMTPUTF8
    peer: Optional[str] = None  # "peer=IP": the client IP is its claim
    cert: Optional[str] = None  # "cert=FP": a certificate fingerprint


def _field(word: str) -> Optional[str]:
    return None if word == "-" else word


CHECKS = ("step", "rewritten", "destination", "line", "listener")


def _local(word: str, where: str) -> Tuple[str, int]:
    """LOCAL:PORT, the port after the last colon; brackets optional."""
    ip, sep, port = word.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError("%s: bad LOCAL:PORT %r" % (where, word))
    if ip.startswith("[") and ip.endswith("]"):
        ip = ip[1:-1]
    return ip, int(port)


def parse_table(path: Path) -> Iterator[Case]:
    """Yield the cases of one table.

    Format (shared with tests/data/decide/*.txt): a line `policy FILE`
    names the policy (relative to the table) for the lines that follow;
    each case is

        CLIENT LOCAL:PORT USER[:GROUP,...]|- SENDER|<>|- RECIPIENT
            => VERDICT CODE ENHANCED REASON [key=value...]

    on one line, where the port follows the last colon, "-" means no user
    or the null sender, and the optional checks are step=N, rewritten=,
    destination=, line=N (the deciding rule's line) and listener=; other
    key=value checks are ignored here; peer=IP and cert=FP are query
    facts (with a peer, CLIENT is its claim, or "-").  Fields
    after VERDICT may be given as "-" to leave them unchecked.  Blank lines
    and lines starting with # are ignored.  A malformed line is an error,
    never skipped silently.
    """
    policy: Optional[Path] = None
    text = path.read_text(encoding="utf-8")
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        where = "%s:%d" % (path.name, n)
        if not line or line.startswith("#"):
            continue
        if line.startswith("policy "):
            name = line[len("policy "):].strip()
            if len(name) >= 2 and name[0] == name[-1] == '"':
                name = name[1:-1]
            policy = (path.parent / name).resolve()
            continue
        lhs, sep, rhs = line.partition("=>")
        if not sep:
            raise ValueError("%s: no '=>' in %r" % (where, raw))
        facts = lhs.split()
        expect = rhs.split()
        if len(facts) != 5 or not expect:
            facts = shlex.split(lhs) if len(facts) != 5 else facts
        if len(facts) != 5 or not expect:
            raise ValueError("%s: expected 5 facts => VERDICT ..., got %r"
                             % (where, raw))
        if policy is None:
            raise ValueError("%s: a case before any 'policy' line" % where)
        checks: Dict[str, str] = {}
        smtputf8 = False
        query: Dict[str, str] = {}
        while expect and "=" in expect[-1]:
            key, _, value = expect.pop().partition("=")
            if key == "smtputf8":
                smtputf8 = value == "yes"
                continue
            if key in ("peer", "cert"):
                query[key] = value
                continue
            # Checks this runner does not know (added to the shared
            # format later) are left to the C suite.
            if key in CHECKS:
                checks[key] = value
        if not 1 <= len(expect) <= 4:
            raise ValueError("%s: bad expectation %r" % (where, rhs))
        expect += ["-"] * (4 - len(expect))
        code = _field(expect[1])
        user, groups = None, ()
        if facts[2] != "-":
            user, _, names = facts[2].partition(":")
            groups = tuple(g for g in names.split(",") if g)
        yield Case(
            source=where, policy=policy, client=_field(facts[0]),
            local=_local(facts[1], where), user=user, groups=groups,
            sender=_field(facts[3]) or "", recipient=facts[4],
            verdict=expect[0].upper(),
            code=int(code) if code is not None else None,
            enhanced=_field(expect[2]), reason=_field(expect[3]),
            checks=checks, smtputf8=smtputf8, peer=query.get("peer"),
            cert=query.get("cert"))


def tables() -> List[Path]:
    """The binding's own tables and, when present, the C tests' tables."""
    found = sorted(DATA.glob("*.txt"))
    shared = REPO / "tests" / "data" / "decide"
    if shared.is_dir():
        found += sorted(shared.glob("*.txt"))
    return found
