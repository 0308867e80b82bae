"""relaypolicy: SMTP relay and recipient decisions from librelaypolicy.

    >>> import relaypolicy
    >>> policy = relaypolicy.Policy.from_file("/etc/relaypolicy.conf")
    >>> d = policy.decide(client="203.0.113.9", local=("192.0.2.1", 25),
    ...                   sender="a@example.org", recipient="bob@remote.example")
    >>> d.verdict, d.reply
    (<Verdict.REJECT: 3>, '550 5.7.1 <bob@remote.example>: Relaying prohibited')

The shared library is found through the RELAYPOLICY_LIBRARY environment
variable, then a build directory of the source tree this package sits in,
then the system's library path (librelaypolicy.so.1).

Thread safety: a Policy is immutable and may be shared by any number of
threads; decide() releases the GIL while the library works.  A program
that reloads its policy keeps it in a Slot: Slot.swap() installs a new
Policy while other threads go on with Slot.decide().
"""

from ._ffi import library_path
from ._policy import (
    Decision,
    Error,
    Finding,
    Listener,
    Permission,
    Policy,
    PolicyError,
    Severity,
    Slot,
    Status,
    Step,
    Verdict,
    version,
)

__version__ = "1.2.0"

__all__ = [
    "Decision",
    "Error",
    "Finding",
    "Listener",
    "Permission",
    "Policy",
    "PolicyError",
    "Severity",
    "Slot",
    "Status",
    "Step",
    "Verdict",
    "library_path",
    "version",
]
