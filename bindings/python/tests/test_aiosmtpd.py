"""examples/aiosmtpd_server.py's handler behind a real SMTP conversation.

Two aiosmtpd servers listen on 127.0.0.1 on ephemeral ports (a gateway and
a submission port); the policy is written for those ports, and smtplib
talks to them over loopback.
"""

import asyncio
import importlib.util
import logging
import smtplib
import tempfile
import threading
import unittest
import warnings
from pathlib import Path

from _support import BINDING, relaypolicy

try:
    import aiosmtpd  # noqa: F401
except ImportError:  # pragma: no cover
    raise RuntimeError("the aiosmtpd test needs Debian's python3-aiosmtpd "
                       "(run it with /usr/bin/python3)") from None

spec = importlib.util.spec_from_file_location(
    "aiosmtpd_server", BINDING / "examples" / "aiosmtpd_server.py")
server_mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(server_mod)  # type: ignore[union-attr]

POLICY = """\
domain local.example local recipients alice bob
listener gateway {{
    bind 127.0.0.1:{mx}
    role gateway
}}
listener submission {{
    bind 127.0.0.1:{sub}
    role submission
}}
deny recipient trap@local.example
"""

TIMEOUT = 30


class AiosmtpdServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        logging.getLogger("relaypolicy.aiosmtpd").setLevel(logging.CRITICAL)
        cls.tmp = tempfile.TemporaryDirectory()
        users = Path(cls.tmp.name) / "users"
        users.write_text("alice:secret\n")
        cls.loop = asyncio.new_event_loop()
        cls.thread = threading.Thread(target=cls.loop.run_forever,
                                      daemon=True)
        cls.thread.start()
        # Placeholder policy until the ports are known.
        cls.handler = server_mod.RelayPolicyHandler(
            relaypolicy.Policy.from_string(""))
        factory = server_mod.smtp_factory(
            cls.handler, server_mod.UserFile(str(users)), insecure_auth=True,
            hostname="mx.test")

        async def start():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return [await cls.loop.create_server(factory, "127.0.0.1", 0)
                        for _ in range(2)]

        cls.servers = asyncio.run_coroutine_threadsafe(
            start(), cls.loop).result(TIMEOUT)
        cls.mx, cls.sub = (s.sockets[0].getsockname()[1] for s in cls.servers)
        cls.policy_file = Path(cls.tmp.name) / "policy.conf"
        cls.policy_file.write_text(POLICY.format(mx=cls.mx, sub=cls.sub))
        cls.handler.policy_path = str(cls.policy_file)
        assert cls.handler.reload()

    @classmethod
    def tearDownClass(cls) -> None:
        async def stop():
            for s in cls.servers:
                s.close()
                await s.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), cls.loop).result(TIMEOUT)
        cls.loop.call_soon_threadsafe(cls.loop.stop)
        cls.thread.join(TIMEOUT)
        cls.loop.close()
        cls.tmp.cleanup()

    def connect(self, port: int) -> smtplib.SMTP:
        s = smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT)
        self.addCleanup(s.close)
        self.assertEqual(s.ehlo("client.test")[0], 250)
        return s

    def test_gateway(self) -> None:
        s = self.connect(self.mx)
        self.assertEqual(s.mail("someone@example.org")[0], 250)
        self.assertEqual(s.rcpt("bob@remote.example"),
                         (550, b"5.7.1 <bob@remote.example>: "
                               b"Relaying prohibited"))
        self.assertEqual(s.rcpt("user%remote.example@local.example")[:1],
                         (550,))
        self.assertEqual(s.rcpt("zed@local.example"),
                         (550, b"5.1.1 <zed@local.example>: User unknown"))
        self.assertEqual(s.rcpt("trap@local.example")[0], 550)
        self.assertEqual(s.rcpt("alice@local.example"), (250, b"2.1.5 OK"))
        code, msg = s.data(b"Subject: hi\r\n\r\nhello\r\n")
        self.assertEqual(code, 250, msg)
        self.assertEqual(s.quit()[0], 221)

    def test_spoofed_local_sender(self) -> None:
        s = self.connect(self.mx)
        s.mail("admin@local.example")
        code, msg = s.rcpt("alice@local.example")
        self.assertEqual(code, 553, msg)
        self.assertTrue(msg.startswith(b"5.7.1 "), msg)

    def test_submission_needs_auth(self) -> None:
        s = self.connect(self.sub)
        s.mail("alice@local.example")
        self.assertEqual(s.rcpt("bob@remote.example"),
                         (530, b"5.7.0 Authentication required"))

    def test_submission_relays_after_auth(self) -> None:
        s = self.connect(self.sub)
        s.login("alice", "secret")
        s.mail("alice@local.example")
        self.assertEqual(s.rcpt("bob@remote.example"), (250, b"2.1.5 OK"))
        self.assertEqual(s.data(b"Subject: x\r\n\r\nbody\r\n")[0], 250)

    def test_bad_login_is_not_a_user(self) -> None:
        s = self.connect(self.sub)
        with self.assertRaises(smtplib.SMTPAuthenticationError):
            s.login("alice", "wrong")
        s.mail("alice@local.example")
        self.assertEqual(s.rcpt("bob@remote.example")[0], 530)

    def test_reload_keeps_old_policy_on_error(self) -> None:
        good = self.policy_file.read_text()
        try:
            self.policy_file.write_text("domain x bogus\n")
            self.assertFalse(self.handler.reload())
            s = self.connect(self.mx)
            s.mail("someone@example.org")
            self.assertEqual(s.rcpt("alice@local.example")[0], 250)
        finally:
            self.policy_file.write_text(good)
            self.assertTrue(self.handler.reload())


if __name__ == "__main__":
    unittest.main()
