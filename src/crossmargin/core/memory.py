"""The process's allocator policy: keep freed memory for the next large allocation.

A batch that runs the kernel again and again (a benchmark's repeats, a worker's
partitions) allocates and frees the same few hundred megabytes each time. glibc returns
large blocks to the kernel on ``free`` (they are ``mmap``-ed) and the next run pays a page
fault and a zeroed page for every page again: on a virtual machine a tenth of a second or
more of system time a run, varying with the host. :func:`keep_freed_memory` asks the
allocator to serve every block from its heap and keep freed space there instead.

It is a policy of the whole process, for applications (the CLI's benchmarks and batch)
to choose; the library never sets it on import.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["keep_freed_memory"]

#: glibc's ``mallopt`` parameters (``malloc.h``).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
#: The largest trim threshold ``mallopt`` accepts (an ``int``).
_NEVER_TRIM = 2**31 - 1


def keep_freed_memory() -> bool:
    """Make glibc keep freed memory in the process for later allocations.

    Returns
    -------
    bool
        True where the policy was set (Linux with glibc), False elsewhere (nothing
        changed).

    Notes
    -----
    ``mallopt(M_MMAP_MAX, 0)``: no block is served by its own ``mmap`` (which ``free``
    would unmap); ``mallopt(M_TRIM_THRESHOLD, 2**31 - 1)``: the heap's free top is not
    returned below 2 GiB. Peak memory is unchanged; the process keeps its peak until it
    exits.

    References
    ----------
    The GNU C Library manual, "Malloc Tunable Parameters" (``mallopt``).
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM))
