"""Low-level ctypes declarations mirroring include/relaypolicy.h.

Every structure here must match the C header field for field; the test
suite compares sizes and offsets against the compiler's view of the header
(tests/test_layout.py).  Nothing in this module is public API.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char,
    c_char_p,
    c_int,
    c_int32,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import List, Optional

# The ABI this module was written for: the library's major version (its
# SOVERSION) must match, and its minor version be at least ABI_MINOR.
ABI_MAJOR = 1
ABI_MINOR = 2

RP_NTS = ctypes.c_size_t(-1).value
RP_ADDR_MAX = 320
RP_REPLY_MAX = 512
RP_EXPLAIN_DEFAULT = 4096
RP_QUERY_EXPLAIN = 1 << 0
RP_QUERY_TLS = 1 << 1
RP_DECISION_TRUNCATED = 1 << 0
RP_QUERY_SMTPUTF8 = 1 << 2
RP_OPT_NO_FILES = 1 << 0
RP_OPT_NO_JIT = 1 << 1

# C enums are int-sized on every platform the library supports.
c_enum = c_int


class RpAllocator(Structure):
    _fields_ = [
        ("malloc", c_void_p),
        ("realloc", c_void_p),
        ("free", c_void_p),
        ("ctx", c_void_p),
    ]


class RpOptions(Structure):
    _fields_ = [
        ("allocator", POINTER(RpAllocator)),
        ("flags", c_uint32),
        ("max_policy_bytes", c_uint32),
        ("max_line_length", c_uint32),
        ("max_entries", c_uint32),
        ("max_rules", c_uint32),
        ("max_regex_length", c_uint32),
        ("max_include_depth", c_uint32),
        ("regex_match_limit", c_uint32),
        ("regex_depth_limit", c_uint32),
        ("regex_budget", c_uint32),
        ("explain_capacity", c_uint32),
        ("batch_capacity", c_uint32),
        ("base_dir", c_char_p),
        ("reserved", c_uint64 * 6),
    ]


class RpError(Structure):
    _fields_ = [
        ("status", c_uint32),
        ("line", c_uint32),
        ("column", c_uint32),
        ("offset", c_uint64),
        ("file", c_char * 256),
        ("message", c_char * 160),
        ("snippet", c_char * 32),
        ("reserved", c_uint64 * 4),
    ]


class RpFinding(Structure):
    _fields_ = [
        ("severity", c_uint32),
        ("code", c_char_p),
        ("file", c_char_p),
        ("line", c_uint32),
        ("message", c_char_p),
        ("advice", c_char_p),
        ("reserved", c_uint64 * 4),
    ]


class RpListenerInfo(Structure):
    _fields_ = [
        ("name", c_char_p),
        ("file", c_char_p),
        ("line", c_uint32),
        ("n_binds", c_uint32),
        ("require_auth", c_uint32),
        ("bind_ip", c_char * 48),
        ("bind_port", c_uint32),
        ("bind_family", c_int32),
        ("reserved", c_uint64 * 4),
    ]


class RpIp(Structure):
    _fields_ = [
        ("family", c_uint32),
        ("addr", ctypes.c_uint8 * 16),
    ]


class RpQuery(Structure):
    # Strings are passed with explicit lengths, so bytes holding NUL reach
    # the library whole; the structure keeps the bytes objects alive.
    _fields_ = [
        ("flags", c_uint32),
        ("local_port", c_uint32),
        ("client", RpIp),
        ("local", RpIp),
        ("client_ip", c_char_p),
        ("client_ip_len", c_size_t),
        ("local_ip", c_char_p),
        ("local_ip_len", c_size_t),
        ("user", c_char_p),
        ("user_len", c_size_t),
        ("groups", POINTER(c_char_p)),
        ("n_groups", c_size_t),
        ("sender", c_char_p),
        ("sender_len", c_size_t),
        ("recipient", c_char_p),
        ("recipient_len", c_size_t),
        ("helo", c_char_p),
        ("helo_len", c_size_t),
        ("peer", RpIp),
        ("reserved1", c_uint32),
        ("peer_ip", c_char_p),
        ("peer_ip_len", c_size_t),
        ("cert_fingerprint", c_char_p),
        ("cert_fingerprint_len", c_size_t),
        ("reserved", c_uint64 * 9),
    ]


class RpDecision(Structure):
    # The strings point into the workspace (reply, destination, rewritten,
    # explanation) or the policy; they are read with their lengths.
    _fields_ = [
        ("verdict", c_uint32),
        ("reason", c_uint32),
        ("step", c_uint32),
        ("code", c_uint32),
        ("enhanced", c_char * 16),
        ("listener_index", c_int32),
        ("rule", c_int32),
        ("rule_line", c_uint32),
        ("prefix_len", c_int32),
        ("permissions", c_uint32),
        ("flags", c_uint32),
        ("text", c_char_p),
        ("listener", c_char_p),
        ("rule_file", c_char_p),
        ("detail", c_char_p),
        ("reply", c_void_p),
        ("reply_len", c_size_t),
        ("destination", c_void_p),
        ("destination_len", c_size_t),
        ("rewritten", c_void_p),
        ("rewritten_len", c_size_t),
        ("explanation", c_void_p),
        ("explanation_len", c_size_t),
        ("reserved", c_uint64 * 8),
    ]


# Every structure the header declares, by its C name (used by the layout
# test).
STRUCTS = {
    "rp_allocator": RpAllocator,
    "rp_options": RpOptions,
    "rp_error": RpError,
    "rp_finding": RpFinding,
    "rp_listener_info": RpListenerInfo,
    "rp_ip": RpIp,
    "rp_query": RpQuery,
    "rp_decision": RpDecision,
}

WRITE_FN = CFUNCTYPE(c_int, c_void_p, POINTER(c_char), c_size_t)
FINDING_FN = CFUNCTYPE(c_int, c_void_p, POINTER(RpFinding))

_PROTOTYPES = {
    "rp_strerror": (c_char_p, [c_enum]),
    "rp_status_name": (c_char_p, [c_enum]),
    "rp_reason_name": (c_char_p, [c_enum]),
    "rp_verdict_name": (c_char_p, [c_enum]),
    "rp_options_init": (None, [POINTER(RpOptions)]),
    "rp_policy_compile": (
        c_enum,
        [c_char_p, c_size_t, POINTER(RpOptions), POINTER(c_void_p),
         POINTER(RpError)],
    ),
    "rp_policy_compile_file": (
        c_enum,
        [c_char_p, POINTER(RpOptions), POINTER(c_void_p), POINTER(RpError)],
    ),
    "rp_policy_load_path": (
        c_enum,
        [c_char_p, POINTER(RpOptions), POINTER(c_void_p), POINTER(RpError)],
    ),
    "rp_policy_ref": (c_void_p, [c_void_p]),
    "rp_policy_free": (None, [c_void_p]),
    "rp_policy_dump": (c_enum, [c_void_p, WRITE_FN, c_void_p]),
    "rp_policy_lint": (
        c_enum, [c_void_p, FINDING_FN, c_void_p, POINTER(c_size_t)]),
    "rp_policy_listener_count": (c_size_t, [c_void_p]),
    "rp_policy_listener": (
        c_enum, [c_void_p, c_size_t, POINTER(RpListenerInfo)]),
    "rp_decide": (
        c_enum,
        [c_void_p, POINTER(RpQuery), c_void_p, POINTER(RpDecision)]),
    "rp_workspace_new": (c_enum, [POINTER(RpOptions), POINTER(c_void_p)]),
    "rp_workspace_free": (None, [c_void_p]),
    "rp_slot_new": (
        c_enum, [c_void_p, POINTER(RpOptions), POINTER(c_void_p)]),
    "rp_slot_acquire": (c_void_p, [c_void_p]),
    "rp_slot_swap": (c_enum, [c_void_p, c_void_p]),
    "rp_slot_free": (None, [c_void_p]),
    "rp_version": (c_uint32, []),
    "rp_version_string": (c_char_p, []),
}

_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_lib_path: Optional[str] = None


def _build_tree_candidates() -> List[str]:
    """Libraries in build directories of a source checkout, newest first."""
    here = Path(__file__).resolve()
    found: List[Path] = []
    # src/relaypolicy/_ffi.py -> bindings/python -> bindings -> repository.
    for root in here.parents[3:5]:
        if not (root / "include" / "relaypolicy.h").is_file():
            continue
        for d in sorted(root.glob("build*")):
            lib = d / "librelaypolicy.so"
            if lib.exists():
                found.append(lib)
    found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [str(p) for p in found]


def candidates() -> List[str]:
    """The names tried, in order, when loading the library."""
    names: List[str] = []
    env = os.environ.get("RELAYPOLICY_LIBRARY")
    if env:
        return [env]
    names.extend(_build_tree_candidates())
    found = ctypes.util.find_library("relaypolicy")
    if found:
        names.append(found)
    names.extend([
        "librelaypolicy.so.%d" % ABI_MAJOR,
        "librelaypolicy.so",
        "librelaypolicy.%d.dylib" % ABI_MAJOR,
        "librelaypolicy.dylib",
    ])
    return names


def _bind(lib: ctypes.CDLL) -> None:
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def _check_version(lib: ctypes.CDLL, path: str) -> None:
    num = lib.rp_version()
    major, minor = (num >> 16) & 0xFF, (num >> 8) & 0xFF
    if major != ABI_MAJOR or minor < ABI_MINOR:
        raise OSError(
            "%s is librelaypolicy %d.%d; this binding needs %d.%d"
            % (path, major, minor, ABI_MAJOR, ABI_MINOR))


def load() -> ctypes.CDLL:
    """Load and bind the shared library once; later calls return it."""
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        errors = []
        for name in candidates():
            try:
                lib = ctypes.CDLL(name)
                _bind(lib)
            except (OSError, AttributeError) as exc:
                errors.append("%s: %s" % (name, exc))
                continue
            _check_version(lib, name)
            _lib_path = name
            _lib = lib
            return lib
        raise OSError(
            "cannot load librelaypolicy (set RELAYPOLICY_LIBRARY to its "
            "path); tried:\n  " + "\n  ".join(errors))


def library_path() -> str:
    """The file name the library was loaded from."""
    load()
    assert _lib_path is not None
    return _lib_path
