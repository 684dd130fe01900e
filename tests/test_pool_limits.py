"""Pooling's memory and time are bounded by the input and output, not by the stride or the
window: a huge stride or window once cost memory and time in proportion to it.

The C operator (csrc/operators/pool2d.c) clips a window to what can touch real cells, and
width mode (csrc/operators/pool2d_tmpl.h) spaces the buffer's rows by what a row needs
rather than by the stride where one window fills a row.  Before, a 10x10 NCHW input with
stride 10**8 took a 382 MiB buffer (the largest stride: 8 GiB), and SAME with ksize 10**6
ran for minutes.  Both cases run in a child process: its peak resident memory shows the
C allocations (tracemalloc does not), and a hang is killed instead of stalling the suite.
Results must stay what they were: the reference's, and bit-identical to the same pool with
the window already clipped.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastconv
from fastconv import reference
from run_script import run_python
from tolerance import assert_close

FAST = {"max": fastconv.max_pool2d, "avg": fastconv.avg_pool2d}
REF = {"max": reference.max_pool2d, "avg": reference.avg_pool2d}

# Peak memory of calls whose output is a few cells: VmHWM, the child's high-water mark of
# resident memory, already past the imports and a warm-up call, so its growth over a call
# is what the call itself touched.  Not getrusage's ru_maxrss: Linux carries it over from
# the parent across fork and exec, so under pytest (TensorFlow imported, hundreds of MiB)
# it hid the growth of the old code's 382 MiB buffer.  The limit on the address space
# turns the old 8 GiB request of the largest stride into a MemoryError rather than
# swapping a shared machine.
PEAK = """
def peak_mib():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024
"""

HUGE_STRIDE = (
    PEAK
    + """
import resource, sys
import numpy as np
import fastconv
from fastconv import reference
from tolerance import assert_close

fast = {"max": fastconv.max_pool2d, "avg": fastconv.avg_pool2d}
ref = {"max": reference.max_pool2d, "avg": reference.avg_pool2d}
fmt, stride = sys.argv[1], int(sys.argv[2])
shape = (2, 3, 10, 10) if fmt == "NCHW" else (2, 10, 10, 1)   # width mode both
rng = np.random.default_rng(0)
for kind in fast:   # warm up: threads, plans, numpy's buffers
    fast[kind](rng.standard_normal(shape), 3, 2, "SAME", fmt)
soft, hard = resource.getrlimit(resource.RLIMIT_AS)
with open("/proc/self/status") as f:
    vm = next(int(l.split()[1]) for l in f if l.startswith("VmSize:")) * 1024
resource.setrlimit(resource.RLIMIT_AS, (vm + (1 << 30), hard))
for dtype in (np.float32, np.float64):
    x = rng.standard_normal(shape).astype(dtype)
    for kind in fast:
        for ksize, padding in ((1, "VALID"), (3, "VALID"), (4, "SAME"), (3, [[1, 2], [2, 1]])):
            before = peak_mib()
            got = fast[kind](x, ksize, stride, padding, fmt)
            grew = peak_mib() - before
            case = f"{kind} {np.dtype(dtype).name} k={ksize} s={stride} {padding} {fmt}"
            assert grew < 50, f"{case}: peak memory grew by {grew:.0f} MiB"
            want = ref[kind](x, ksize, stride, padding, fmt)
            assert_close(got, want, 1 if kind == "max" else ksize * ksize, dtype, case)
            if kind == "max":
                assert np.array_equal(got, want), case
print("ok")
"""
)


@pytest.mark.parametrize("stride", [10**8, 2**31 - 1])
@pytest.mark.parametrize("fmt", ["NCHW", "NHWC"])
def test_huge_stride_memory(fmt, stride):
    """Width mode (NCHW, NHWC with one channel), max and avg, float32 and float64: a stride
    far past the input adds under 50 MiB to the peak memory, and the results are the
    reference's (one window a row and axis: the stride only sets the output size)."""
    assert run_python(HUGE_STRIDE, timeout=60, args=(fmt, stride)).stdout.strip() == "ok"


