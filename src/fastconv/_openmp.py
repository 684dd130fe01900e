"""Loads the C extension with a short OpenMP spin-wait, unless the user chose a wait policy.

libgomp's default lets idle worker threads spin 300,000 times (milliseconds) after every
parallel region, and `OMP_WAIT_POLICY=active` forever. On a machine shared with busy
processes the scheduler then preempts a spinning worker instead of waking a sleeping one,
the next call waits a whole time slice for it, and a spinning worker steals CPU from the
calls that run on one thread. Sleeping at once (`passive`) fixes that but costs every
call a wake-up: 9% of the parallel speedup on the suite's sub-millisecond layers. So
fastconv asks for GOMP_SPINCOUNT=30000: workers stay awake across the gaps between phases
and back-to-back calls (30,000 pause instructions: 0.46 ms on the Xeon measured, up to
about 2 ms where `pause` is slow), then sleep. docs/threads.md has the
measurements. libgomp reads the setting once, when it is loaded, which happens when
`_core` is imported; so the variable is set just for that import and then restored,
leaving other OpenMP runtimes (PyTorch's own libgomp, say) and child processes as the
user configured them. A user's OMP_WAIT_POLICY or GOMP_SPINCOUNT is respected.
"""

from __future__ import annotations

import os
import re

_USER_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
SPIN_COUNT = "30000"
# The shared libgomp, not the renamed private copies that wheels bundle (libgomp-1a2b.so.1).
_SYSTEM_LIBGOMP = re.compile(r"/libgomp\.so\.1(\.\d+)*$", re.MULTILINE)


def _libgomp_already_loaded() -> bool:
    try:
        with open("/proc/self/maps") as f:
            return bool(_SYSTEM_LIBGOMP.search(f.read()))
    except OSError:  # not Linux: libgomp is then unlikely to be ours anyway
        return False


def _load() -> str:
    """Imports _core; returns the OpenMP wait policy it got, and who decided it."""
    chosen = [v for v in _USER_VARIABLES if v in os.environ]
    if chosen:
        how = "as the environment says (" + ", ".join(f"{v}={os.environ[v]}" for v in chosen) + ")"
    elif _libgomp_already_loaded():
        how = "libgomp's default: it was loaded before fastconv"
    else:
        how = f"GOMP_SPINCOUNT={SPIN_COUNT}, set by fastconv"
    set_here = how.endswith("set by fastconv")
    if set_here:
        os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT
    try:
        from . import _core  # noqa: F401  (libgomp reads the policy as it loads)
    finally:
        if set_here:
            del os.environ["GOMP_SPINCOUNT"]
    return how


WAIT_POLICY = _load()
