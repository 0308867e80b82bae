"""The ctypes structures must match include/relaypolicy.h byte for byte.

The C side is printed by layout.c: bindings/CMakeLists.txt builds it and
passes its path in RELAYPOLICY_LAYOUT_TOOL; run by hand, the test compiles
it with the system C compiler against the source tree's header.
"""

import ctypes
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path
from typing import Dict

from _support import HERE, REPO, relaypolicy  # noqa: F401

from relaypolicy import _ffi


def _layout_tool(tmp: str) -> str:
    tool = os.environ.get("RELAYPOLICY_LAYOUT_TOOL")
    if tool:
        return tool
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise RuntimeError("set RELAYPOLICY_LAYOUT_TOOL or install a C "
                           "compiler: the layout cannot be checked")
    out = str(Path(tmp) / "layout")
    subprocess.run([cc, "-std=c99", "-Wall", "-Werror",
                    "-I", str(REPO / "include"), str(HERE / "layout.c"),
                    "-o", out], check=True)
    return out


def _c_layout() -> Dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        text = subprocess.run([_layout_tool(tmp)], check=True,
                              capture_output=True, text=True).stdout
    table = {}
    for line in text.splitlines():
        name, _, value = line.split()
        table[name] = int(value)
    return table


class Layout(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.c = _c_layout()

    def test_enums_are_int(self) -> None:
        for name in ("rp_status", "rp_verdict", "rp_reason", "rp_step",
                     "rp_severity"):
            self.assertEqual(self.c[name], ctypes.sizeof(_ffi.c_enum), name)
        self.assertEqual(self.c["size_t"], ctypes.sizeof(ctypes.c_size_t))
        self.assertEqual(self.c["bool"], ctypes.sizeof(ctypes.c_bool))

    def test_struct_sizes(self) -> None:
        for name, cls in _ffi.STRUCTS.items():
            with self.subTest(struct=name):
                self.assertEqual(ctypes.sizeof(cls), self.c[name])

    def test_field_offsets(self) -> None:
        for name, cls in _ffi.STRUCTS.items():
            c_fields = {k.split(".", 1)[1] for k in self.c
                        if k.startswith(name + ".")}
            py_fields = {f[0] for f in cls._fields_}
            self.assertEqual(py_fields, c_fields, name)
            for field in py_fields:
                with self.subTest(field="%s.%s" % (name, field)):
                    self.assertEqual(getattr(cls, field).offset,
                                     self.c["%s.%s" % (name, field)])

    def test_constants(self) -> None:
        from relaypolicy import Permission, Severity, Status, Step, Verdict
        want = {
            "RP_VERSION_MAJOR": _ffi.ABI_MAJOR,
            "RP_VERSION_MINOR": _ffi.ABI_MINOR,
            "RP_ADDR_MAX": _ffi.RP_ADDR_MAX,
            "RP_REPLY_MAX": _ffi.RP_REPLY_MAX,
            "RP_EXPLAIN_DEFAULT": _ffi.RP_EXPLAIN_DEFAULT,
            "RP_QUERY_EXPLAIN": _ffi.RP_QUERY_EXPLAIN,
            "RP_QUERY_TLS": _ffi.RP_QUERY_TLS,
            "RP_DECISION_TRUNCATED": _ffi.RP_DECISION_TRUNCATED,
            "RP_QUERY_SMTPUTF8": _ffi.RP_QUERY_SMTPUTF8,
            "RP_OPT_NO_FILES": _ffi.RP_OPT_NO_FILES,
            "RP_OPT_NO_JIT": _ffi.RP_OPT_NO_JIT,
            "RP_PERM_SUBMIT": Permission.SUBMIT,
            "RP_PERM_RELAY": Permission.RELAY,
            "RP_PERM_ROUTING": Permission.ROUTING,
            "RP_PERM_LOCAL_SENDER": Permission.LOCAL_SENDER,
            "RP_ACCEPT": Verdict.ACCEPT.value,
            "RP_RELAY": Verdict.RELAY.value,
            "RP_REJECT": Verdict.REJECT.value,
            "RP_TEMPFAIL": Verdict.TEMPFAIL.value,
            "RP_STEP_CLASS": Step.CLASS,
            "RP_SEV_CRITICAL": Severity.CRITICAL,
        }
        for status in Status:
            want["RP_" + status.name] = status.value
        for name, value in want.items():
            self.assertEqual(self.c[name], value, name)
        # Every status the header knows is known to the binding.
        c_status = {k for k in self.c if k.startswith("RP_E_") or k == "RP_OK"}
        self.assertEqual(c_status, {"RP_" + s.name for s in Status})

    def test_reserved_room(self) -> None:
        self.assertEqual(_ffi.RpQuery.reserved.size, 9 * 8)
        self.assertEqual(_ffi.RpDecision.reserved.size, 8 * 8)

if __name__ == "__main__":
    unittest.main()