# Windows far apart with explicit padding to match: ksize k, k - 1 cells of padding on
# each side of the 10 columns, stride k + 8: two windows a row, holding only the first
# and the last column.  The clip cannot shorten a window that the other output does not
# share, so the operator runs such calls per group of output columns (pool2d.c); before,
# the buffer held the whole padded row, 2k cells (229 MiB at k = 10**7 in NCHW).
FAR_APART = (
    PEAK
    + """
import sys
import numpy as np
import fastconv

fmt, k = sys.argv[1], int(sys.argv[2])
shape = (2, 3, 10, 10) if fmt == "NCHW" else (2, 10, 10, 3)
rng = np.random.default_rng(2)
for kind in ("max", "avg"):
    getattr(fastconv, kind + "_pool2d")(rng.standard_normal(shape), 3, 2, "SAME", fmt)
for dtype in (np.float32, np.float64):
    x = rng.standard_normal(shape).astype(dtype)
    want = x[..., [0, 9]] if fmt == "NCHW" else x[:, :, [0, 9], :]
    for kind in ("max", "avg"):
        before = peak_mib()
        got = getattr(fastconv, kind + "_pool2d")(x, (1, k), (1, k + 8),
                                                  [[0, 0], [k - 1, k - 1]], fmt)
        grew = peak_mib() - before
        assert grew < 50, f"{kind} {np.dtype(dtype).name} k={k} {fmt}: grew by {grew:.0f} MiB"
        # one real cell a window: the cell itself (max), the cell / 1 (avg), exactly
        assert np.array_equal(got, want), f"{kind} {np.dtype(dtype).name} k={k} {fmt}"
print("ok")
"""
)


@pytest.mark.parametrize("fmt", ["NCHW", "NHWC"])
def test_far_apart_windows_memory(fmt):
    """Width and channels mode: explicit padding and a stride of 10**7 add under 50 MiB."""
    assert run_python(FAR_APART, timeout=60, args=(fmt, 10**7)).stdout.strip() == "ok"


# A SAME window of ksize k >= the input size n at stride 1: out = n, the padding totals
# k - 1, split (k - 1) // 2 before; window o covers [o - (k - 1) // 2, o - (k - 1) // 2 + k),
# which contains [0, n) for every o < n when (k - 1) // 2 >= n - 1 (true for k >= 2n).  So
# every output reduces the whole plane, exactly as the window of 2n - 1 cells with n - 1
# cells of explicit padding on each side does (window o: [o - n + 1, o + n), again
# containing [0, n)).  The reference is quadratic in the window (one NumPy pass per tap,
# over a padded input of k**2 cells a plane), so it runs on that clipped window; fastconv
# must match it, and match itself on the clipped window bit for bit (the same real cells,
# each window reduced column by column in the same order).
HUGE_WINDOW = """
import sys, time
import numpy as np
import fastconv

fast = {"max": fastconv.max_pool2d, "avg": fastconv.avg_pool2d}
shape, fmt, k = eval(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rng = np.random.default_rng(1)
results = {}
for dtype in (np.float32, np.float64):
    x = rng.standard_normal(shape).astype(dtype)
    for kind in fast:
        fast[kind](x, 3, 1, "SAME", fmt)   # warm up: threads, import-time work
        t = time.perf_counter()
        got = fast[kind](x, k, 1, "SAME", fmt)
        took = time.perf_counter() - t
        assert took < 1.0, f"{kind} {np.dtype(dtype).name} k={k}: {took:.2f} s"
        results[f"{kind}_{np.dtype(dtype).name}"] = got
np.savez(sys.argv[4], **results)
"""


