"""Thread control for the OpenMP kernels."""

from numbers import Integral

from . import _core


def set_num_threads(n: int) -> None:
    """Use at most `n` threads in later calls (threadpoolctl.threadpool_limits works too).

    Like OpenMP's omp_set_num_threads it applies to the calling thread; it also caps calls
    made from other Python threads. Results are bit-identical whatever the thread count.
    """
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise ValueError(f"set_num_threads takes a positive integer, got {n!r}")
    _core.set_num_threads(int(n))


def get_num_threads() -> int:
    """The number of threads the next call from this thread may use."""
    return _core.get_num_threads()
