"""Thread control (set/get_num_threads, threadpoolctl), bit-identical results for any thread
count, and the GIL released during computation (concurrent Python threads)."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import fastconv
from fastconv.bench.busy import Spinners
from fastconv import reference
from tolerance import assert_close

ALGORITHMS = ("direct", "im2col", "auto")


def randn(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def test_default_is_at_least_one():
    assert fastconv.get_num_threads() >= 1


def test_set_num_threads_caps_other_python_threads(restore_threads):
    fastconv.set_num_threads(1)
    seen = []
    t = threading.Thread(target=lambda: seen.append(fastconv.get_num_threads()))
    t.start()
    t.join()
    assert seen == [1]


def test_threadpoolctl_sees_and_limits_fastconv(rng, restore_threads):
    assert any(lib["user_api"] == "openmp" for lib in threadpool_info()), (
        "threadpoolctl finds no OpenMP runtime: fastconv's OpenMP is not visible to it"
    )
    fastconv.set_num_threads(2)
    x, f = randn(rng, (2, 32, 32, 16)), randn(rng, (3, 3, 16, 32))
    free = fastconv.conv2d(x, f, 1, "SAME")
    with threadpool_limits(limits=1):
        assert fastconv.get_num_threads() == 1
        limited = fastconv.conv2d(x, f, 1, "SAME")
    with threadpool_limits(limits=1, user_api="openmp"):
        assert fastconv.get_num_threads() == 1
    assert fastconv.get_num_threads() == 2  # restored on exit
    np.testing.assert_array_equal(limited, free)
    assert_close(free, reference.conv2d(x, f, 1, "SAME"), 144, np.float32)


# Problems far above the C side's serial cut-off (about 2e5 FLOP per thread), so that every
# thread count really splits the work: conv 2x32x32x16 * 3x3x16x32 is ~19 MFLOP.
def _problems(rng, dtype, fmt):
    def arr(shape):
        a = randn(rng, shape, dtype)
        return a if fmt == "NHWC" else np.ascontiguousarray(a.transpose(0, 3, 1, 2))

    x = arr((2, 32, 32, 16))
    big = arr((2, 64, 64, 32))  # pooling: ~2.4e6 window reads
    f = randn(rng, (3, 3, 16, 32), dtype)
    fg = randn(rng, (3, 3, 4, 32), dtype)  # 4 groups
    fd = randn(rng, (3, 3, 16, 2), dtype)
    b = randn(rng, 32, dtype)
    calls = {
        f"conv2d-{a}": (
            lambda a=a: fastconv.conv2d(
                x, f, 1, "SAME", fmt, bias=b, activation="relu", algorithm=a
            )
        )
        for a in ALGORITHMS
    }
    calls.update(
        {
            f"conv2d-strided-{a}": (lambda a=a: fastconv.conv2d(x, f, 2, "VALID", fmt, algorithm=a))
            for a in ALGORITHMS
        }
    )
    calls.update(
        {
            f"grouped-{a}": (lambda a=a: fastconv.conv2d(x, fg, 1, "SAME", fmt, algorithm=a))
            for a in ALGORITHMS
        }
    )
    # one pixel block but many channel panels: the panels are split over the threads
    xs, fw = arr((1, 4, 4, 16)), randn(rng, (3, 3, 16, 520), dtype)
    calls["few-pixels-many-channels"] = lambda: fastconv.conv2d(
        xs, fw, 1, "SAME", fmt, algorithm="im2col"
    )
    calls["depthwise"] = lambda: fastconv.depthwise_conv2d(x, fd, 1, "SAME", fmt, bias=b)
    calls["max_pool"] = lambda: fastconv.max_pool2d(big, 3, 1, "SAME", fmt)
    calls["avg_pool"] = lambda: fastconv.avg_pool2d(big, 3, 1, "SAME", fmt)
    return calls


@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bit_identical_for_any_thread_count(dtype, fmt, rng, restore_threads):
    """Work is split over output rows/tiles, never over a sum: every thread count gives the
    same bits."""
    calls = _problems(rng, dtype, fmt)
    results = {}
    counts = range(1, len(os.sched_getaffinity(0)) + 1)
    for n in counts:
        fastconv.set_num_threads(n)
        assert fastconv.get_num_threads() == n
        results[n] = {name: call() for name, call in calls.items()}
    for name in calls:
        assert results[1][name].size > 0
        for n in counts[1:]:
            np.testing.assert_array_equal(
                results[n][name], results[1][name], err_msg=f"{name}: {n} threads vs 1"
            )


@pytest.mark.parametrize("busy", [1, 2])
def test_bit_identical_under_load(busy, rng, restore_threads):
    """With other processes keeping the cores busy, threads start late, are descheduled
    mid-task and teams shrink and grow between calls: the bits do not change."""
    calls = _problems(rng, np.float32, "NHWC")
    fastconv.set_num_threads(1)
    want = {name: call() for name, call in calls.items()}
    fastconv.set_num_threads(len(os.sched_getaffinity(0)))
    with Spinners(busy):
        for _ in range(3):
            for name, call in calls.items():
                np.testing.assert_array_equal(call(), want[name], err_msg=f"{name}, busy={busy}")


def test_algorithms_agree_on_the_threaded_problem(rng, restore_threads):
    """direct and im2col give the same results within rounding on the split problem."""
    x, f = randn(rng, (2, 32, 32, 16)), randn(rng, (3, 3, 16, 32))
    fastconv.set_num_threads(2)
    want = reference.conv2d(x, f, 1, "SAME")
    for algorithm in ALGORITHMS:
        assert_close(
            fastconv.conv2d(x, f, 1, "SAME", algorithm=algorithm),
            want,
            144,
            np.float32,
            err_msg=algorithm,
        )


def _run_concurrently(jobs):
    """Run each zero-argument job in its own Python thread, started together; results in order."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)
    errors = []

    def worker(i, job):
        try:
            barrier.wait()
            results[i] = [job() for _ in range(3)]
        except BaseException as e:  # noqa: BLE001 - surfaced in the main thread below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


