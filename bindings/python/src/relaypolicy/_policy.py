"""The Pythonic layer: Policy, Decision, Finding and the exceptions."""

from __future__ import annotations

import ctypes
import enum
import os
import threading
from dataclasses import dataclass
from typing import (
    Iterable,
    List,
    Optional,
    Tuple,
    Union,
)

from . import _ffi

__all__ = [
    "Decision",
    "Error",
    "Finding",
    "Listener",
    "Policy",
    "PolicyError",
    "Severity",
    "Status",
    "Step",
    "Verdict",
    "Permission",
    "version",
]

StrOrBytes = Union[str, bytes]
LocalAddress = Union[str, Tuple[str, int]]
PathLike = Union[str, "os.PathLike[str]"]


class Status(enum.IntEnum):
    """The library's rp_status codes."""

    OK = 0
    E_ARG = 1
    E_NOMEM = 2
    E_SYNTAX = 3
    E_POLICY = 4
    E_UNSAFE = 5
    E_LIMIT = 6
    E_IO = 7
    E_REGEX = 8
    E_MATCH = 9
    E_INTERNAL = 10
    E_STATE = 11
    E_FORMAT = 12


class Verdict(enum.Enum):
    """What the server does with a recipient."""

    ACCEPT = 1
    """Accept for local delivery (submit)."""
    RELAY = 2
    """Accept for relaying to another server."""
    REJECT = 3
    """Permanent refusal (5xx)."""
    TEMPFAIL = 4
    """Temporary refusal (4xx)."""

    @property
    def accepted(self) -> bool:
        """True for ACCEPT and RELAY: the recipient is taken."""
        return self in (Verdict.ACCEPT, Verdict.RELAY)


class Step(enum.IntEnum):
    """The relaypolicy(7) §5 step that produced a decision."""

    NONE = 0
    LISTENER = 1
    DENY_CLIENT = 2
    SYNTAX = 3
    DENY_ADDRESS = 4
    REQUIRE_AUTH = 5
    DESTINATION = 6
    CLASS = 7


class Permission(enum.IntFlag):
    """Permissions a listener grants (rp_permission)."""

    SUBMIT = 1
    RELAY = 2
    ROUTING = 4
    LOCAL_SENDER = 8


class Severity(enum.IntEnum):
    """Severity of a lint finding."""

    INFO = 1
    WARNING = 2
    CRITICAL = 3


def _status(value: int) -> Union[Status, int]:
    try:
        return Status(value)
    except ValueError:
        return value


def _text(raw: Optional[bytes]) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


class Error(Exception):
    """Base class of every error the library reports."""

    def __init__(self, message: str, status: Union[Status, int]):
        super().__init__(message)
        self.message = message
        self.status = status


class PolicyError(Error):
    """A policy failed to compile.

    Attributes: ``file`` (the policy file, or ``"<string>"``), ``line`` and
    ``column`` (1-based, 0 when not tied to a place), ``offset`` (bytes),
    ``message`` (the library's ``line:col: text``), ``snippet`` (the
    offending token) and ``status`` (a :class:`Status`).
    """

    def __init__(self, status: Union[Status, int], file: str, line: int,
                 column: int, offset: int, message: str, snippet: str):
        self.file = file
        self.line = line
        self.column = column
        self.offset = offset
        self.snippet = snippet
        super().__init__(message, status)

    def __str__(self) -> str:
        where = self.file or "<string>"
        msg = self.message
        if self.line and msg.startswith("%d:" % self.line):
            return "%s:%s" % (where, msg)
        if self.line:
            return "%s:%d:%d: %s" % (where, self.line, self.column, msg)
        return "%s: %s" % (where, msg)


@dataclass(frozen=True)
class Decision:
    """The library's decision for one recipient (an rp_decision, copied)."""

    verdict: Verdict
    code: int
    """Basic reply code, e.g. 550."""
    enhanced: str
    """RFC 3463 enhanced status code, e.g. "5.7.1"."""
    text: str
    """Reply text without the codes."""
    reply: str
    """The full reply line without CRLF, ready to send."""
    reason: str
    """The stable reason name, e.g. "relay-denied"."""
    step: Step
    listener: str
    """Name of the selected listener, or "" when none matched."""
    rule_file: str
    rule_line: int
    destination: str
    """The effective destination address, or ""."""
    rewritten: str
    """The rewritten recipient when a reroute applied, or ""."""
    explanation: str
    """A step-by-step trace when decide(explain=True), else ""."""
    truncated: bool = False
    """The explanation did not fit its buffer and was cut."""
    rule: int = -1
    prefix_len: int = -1
    permissions: Permission = Permission(0)
    detail: str = ""

    @property
    def accepted(self) -> bool:
        """True when the recipient is taken (ACCEPT or RELAY)."""
        return self.verdict.accepted

    @property
    def permanent(self) -> bool:
        """True for a permanent refusal (5xx)."""
        return self.verdict is Verdict.REJECT


