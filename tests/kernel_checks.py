"""Checks every direct-kernel test file makes: that conv2d's "auto" runs the kernel, and
that its bits do not depend on the thread count; and arrays placed off a cache line for
the checks that its bits do not depend on where the operands lie."""

import numpy as np

import fastconv


def assert_auto_runs(x, w, strides, padding, algorithm):
    """conv2d_algorithm names `algorithm` for this call, and auto gives its exact bits."""
    assert fastconv.conv2d_algorithm(x, w, strides, padding) == algorithm
    np.testing.assert_array_equal(
        fastconv.conv2d(x, w, strides, padding),
        fastconv.conv2d(x, w, strides, padding, algorithm=algorithm),
    )


def assert_same_bits_for_any_thread_count(compute):
    """compute() gives the same bits on 1, 2, ... as many threads as this process may use
    (the caller restores the thread count: the restore_threads fixture)."""
    results = []
    for n in range(1, fastconv._threads.cpus_available() + 1):
        fastconv.set_num_threads(n)
        results.append(compute())
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def at_offset(a, offset):
    """A copy of a whose data starts `offset` bytes past a 64-byte boundary."""
    buf = np.empty(a.nbytes + 128, np.uint8)
    start = (-buf.ctypes.data) % 64 + offset
    out = buf[start : start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out