@pytest.mark.parametrize("threads", [1, 2])
def test_concurrent_python_threads(threads, rng, restore_threads):
    """Two Python threads computing at once (the GIL is released in the C call) both get
    exactly the results of a lone call, whatever OpenMP does under each of them."""
    fastconv.set_num_threads(threads)
    x1, f1 = randn(rng, (2, 32, 32, 16)), randn(rng, (3, 3, 16, 32))
    x2, f2 = randn(rng, (2, 30, 34, 8), np.float64), randn(rng, (5, 5, 8, 16), np.float64)
    jobs = [
        lambda: fastconv.conv2d(x1, f1, 1, "SAME", algorithm="im2col"),
        lambda: fastconv.conv2d(x2, f2, 2, "SAME", algorithm="direct"),
        lambda: fastconv.max_pool2d(x1, 3, 1, "SAME"),
        lambda: fastconv.depthwise_conv2d(x2, f2[:, :, :, :2], 1, "VALID"),
    ]
    alone = [job() for job in jobs]
    for got, want in zip(_run_concurrently(jobs), alone):
        for g in got:
            np.testing.assert_array_equal(g, want)
    assert_close(alone[0], reference.conv2d(x1, f1, 1, "SAME"), 144, np.float32)
    assert_close(alone[1], reference.conv2d(x2, f2, 2, "SAME"), 200, np.float64)


def test_concurrent_calls_with_out(rng):
    """Concurrent calls writing into their own out= arrays do not interfere."""
    xs = [randn(rng, (2, 24, 24, 8)) for _ in range(2)]
    f = randn(rng, (3, 3, 8, 8))
    outs = [np.empty((2, 24, 24, 8), np.float32) for _ in range(2)]
    jobs = [lambda i=i: fastconv.conv2d(xs[i], f, 1, "SAME", out=outs[i]) for i in range(2)]
    for i, got in enumerate(_run_concurrently(jobs)):
        assert all(g is outs[i] for g in got)
        np.testing.assert_array_equal(outs[i], fastconv.conv2d(xs[i], f, 1, "SAME"))
