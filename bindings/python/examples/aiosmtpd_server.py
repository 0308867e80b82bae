#!/usr/bin/env python3
"""An aiosmtpd SMTP server whose RCPT answers come from a relaypolicy policy.

    python3 aiosmtpd_server.py --policy /etc/relaypolicy.conf \\
        --listen 127.0.0.1:2525 --listen 127.0.0.1:2587 \\
        --users users.txt --insecure-auth

Every RCPT TO is decided by the policy with the session's facts: the
client's address, the address and port it connected to, the SMTP AUTH
login, the MAIL FROM address and the recipient.  Accepted recipients are
added to the envelope and the message is then discarded (replace
handle_DATA to deliver it).  SIGHUP reloads the policy: a policy that does
not compile is reported and the old one stays in use.

As a real server must, it answers every command in one write (the
multi-line EHLO reply too: scanners such as nmap read a reply per
segment), gives each command --timeout seconds, enforces the advertised
SIZE, ends DATA only at <CRLF>.<CRLF> (aiosmtpd reads lines up to CR LF),
and takes AUTH PLAIN strictly (an authorization identity other than the
login is refused).  It warns at start when no listener of the policy
matches an address it listens on.

Needs Debian's python3-aiosmtpd and the relaypolicy package (bindings/python).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import hmac
import logging
import signal
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import relaypolicy
from aiosmtpd.smtp import (SMTP, AuthResult, Envelope, LoginPassword,
                           Session)

log = logging.getLogger("relaypolicy.aiosmtpd")

TEMPFAIL = "451 4.3.0 Policy error, try again later"


class RelayPolicyHandler:
    """aiosmtpd handler: RCPT asks the policy, DATA discards the message.

    ``policy`` may be replaced at any time (see reload); a RCPT already
    being decided keeps the policy it started with.
    """

    def __init__(self, policy: relaypolicy.Policy,
                 policy_path: Optional[str] = None):
        self.policy = policy
        self.policy_path = policy_path
        self.decisions = 0

    def reload(self) -> bool:
        """Compile policy_path again and swap it in; keep the old on error."""
        if not self.policy_path:
            return False
        try:
            new = relaypolicy.Policy.from_file(self.policy_path)
        except relaypolicy.PolicyError as exc:
            log.error("reload failed, keeping the current policy: %s", exc)
            return False
        self.policy = new  # The old one is freed when no call holds it.
        log.info("policy reloaded from %s", self.policy_path)
        return True

    @staticmethod
    def facts(server: SMTP, session: Session) -> Dict[str, Any]:
        """The session facts relaypolicy needs, from aiosmtpd's objects."""
        sockname = server.transport.get_extra_info("sockname")
        user = None
        if session.authenticated and session.auth_data is not None:
            data = session.auth_data
            user = data.decode() if isinstance(data, bytes) else str(data)
        return {
            "client": session.peer[0],
            "local": (sockname[0], sockname[1]),
            "user": user,
            "helo": session.host_name or None,
        }

    async def handle_RCPT(self, server: SMTP, session: Session,
                          envelope: Envelope, address: str,
                          rcpt_options: list) -> str:
        try:
            decision = self.policy.decide(
                sender=envelope.mail_from or "", recipient=address,
                **self.facts(server, session))
        except (ValueError, relaypolicy.Error) as exc:
            log.error("RCPT %s from %s: %s", address, session.peer, exc)
            return TEMPFAIL
        self.decisions += 1
        log.info("RCPT %s from %s: %s (%s)", address, session.peer[0],
                 decision.reply, decision.reason)
        if decision.accepted:
            envelope.rcpt_tos.append(address)
        return decision.reply

    async def handle_DATA(self, server: SMTP, session: Session,
                          envelope: Envelope) -> str:
        log.info("discarding a message from %s to %d recipients",
                 envelope.mail_from, len(envelope.rcpt_tos))
        return "250 2.0.0 OK: message accepted and discarded"


