"""A milter protocol client: speaks to a milter as Sendmail or Postfix do.

The protocol (version 6): every packet is a 4-byte big-endian length, a
command byte and its data.  The MTA sends SMFIC_OPTNEG, then for each
stage the macros of that stage (SMFIC_MACRO) and the stage's command
(connect, HELO, MAIL, RCPT); the milter answers each command with
continue, reject, tempfail or a reply code with text.
"""

import socket
import struct
from typing import Dict, List, Optional, Tuple

SMFIF_SETSYMLIST = 0x100
ALL_PROTOCOL_STEPS = 0x003FFFFF


class MilterError(Exception):
    pass


class Milter:
    def __init__(self, port: int, host: str = "127.0.0.1",
                 timeout: float = 30.0):
        self.sock = socket.create_connection((host, port), timeout)
        self.requested: Dict[int, str] = {}
        self.protocol = 0

    def close(self) -> None:
        try:
            self.send(b"Q")
        except OSError:
            pass
        self.sock.close()

    # ---- wire ------------------------------------------------------------

    def send(self, cmd: bytes, data: bytes = b"") -> None:
        self.sock.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def recv_exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise MilterError("milter closed the connection")
            buf += chunk
        return buf

    def recv(self) -> Tuple[bytes, bytes]:
        (n,) = struct.unpack(">I", self.recv_exact(4))
        if n < 1 or n > 1 << 20:
            raise MilterError("bad packet length %d" % n)
        body = self.recv_exact(n)
        return body[:1], body[1:]

    # ---- stages ----------------------------------------------------------

    def negotiate(self, actions: int = 0x1FF,
                  protocol: int = ALL_PROTOCOL_STEPS) -> None:
        self.send(b"O", struct.pack(">III", 6, actions, protocol))
        cmd, data = self.recv()
        if cmd != b"O":
            raise MilterError("no OPTNEG reply: %r" % cmd)
        _, _, self.protocol = struct.unpack(">III", data[:12])
        rest = data[12:]
        while len(rest) >= 4:
            (stage,) = struct.unpack(">I", rest[:4])
            text, _, rest = rest[4:].partition(b"\0")
            self.requested[stage] = text.decode()

    def macros(self, stage: bytes, values: Dict[str, str]) -> None:
        data = b"".join(k.encode() + b"\0" + v.encode() + b"\0"
                        for k, v in values.items())
        self.send(b"D", stage + data)

    @staticmethod
    def answer(cmd: bytes, data: bytes) -> str:
        if cmd == b"c":
            return "continue"
        if cmd == b"r":
            return "reject"
        if cmd == b"t":
            return "tempfail"
        if cmd == b"a":
            return "accept"
        if cmd == b"y":
            return data.rstrip(b"\0").decode()
        raise MilterError("unexpected reply %r %r" % (cmd, data))

    def command(self, cmd: bytes, data: bytes) -> str:
        self.send(cmd, data)
        return self.answer(*self.recv())

    def connect(self, client: str, port: int = 40000,
                macros: Optional[Dict[str, str]] = None,
                hostname: str = "[client]") -> str:
        if macros:
            self.macros(b"C", macros)
        family = b"6" if ":" in client else b"4"
        return self.command(b"C", hostname.encode() + b"\0" + family +
                            struct.pack(">H", port) + client.encode() +
                            b"\0")

    def helo(self, name: str, macros: Optional[Dict[str, str]] = None) -> str:
        if macros:
            self.macros(b"H", macros)
        return self.command(b"H", name.encode() + b"\0")

    def mail(self, args: List[str],
             macros: Optional[Dict[str, str]] = None) -> str:
        if macros:
            self.macros(b"M", macros)
        return self.command(b"M", b"".join(a.encode() + b"\0" for a in args))

    def rcpt(self, rcpt: str, macros: Optional[Dict[str, str]] = None) -> str:
        if macros:
            self.macros(b"R", macros)
        return self.command(b"R", rcpt.encode() + b"\0")

    def abort(self) -> None:
        self.send(b"A")