@dataclass(frozen=True)
class Finding:
    """One lint finding."""

    severity: Severity
    code: str
    file: str
    line: int
    message: str
    advice: str


@dataclass(frozen=True)
class Listener:
    """A listener as compiled."""

    name: str
    file: str
    line: int
    n_binds: int
    require_auth: bool
    bind_ip: str
    bind_port: int
    bind_family: int


def version() -> str:
    """The loaded library's version string, e.g. "1.0.0"."""
    return _text(_ffi.load().rp_version_string())


def _encode(value: StrOrBytes, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    raise TypeError("%s must be str or bytes, not %s"
                    % (what, type(value).__name__))


def _split_local(local: LocalAddress) -> Tuple[str, int]:
    """Accept ("192.0.2.1", 25), "192.0.2.1:25" or "[2001:db8::1]:25"."""
    if isinstance(local, tuple):
        if len(local) != 2:
            raise ValueError("local must be (ip, port)")
        ip, port = local
    elif isinstance(local, str):
        if local.startswith("["):
            ip, sep, port = local[1:].partition("]:")
        else:
            ip, sep, port = local.rpartition(":")
            if ":" in ip:
                raise ValueError(
                    "an IPv6 local address needs brackets: '[%s]:%s'"
                    % (ip, port))
        if not sep or not ip:
            raise ValueError("local must be 'ip:port', not %r" % local)
    else:
        raise TypeError("local must be a str or an (ip, port) tuple")
    if not isinstance(ip, str):
        raise TypeError("the local IP must be a str")
    if isinstance(port, bool):
        raise TypeError("the local port must be an int")
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise ValueError("the local port must be a number, not %r"
                         % (port,)) from None
    if not 1 <= port <= 65535:
        raise ValueError("local port %d is outside 1-65535" % port)
    return ip, port


def _make_options(base_dir: Optional[PathLike], no_files: bool,
                  no_jit: bool, limits: dict) -> _ffi.RpOptions:
    opts = _ffi.RpOptions()
    _ffi.load().rp_options_init(ctypes.byref(opts))
    if no_files:
        opts.flags |= _ffi.RP_OPT_NO_FILES
    if no_jit:
        opts.flags |= _ffi.RP_OPT_NO_JIT
    if base_dir is not None:
        opts.base_dir = os.fsencode(base_dir)
    for key, value in limits.items():
        if key not in _LIMITS:
            raise TypeError("unknown option %r" % key)
        if not isinstance(value, int) or not 0 < value <= 0xFFFFFFFF:
            raise ValueError("%s must be a positive 32-bit integer" % key)
        setattr(opts, key, value)
    return opts


_LIMITS = frozenset([
    "max_policy_bytes", "max_line_length", "max_entries", "max_rules",
    "max_regex_length", "max_include_depth", "regex_match_limit",
    "regex_depth_limit",
])


def _compile_error(err: _ffi.RpError, status: int) -> PolicyError:
    return PolicyError(
        status=_status(status),
        file=_text(err.file),
        line=err.line,
        column=err.column,
        offset=err.offset,
        message=_text(err.message)
        or _text(_ffi.load().rp_strerror(status)),
        snippet=_text(err.snippet),
    )


class Policy:
    """A compiled, immutable policy.

    Build one with :meth:`from_file` or :meth:`from_string`, then call
    :meth:`decide` once per recipient.

    Thread safety: a Policy may be shared by any number of threads without
    locks; ``decide``, ``dump``, ``lint`` and ``listeners`` only read it.
    The C call releases the GIL (ctypes does so for every foreign call), so
    decisions made by several threads run in parallel.  ``close`` may be
    called while other threads are deciding: the policy is freed only when
    the last of those calls has returned.  To reload while other threads
    decide, keep the policy in a :class:`Slot`.
    """

    __slots__ = ("_handle", "_lock", "_users", "_closed", "_lib",
                 "__weakref__")

    def __init__(self, handle: int):
        """Wrap a handle; use from_file() or from_string() instead."""
        self._lib = _ffi.load()
        self._handle: Optional[int] = handle
        self._lock = threading.Lock()
        self._users = 0
        self._closed = False

    @classmethod
    def from_string(cls, text: StrOrBytes, *,
                    base_dir: Optional[PathLike] = None,
                    no_files: bool = False, no_jit: bool = False,
                    **limits: int) -> "Policy":
        """Compile a policy from its text.

        ``base_dir`` resolves relative ``include`` and list files;
        ``no_files`` forbids them; ``no_jit`` disables regex JIT; any
        ``rp_options`` limit (``max_rules=...``) may be given by name.
        Raises :class:`PolicyError` when the policy does not compile.
        """
        data = _encode(text, "text")
        opts = _make_options(base_dir, no_files, no_jit, limits)
        lib = _ffi.load()
        out = ctypes.c_void_p()
        err = _ffi.RpError()
        status = lib.rp_policy_compile(data, len(data), ctypes.byref(opts),
                                       ctypes.byref(out), ctypes.byref(err))
        if status != Status.OK:
            raise _compile_error(err, status)
        return cls(out.value)

    @classmethod
    def from_file(cls, path: PathLike, *,
                  base_dir: Optional[PathLike] = None,
                  no_jit: bool = False, **limits: int) -> "Policy":
        """Compile a policy file, or open a compiled policy file
        (``relaypolicy compile``): the file's first bytes decide, read
        once (rp_policy_load_path()).  See :meth:`from_string` for the
        options; a compiled file takes only ``no_jit``.

        Raises :class:`PolicyError` (``status`` ``Status.E_IO`` when the
        file cannot be read, ``Status.E_FORMAT`` for a compiled policy
        file that is damaged or of another format version).
        """
        opts = _make_options(base_dir, False, no_jit, limits)
        lib = _ffi.load()
        out = ctypes.c_void_p()
        err = _ffi.RpError()
        status = lib.rp_policy_load_path(
            os.fsencode(path), ctypes.byref(opts), ctypes.byref(out),
            ctypes.byref(err))
        if status != Status.OK:
            raise _compile_error(err, status)
        return cls(out.value)

    # ---- lifetime -------------------------------------------------------

    def _acquire(self) -> int:
        with self._lock:
            if self._closed or self._handle is None:
                raise ValueError("operation on a closed Policy")
            self._users += 1
            return self._handle

    def _release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._closed and self._users == 0:
                self._free_locked()

    def _free_locked(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            self._lib.rp_policy_free(handle)

    def close(self) -> None:
        """Release the policy.  Calls still running finish first."""
        with self._lock:
            self._closed = True
            if self._users == 0:
                self._free_locked()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "Policy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None:
            self._handle = None
            try:
                self._lib.rp_policy_free(handle)
            except Exception:  # Interpreter shutdown.
                pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else "%d listeners" % len(
            self.listeners())
        return "<relaypolicy.Policy %s>" % state

    # ---- deciding -------------------------------------------------------

    def decide(self, *, client: Optional[str], local: LocalAddress,
               recipient: StrOrBytes, user: Optional[str] = None,
               groups: Iterable[str] = (), sender: StrOrBytes = "",
               helo: Optional[StrOrBytes] = None,
               explain: bool = False, smtputf8: bool = False,
               peer: Optional[str] = None,
               cert: Optional[str] = None) -> Decision:
        """Decide one recipient (relaypolicy(7) §5).

        ``client`` is the client's IP; ``local`` is the address and port it
        connected to, as ``("192.0.2.1", 25)``, ``"192.0.2.1:25"`` or
        ``"[2001:db8::1]:587"``; ``user`` is the SMTP AUTH login or None;
        ``groups`` the user's groups as resolved by the caller; ``sender``
        the MAIL FROM path ("" or "<>" is the null sender); ``recipient``
        the RCPT TO path.  Sender and recipient are never an error: bad
        syntax gets a 501 decision.  Bad facts (an IP that is not strict
        inet_pton text, a port outside 1-65535, an empty user name...)
        raise ValueError with the library's message.  ``smtputf8`` says
        the client gave SMTPUTF8 on MAIL FROM (RFC 6531): without it a
        UTF-8 address is refused with 553 5.6.7 (smtputf8-required).
        ``peer`` is the host that actually connected when ``client`` is a
        claim it made (XCLIENT, a PROXY header): the claim is believed
        only from a `trusted-proxy` of the policy; with a peer, ``client``
        may be None.  ``cert`` is the SHA-256 fingerprint of the client
        certificate's public key (64 hex digits, colons allowed), as
        Postfix's ccert_pubkey_fingerprint; a malformed one raises
        ValueError.
        """
        q = _query(client=client, local=local, recipient=recipient,
                   user=user, groups=groups, sender=sender, helo=helo,
                   explain=explain, smtputf8=smtputf8, peer=peer, cert=cert)
        handle = self._acquire()
        try:
            return _decide_handle(self._lib, handle, q)
        finally:
            self._release()

    # ---- inspection -----------------------------------------------------

    def dump(self) -> str:
        """The compiled policy in normalised policy-language form."""
        chunks: List[bytes] = []

        def write(_ctx: object, data: object, length: int) -> int:
            chunks.append(ctypes.string_at(data, length))
            return 0

        cb = _ffi.WRITE_FN(write)
        handle = self._acquire()
        try:
            status = self._lib.rp_policy_dump(handle, cb, None)
        finally:
            self._release()
        if status != Status.OK:
            raise Error(_text(self._lib.rp_strerror(status)),
                        _status(status))
        return b"".join(chunks).decode("utf-8", "replace")

    def lint(self) -> List[Finding]:
        """Audit the policy (relaypolicy(7) §7): a list of findings."""
        found: List[Finding] = []

        def report(_ctx: object, fp: "ctypes._Pointer[_ffi.RpFinding]") -> int:
            f = fp.contents
            sev: Union[Severity, int]
            try:
                sev = Severity(f.severity)
            except ValueError:
                sev = f.severity
            found.append(Finding(
                severity=sev,  # type: ignore[arg-type]
                code=_text(f.code), file=_text(f.file), line=f.line,
                message=_text(f.message), advice=_text(f.advice)))
            return 0

        cb = _ffi.FINDING_FN(report)
        handle = self._acquire()
        try:
            status = self._lib.rp_policy_lint(handle, cb, None, None)
        finally:
            self._release()
        if status != Status.OK:
            raise Error(_text(self._lib.rp_strerror(status)),
                        _status(status))
        return found

    def listeners(self) -> List[Listener]:
        """The policy's listeners, in file order."""
        handle = self._acquire()
        try:
            out = []
            for i in range(self._lib.rp_policy_listener_count(handle)):
                info = _ffi.RpListenerInfo()
                if self._lib.rp_policy_listener(handle, i,
                                                ctypes.byref(info)) != 0:
                    break
                out.append(Listener(
                    name=_text(info.name), file=_text(info.file),
                    line=info.line, n_binds=info.n_binds,
                    require_auth=bool(info.require_auth),
                    bind_ip=_text(info.bind_ip), bind_port=info.bind_port,
                    bind_family=info.bind_family))
            return out
        finally:
            self._release()


def _query(*, client: Optional[str], local: LocalAddress,
           recipient: StrOrBytes, user: Optional[str],
           groups: Iterable[str], sender: StrOrBytes,
           helo: Optional[StrOrBytes], explain: bool,
           smtputf8: bool = False, peer: Optional[str] = None,
           cert: Optional[str] = None) -> _ffi.RpQuery:
    """The rp_query for Policy.decide()'s arguments."""
    local_ip, port = _split_local(local)
    q = _ffi.RpQuery()

    def put(field: str, value: StrOrBytes, what: str) -> None:
        # The structure keeps a reference to the bytes it points to.
        data = _encode(value, what)
        setattr(q, field, data)
        setattr(q, field + "_len", len(data))

    if client is not None or peer is None:
        put("client_ip", client if client is not None else "", "client")
    if peer is not None:
        put("peer_ip", peer, "peer")
    if cert is not None:
        put("cert_fingerprint", cert, "cert")
    put("local_ip", local_ip, "local")
    q.local_port = port
    if user is not None:
        put("user", user, "user")
    put("sender", sender, "sender")
    put("recipient", recipient, "recipient")
    if helo is not None:
        put("helo", helo, "helo")
    if isinstance(groups, (str, bytes)):
        raise TypeError("groups must be a sequence of names, not a str")
    names = [_encode(g, "group") for g in groups]
    if names:
        if any(b"\0" in n for n in names):
            raise ValueError("a group name holds a NUL byte")
        q.groups = (ctypes.c_char_p * len(names))(*names)
        q.n_groups = len(names)
    if explain:
        q.flags |= _ffi.RP_QUERY_EXPLAIN
    if smtputf8:
        q.flags |= _ffi.RP_QUERY_SMTPUTF8
    return q


class _Workspace:
    """One thread's rp_workspace, freed with the thread's local data."""

    __slots__ = ("handle", "_lib")

    def __init__(self, lib: "ctypes.CDLL"):
        self._lib = lib
        out = ctypes.c_void_p()
        status = lib.rp_workspace_new(None, ctypes.byref(out))
        if status != Status.OK:
            raise Error(_text(lib.rp_strerror(status)), _status(status))
        self.handle = out.value

    def __del__(self) -> None:
        handle, self.handle = getattr(self, "handle", None), None
        if handle is not None:
            try:
                self._lib.rp_workspace_free(handle)
            except Exception:  # Interpreter shutdown.
                pass


_local = threading.local()


def _workspace(lib: "ctypes.CDLL") -> int:
    """The calling thread's workspace, made on its first decision."""
    ws = getattr(_local, "ws", None)
    if ws is None:
        ws = _local.ws = _Workspace(lib)
    return ws.handle


def _decide_handle(lib: "ctypes.CDLL", handle: int,
                   q: _ffi.RpQuery) -> Decision:
    """rp_decide() on a policy handle the caller holds a reference to."""
    d = _ffi.RpDecision()
    status = lib.rp_decide(handle, ctypes.byref(q), _workspace(lib),
                           ctypes.byref(d))
    if status == Status.E_ARG:
        raise ValueError(_text(d.detail) or "invalid argument")
    if status != Status.OK:
        msg = _text(d.detail) or _text(lib.rp_strerror(status))
        raise Error(msg, _status(status))
    return _decision(d, lib)


class Slot:
    """The policy in force, for programs that reload it (rp_policy_slot).

    Threads call :meth:`decide`; a reloading thread compiles a new
    :class:`Policy` and calls :meth:`swap`.  Decisions in flight finish on
    the policy they started with.  The slot holds its own reference: the
    Policy objects given to it may be closed afterwards.
    """

    __slots__ = ("_handle", "_lib", "__weakref__")

    def __init__(self, policy: Optional[Policy] = None):
        self._lib = _ffi.load()
        out = ctypes.c_void_p()
        status = self._lib.rp_slot_new(None, None, ctypes.byref(out))
        if status != Status.OK:
            raise Error(_text(self._lib.rp_strerror(status)),
                        _status(status))
        self._handle: Optional[int] = out.value
        if policy is not None:
            self.swap(policy)

    def swap(self, policy: Optional[Policy]) -> None:
        """Put @policy in force (None empties the slot)."""
        ref = None
        if policy is not None:
            handle = policy._acquire()
            try:
                ref = self._lib.rp_policy_ref(handle)
            finally:
                policy._release()
        status = self._lib.rp_slot_swap(self._live(), ref)
        if status != Status.OK:
            self._lib.rp_policy_free(ref)
            raise Error(_text(self._lib.rp_strerror(status)),
                        _status(status))

    def decide(self, **facts: object) -> Decision:
        """As :meth:`Policy.decide`, on the policy currently in force."""
        q = _query(**facts)  # type: ignore[arg-type]
        handle = self._lib.rp_slot_acquire(self._live())
        if handle is None:
            raise ValueError("the slot holds no policy")
        try:
            return _decide_handle(self._lib, handle, q)
        finally:
            self._lib.rp_policy_free(handle)

    def _live(self) -> int:
        if self._handle is None:
            raise ValueError("operation on a closed Slot")
        return self._handle

    def close(self) -> None:
        """Release the slot and its policy."""
        handle, self._handle = self._handle, None
        if handle is not None:
            self._lib.rp_slot_free(handle)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # Interpreter shutdown.
            pass


def _string(ptr: Optional[int], length: int) -> str:
    return _text(ctypes.string_at(ptr, length)) if ptr else ""


def _decision(d: _ffi.RpDecision, lib: "ctypes.CDLL") -> Decision:
    try:
        verdict = Verdict(d.verdict)
    except ValueError:
        raise Error("library returned no verdict", Status.E_INTERNAL) \
            from None
    return Decision(
        verdict=verdict,
        code=d.code,
        enhanced=_text(d.enhanced),
        text=_text(d.text),
        reply=_string(d.reply, d.reply_len),
        reason=_text(lib.rp_reason_name(d.reason)),
        step=Step(d.step) if 0 <= d.step <= 7 else d.step,
        listener=_text(d.listener),
        rule_file=_text(d.rule_file),
        rule_line=d.rule_line,
        destination=_string(d.destination, d.destination_len),
        rewritten=_string(d.rewritten, d.rewritten_len),
        explanation=_string(d.explanation, d.explanation_len),
        truncated=bool(d.flags & _ffi.RP_DECISION_TRUNCATED),
        rule=d.rule,
        prefix_len=d.prefix_len,
        permissions=Permission(d.permissions & 0xF),
        detail=_text(d.detail),
    )