class OneWriteSMTP(SMTP):
    """aiosmtpd's SMTP with every reply in one write and strict AUTH PLAIN.

    aiosmtpd sends each line of the EHLO reply with its own write; a
    client that reads one reply per segment then falls a reply behind
    (nmap's smtp-open-relay reported an open relay because of it).
    """

    async def smtp_EHLO(self, hostname: str) -> None:
        lines: List[bytes] = []

        async def collect(status: Any) -> None:
            lines.append(status.encode("utf-8") if isinstance(status, str)
                         else bytes(status))

        self.push = collect  # type: ignore[method-assign]
        try:
            await super().smtp_EHLO(hostname)
        finally:
            del self.push
        if lines:
            await self.push(b"\r\n".join(lines))

    async def auth_PLAIN(self, _: Any, args: List[str]) -> AuthResult:
        # RFC 4616: authzid NUL authcid NUL passwd; acting as someone else
        # (an authzid other than the login) is not offered.
        if len(args) == 2:
            try:
                blob = base64.b64decode(args[1].encode(), validate=True)
            except (ValueError, binascii.Error):
                blob = b""
            parts = blob.split(b"\x00")
            if (len(parts) != 3 or not parts[1] or not parts[2] or
                    parts[0] not in (b"", parts[1])):
                await self.push("501 5.5.2 Malformed AUTH PLAIN response")
                return AuthResult(success=False, handled=True)
        return await super().auth_PLAIN(_, args)


class UserFile:
    """An aiosmtpd authenticator over a file of `user:password` lines."""

    def __init__(self, path: str):
        self.users: Dict[str, bytes] = {}
        for line in Path(path).read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                user, _, password = line.partition(":")
                self.users[user.strip()] = password.encode()

    def __call__(self, server: SMTP, session: Session, envelope: Envelope,
                 mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        want = self.users.get(user)
        if want is None or not hmac.compare_digest(want, auth_data.password):
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=user)


def smtp_factory(handler: RelayPolicyHandler,
                 users: Optional[UserFile] = None,
                 insecure_auth: bool = False,
                 hostname: str = "relaypolicy.localhost",
                 timeout: float = 30):
    """A protocol factory for loop.create_server()."""
    def make() -> SMTP:
        return OneWriteSMTP(handler, hostname=hostname, authenticator=users,
                            auth_require_tls=not insecure_auth,
                            auth_required=False, timeout=timeout,
                            data_size_limit=10 * 1024 * 1024)
    return make


def check_listener(policy: relaypolicy.Policy, host: str, port: int) -> None:
    """Warn when no listener of the policy matches host:port."""
    probes = (["::1", "2001:db8::1"] if ":" in host
              else ["127.0.0.1", "10.0.0.1", "203.0.113.1"])
    for client in probes:
        try:
            d = policy.decide(client=client, local=(host, port),
                              recipient="postmaster")
        except (ValueError, relaypolicy.Error):
            return
        if d.reason != "no-listener":
            return
    log.warning("no listener of the policy matches %s:%d; every recipient "
                "there will be refused 554 (no-listener)", host, port)


def _split(addr: str) -> Tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host.strip("[]"), int(port)


async def serve(args: argparse.Namespace) -> None:
    policy = relaypolicy.Policy.from_file(args.policy)
    handler = RelayPolicyHandler(policy, args.policy)
    users = UserFile(args.users) if args.users else None
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, handler.reload)
    servers = []
    for addr in args.listen:
        host, port = _split(addr)
        check_listener(policy, host, port)
        servers.append(await loop.create_server(
            smtp_factory(handler, users, args.insecure_auth,
                         timeout=args.timeout), host, port))
        log.info("listening on %s", addr)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for s in servers:
        s.close()
        await s.wait_closed()


def main(argv: Optional[list] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--policy", required=True, help="policy file")
    ap.add_argument("--listen", action="append", default=[],
                    help="address:port to listen on (repeatable)")
    ap.add_argument("--users", help="file of user:password lines for AUTH")
    ap.add_argument("--timeout", type=float, default=30,
                    help="seconds each command may take (default 30)")
    ap.add_argument("--insecure-auth", action="store_true",
                    help="offer AUTH without TLS (tests on loopback only)")
    args = ap.parse_args(argv)
    if not args.listen:
        args.listen = ["127.0.0.1:2525"]
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(name)s: %(message)s")
    try:
        asyncio.run(serve(args))
    except relaypolicy.PolicyError as exc:
        print("aiosmtpd_server: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