@pytest.mark.parametrize("ksize", [10**6, 3 * 10**6])
@pytest.mark.parametrize(
    "shape, fmt",
    [((1, 10, 10, 1), "NHWC"), ((2, 2, 10, 10), "NCHW"), ((1, 10, 10, 8), "NHWC")],
    ids=["width-NHWC", "width-NCHW", "channels"],
)
def test_huge_window_time(shape, fmt, ksize, tmp_path):
    """SAME with a window of 10**6 and 3*10**6 on a 10x10 input, width and channels mode,
    max and avg, float32 and float64: each call well under a second (TF: 0.26 s; before,
    minutes in width mode and seconds in channels mode), the child killed after 20 s, and
    the result that of the window clipped to the input (see above)."""
    saved = tmp_path / "got.npz"
    run_python(HUGE_WINDOW, timeout=20, args=(repr(shape), fmt, ksize, saved))
    results = np.load(saved)
    n = shape[1] if fmt == "NHWC" else shape[2]  # square input: n = H = W
    clipped = (2 * n - 1, [[n - 1, n - 1], [n - 1, n - 1]])
    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal(shape).astype(dtype)
        for kind in FAST:
            got = results[f"{kind}_{np.dtype(dtype).name}"]
            assert got.shape == x.shape and got.dtype == x.dtype
            want = REF[kind](x, clipped[0], 1, clipped[1], fmt)
            assert_close(got, want, 1 if kind == "max" else n * n, dtype, f"{kind} k={ksize}")
            assert np.array_equal(got, FAST[kind](x, clipped[0], 1, clipped[1], fmt))
            whole = (x.max if kind == "max" else x.mean)(
                axis=(1, 2) if fmt == "NHWC" else (2, 3), keepdims=True
            )
            assert_close(got, np.broadcast_to(whole, x.shape), n * n, dtype, kind)


# Windows past the input on one side, both or neither, at strides up to past the span:
# every branch of the clip and of the row spacing, against the reference.  The last
# paddings (explicit, up to the window less one, strides past the input) make the operator
# split the call by output columns, in every combination of its three groups.
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize("channels", [1, 3, 9])
def test_clipped_windows_sweep(kind, fmt, channels, rng):
    for h, w in ((5, 7), (1, 3), (6, 17)):
        shape = (2, h, w, channels) if fmt == "NHWC" else (2, channels, h, w)
        x = rng.standard_normal(shape).astype(np.float32)
        for kh, kw in ((9, 2), (2, 30), (16, 40), (1, 8)):
            for sh, sw in ((1, 1), (2, 5), (4, 50), (7, 3)):
                paddings = ["SAME", "VALID", [[kh - 1, kh // 2], [kw // 3, kw - 1]]]
                for padding in paddings:
                    try:
                        want = REF[kind](x, (kh, kw), (sh, sw), padding, fmt)
                    except ValueError as e:  # VALID, a window that does not fit: both refuse
                        assert "window does not fit" in str(e)
                        with pytest.raises(ValueError, match="window does not fit"):
                            FAST[kind](x, (kh, kw), (sh, sw), padding, fmt)
                        continue
                    got = FAST[kind](x, (kh, kw), (sh, sw), padding, fmt)
                    assert_close(
                        got,
                        want,
                        1 if kind == "max" else kh * kw,
                        x.dtype,
                        f"{kind} k={kh, kw} s={sh, sw} {padding} {fmt} {shape}",
                    )


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize("channels", [1, 4])
def test_far_apart_windows_sweep(kind, fmt, channels, rng):
    for w in (1, 3, 12):
        shape = (2, 3, w, channels) if fmt == "NHWC" else (2, channels, 3, w)
        x = rng.standard_normal(shape).astype(np.float64)
        for kw in (20, 100):
            for sw in (1, 7, 50, 101):
                for pads in ((kw - 1, kw - 1), (kw - 1, 0), (0, kw - 1), (kw // 2, kw - 3)):
                    args = ((2, kw), (1, sw), [[1, 0], list(pads)], fmt)
                    if (w + sum(pads) - kw) // sw * sw >= w + pads[0]:
                        continue  # a window of padding only: refused, tested elsewhere
                    got = FAST[kind](x, *args)
                    want = REF[kind](x, *args)
                    assert_close(
                        got, want, 1 if kind == "max" else 2 * kw, x.dtype, f"{kind} {args} {shape}"
                    )
