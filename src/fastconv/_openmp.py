"""Loads the C extension with a passive OpenMP wait policy, unless the user chose one.

libgomp's default lets idle worker threads spin for milliseconds after every parallel
region. On a machine shared with other busy processes the scheduler then preempts a spinning
worker instead of waking a sleeping one, and the next call waits a whole time slice for it
(measured on 2 cores with 2 busy processes: a 0.9 ms conv took 16 ms on 2 threads, and
0.93 ms with the passive policy). libgomp reads the policy once, when it is loaded, which
happens when `_core` is imported; so the variable is set just for that import and then
restored, leaving other OpenMP runtimes (PyTorch's own libgomp, say) and child processes
as the user configured them. A user's OMP_WAIT_POLICY or GOMP_SPINCOUNT is respected.
"""

from __future__ import annotations

import os
import re

_USER_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
# The shared libgomp, not the renamed private copies that wheels bundle (libgomp-1a2b.so.1).
_SYSTEM_LIBGOMP = re.compile(r"/libgomp\.so\.1(\.\d+)*$", re.MULTILINE)


def _libgomp_already_loaded() -> bool:
    try:
        with open("/proc/self/maps") as f:
            return bool(_SYSTEM_LIBGOMP.search(f.read()))
    except OSError:  # not Linux: libgomp is then unlikely to be ours anyway
        return False


def _load() -> str:
    """Imports _core; returns how its OpenMP wait policy was decided."""
    chosen = [v for v in _USER_VARIABLES if v in os.environ]
    if chosen:
        how = "as the environment says (" + ", ".join(f"{v}={os.environ[v]}" for v in chosen) + ")"
    elif _libgomp_already_loaded():
        how = "libgomp's default: it was loaded before fastconv"
    else:
        how = "passive, set by fastconv"
    set_here = how.startswith("passive")
    if set_here:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        from . import _core  # noqa: F401  (libgomp reads the policy as it loads)
    finally:
        if set_here:
            del os.environ["OMP_WAIT_POLICY"]
    return how


WAIT_POLICY = _load()
