"""Thread control for the OpenMP kernels."""

from __future__ import annotations

import operator
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from . import _core


def cpus_available() -> int:
    """The CPUs this process may run on (its affinity mask: taskset, cgroup CPU sets), as the
    kernels count them."""
    return _core.cpus_available()


def set_num_threads(n: int) -> None:
    """Use at most `n` threads in later calls (threadpoolctl.threadpool_limits works too).

    `n` is an integer >= 1 (NumPy integers too). Requests above the number of CPUs this
    process may run on (``len(os.sched_getaffinity(0))``) are clamped to that number: more
    threads than cores only wait for each other. Like OpenMP's omp_set_num_threads it applies
    to the calling thread; it also caps calls made from other Python threads. Results are
    bit-identical whatever the thread count.
    """
    if isinstance(n, (bool, np.bool_)):
        raise TypeError(f"set_num_threads takes an integer >= 1, got the bool {n!r}")
    try:
        count = operator.index(n)
    except TypeError:
        raise TypeError(
            f"set_num_threads takes an integer >= 1, got {n!r} ({type(n).__name__})"
        ) from None
    if count < 1:
        raise ValueError(f"set_num_threads takes an integer >= 1, got {count}")
    _core.set_num_threads(min(count, cpus_available()))


def get_num_threads() -> int:
    """The number of threads the next call from this thread may use (at most the CPUs this
    process may run on; fewer are used for small problems and while other processes keep
    the CPUs busy)."""
    return _core.get_num_threads()


@contextmanager
def thread_limit(n: int) -> Iterator[None]:
    """Calls from this thread use at most `n` threads inside the block, and what they used
    before after it; other threads and the process-wide ``set_num_threads`` request are left
    alone (OpenMP's per-thread setting only). For pool threads that share the CPUs with their
    siblings: fastconv.dask's tasks on Dask's threaded scheduler."""
    before = _core.thread_num_threads()
    _core.set_thread_num_threads(min(int(n), before))
    try:
        yield
    finally:
        _core.set_thread_num_threads(before)
