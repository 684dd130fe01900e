"""The C allocator's settings for a bench run: freed memory stays in the process.

All the libraries of a run share one process, and so glibc's malloc. By default glibc maps a
large block afresh where a big one was freed and hands the top of its heap back to the
kernel once enough of it is free, so that whichever library runs right after another that
freed big temporaries (PyTorch) writes its result into pages the kernel must fault in
again: on this suite's machine r50-3x3-7's 9.4 MB filter gradient took 1,300-1,900 page
faults and 1.9-2.8 ms more per call, 3.6 ms against 2.6 at 2 threads, and lenet-c2's 3.2 MB
output 750 faults (1.2-1.5 ms) after a PyTorch call, while a program calling one library in
a loop pays none. A fixed mmap threshold and a high trim threshold keep freed memory in the
heap for every library alike (PyTorch's own 1,200-2,000 faults a call go too), the steady
state of a long-running process. Dask's workers need the same (README, "Scaling out with
Dask")."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 64 << 20  # blocks below this come from the heap and return to it
TRIM_THRESHOLD = 256 << 20  # free memory at the heap's top kept before handing it back


def keep_freed_memory() -> str | None:
    """Set glibc's thresholds (Linux only); a line for the report, or None where the C
    library is not glibc or refuses."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return None
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    if not (
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    ):
        return None
    return (
        f"allocator: glibc keeps freed memory for every library (mmap threshold "
        f"{MMAP_THRESHOLD >> 20} MiB, trim threshold {TRIM_THRESHOLD >> 20} MiB), as a "
        "long-running process would: no library's call pays page faults for another's frees"
    )
