"""How many OpenMP threads a fastconv.dask task may use: the CPUs shared among the threads of
the Dask pool that runs it.

On Dask's threaded scheduler every pool thread runs a task at the same time; if each of
those calls started a team on every CPU, a 2-core machine with 2 Dask threads would run 4
threads that wait for each other. A task on such a pool therefore uses
``cpus // pool threads`` (at least 1) for its own calls, through OpenMP's per-thread setting
(fastconv._threads.thread_limit), which leaves the rest of the process alone. Elsewhere
nothing changes: the synchronous scheduler runs one task at a time on the caller's thread,
and Dask's distributed workers start with OMP_NUM_THREADS=1 set by their nanny.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

from .._threads import cpus_available, thread_limit


def _threaded_pools():
    """The thread pools of Dask's threaded scheduler: its default pool, the pools it made
    for a num_workers setting, and one set with dask.config.set(pool=...)."""
    import dask
    from dask import threaded

    with threaded.pools_lock:
        pools = [threaded.default_pool]
        pools += [p for per_thread in threaded.pools.values() for p in per_thread.values()]
    pools.append(dask.config.get("pool", None))
    return [p for p in pools if isinstance(p, ThreadPoolExecutor)]


def dask_pool_threads() -> int | None:
    """The number of threads of the Dask threaded-scheduler pool the calling thread belongs
    to, or None when it belongs to none.

    A ThreadPoolExecutor names its threads "<its _thread_name_prefix>_<i>" and keeps its
    size in `_max_workers` (which Dask's scheduler reads too). The name is checked rather
    than membership in the pool's `_threads`: a new thread is added there only after it
    has started, and it may already be running its first task."""
    name = threading.current_thread().name
    for pool in _threaded_pools():
        prefix = getattr(pool, "_thread_name_prefix", None)
        if prefix and name.startswith(prefix + "_"):
            return max(1, int(pool._max_workers))
    return None


def task_threads():
    """A context in which this task's fastconv calls share the CPUs with the other threads of
    its Dask pool (see the module's docstring); a no-op outside such a pool."""
    threads = dask_pool_threads()
    if threads is None:
        return nullcontext()
    return thread_limit(max(1, cpus_available() // threads))
