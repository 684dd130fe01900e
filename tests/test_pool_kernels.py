"""The pooling kernel (csrc/pool/pool_tmpl.h) path by path, on every ISA variant the CPU has.

The kernel has two modes: channels in the vector lanes (NHWC and any view with contiguous
channels) and output columns in the lanes (NCHW: one channel plane at a time, rows batched,
short rows reduced in one pass over a batch). Sizes sweep around the vector widths (16
float32 lanes in zmm, 8 in ymm, 4 in xmm), the column blocks and row batches of the
kernel's buffer, and the layouts that pick each path. Every result is checked against
fastconv.reference, and, since each output is reduced in the same order on every path, for
bit-identity across layouts, ISAs and thread counts.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastconv
from fastconv import reference
from tolerance import assert_close

FAST = {"max": fastconv.max_pool2d, "avg": fastconv.avg_pool2d}
REF = {"max": reference.max_pool2d, "avg": reference.avg_pool2d}
DTYPES = [np.float32, np.float64]


def check(kind, x, ksize, strides, padding, fmt="NHWC", out=None):
    """fastconv against the reference; returns fastconv's result."""
    got = FAST[kind](x, ksize, strides, padding, fmt, out=out)
    want = REF[kind](np.array(x), ksize, strides, padding, fmt)
    kh, kw = (ksize, ksize) if np.isscalar(ksize) else ksize
    assert_close(
        got,
        want,
        1 if kind == "max" else kh * kw,
        x.dtype,
        f"{kind} k={ksize} s={strides} {padding} {fmt} {x.shape} {x.strides}",
    )
    return got


def explicit(kh, kw, i):
    """Explicit padding below the window, different on each side (index i varies it)."""
    return ((i % kh, (i + 1) % kh), ((i + 2) % kw, i % kw))


WINDOWS = [
    ((1, 1), 1),
    ((2, 2), 2),
    ((3, 3), 2),
    ((3, 3), 1),
    ((2, 3), (1, 2)),
    ((3, 1), 3),
    ((5, 5), 2),
    ((1, 4), (2, 3)),
    ((4, 2), (3, 1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("channels", [1, 3, 7, 8, 15, 16, 17, 33, 64, 65])
def test_channels_mode_widths(isa, kind, channels, dtype, rng):
    """NHWC: channel counts around every vector width, each window shape and padding."""
    for i, (k, s) in enumerate(WINDOWS):
        x = rng.standard_normal((2, 9, 11, channels)).astype(dtype)
        for padding in ["SAME", "VALID", explicit(*k, i)]:
            check(kind, x, k, s, padding)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("width", [1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 64, 100])
def test_width_mode_widths(isa, kind, width, dtype, rng):
    """NCHW: row widths around every vector width on both sides of the flat-batch limit
    (outputs shorter than 16 columns), each window shape and padding."""
    for i, (k, s) in enumerate(WINDOWS):
        x = rng.standard_normal((2, 3, 7, width)).astype(dtype)
        for padding in ["SAME", "VALID", explicit(*k, i)]:
            if padding == "VALID" and width < k[1]:
                continue  # an empty result or a ValueError, tested in test_errors.py
            check(kind, x, k, s, padding, "NCHW")


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    "shape, k, s",
    [
        ((1, 5, 40, 300), 3, 2),  # 300 channels: blocks of one output column (4 KiB buffer)
        ((1, 4, 9, 1100), 2, 1),  # a column wider than the buffer's budget
        ((2, 6, 50, 64), 3, 2),  # several evened-out column blocks per row
        ((1, 7, 33, 48), (2, 5), (1, 3)),
    ],
)
def test_channels_mode_column_blocks(isa, kind, shape, k, s, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    for padding in ["SAME", "VALID"]:
        check(kind, x, k, s, padding)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    "shape, k, s",
    [
        ((1, 2, 301, 10), 3, 2),  # tall planes: many row batches and row tasks
        ((2, 3, 120, 28), 2, 2),  # flat batches written straight into the output rows
        ((1, 2, 90, 112), 3, 2),  # windows past Wo in the pitch: per-row horizontal pass
        ((1, 1, 5, 4000), 3, 1),  # rows longer than the buffer's budget: batches of one
    ],
)
def test_width_mode_batches(isa, kind, shape, k, s, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    for padding in ["SAME", "VALID"]:
        check(kind, x, k, s, padding, "NCHW")


def views(rng, dtype):
    """(name, 4-D array, data_format): layouts that take each path of the kernel."""
    big = rng.standard_normal((3, 13, 21, 40)).astype(dtype)
    nchw = rng.standard_normal((3, 20, 13, 21)).astype(dtype)
    return [
        ("NHWC cropped channels", big[:2, 1:12, 2:19, 3:35], "NHWC"),  # sc 1, sw != C
        ("NHWC reversed", big[:, ::-1, ::-1, :], "NHWC"),  # negative strides
        ("NHWC strided channels", big[:, :, :, ::2], "NHWC"),  # scalar path
        ("NHWC one channel", big[:, :, :, :1], "NHWC"),  # width mode
        ("NCHW cropped plane", nchw[:, 2:9, 1:12, 3:20], "NCHW"),  # sh != W
        ("NCHW reversed rows", nchw[:, :, ::-1, :], "NCHW"),
        ("NCHW strided width", nchw[:, :, :, ::2], "NCHW"),  # channels mode
        ("Fortran order", np.asfortranarray(big), "NHWC"),
    ]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_views(isa, kind, dtype, rng):
    for name, x, fmt in views(rng, dtype):
        for k, s in [((3, 3), 2), ((2, 2), 2), ((2, 3), 1)]:
            for padding in ["SAME", "VALID"]:
                check(kind, x, k, s, padding, fmt)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_same_bits_in_every_layout_and_isa(kind, dtype, rng):
    """Each output is reduced in the same order (a window's columns, each top to bottom) in
    both modes and at every vector width: results are bit-identical across them."""
    x = rng.standard_normal((2, 11, 37, 24)).astype(dtype)
    x_nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    before = fastconv._core.get_isa()
    try:
        for k, s, padding in [(3, 2, "SAME"), (2, 2, "VALID"), ((3, 2), 1, ((2, 1), (1, 1)))]:
            results = []
            for isa in fastconv._core.isa_names():
                fastconv._core.set_isa(isa)
                results.append(FAST[kind](x, k, s, padding))
                results.append(FAST[kind](x_nchw, k, s, padding, "NCHW").transpose(0, 2, 3, 1))
            for r in results[1:]:
                np.testing.assert_array_equal(r, results[0])
    finally:
        fastconv._core.set_isa(before)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_for_one_and_two_threads(kind, fmt, dtype, rng, restore_threads):
    """Large enough to run on two threads; the split never changes a result."""
    x = rng.standard_normal((4, 32, 56, 56) if fmt == "NCHW" else (4, 56, 56, 32)).astype(dtype)
    results = []
    for threads in (1, 2, 1):
        fastconv.set_num_threads(threads)
        results.append(FAST[kind](x, 3, 2, "SAME", fmt))
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_nan_in_every_cell_of_a_window(isa, fmt, dtype):
    """A NaN anywhere in a window wins, whether it comes first, last or in between, in the
    vertical and in the horizontal pass, in vectors and in the scalar tails."""
    for c, w in [(16, 9), (3, 20), (1, 40)]:
        shape = (1, c, 7, w) if fmt == "NCHW" else (1, 7, w, c)
        base = np.arange(np.prod(shape), dtype=dtype).reshape(shape) % 13 - 6
        for idx in [(0, 0, 0, 0), (0, 3, 4, 0), (0, 6, w - 1, c - 1), (0, 2, w // 2, c // 2)]:
            if fmt == "NCHW":
                idx = (idx[0], idx[3], idx[1], idx[2])
            x = base.copy()
            x[idx] = np.nan
            for k, s in [(3, 2), (2, 2), (3, 1)]:
                got = FAST["max"](x, k, s, "SAME", fmt)
                want = REF["max"](x, k, s, "SAME", fmt)
                np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
                assert np.isnan(got).any()
                assert_close(got, want, 1, dtype)


@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
def test_max_pool_infinities_and_padding(fmt, rng):
    """-inf inputs are real cells (they win over nothing, not over padding); +inf wins."""
    x = np.full((1, 6, 6, 17) if fmt == "NHWC" else (1, 17, 6, 6), -np.inf, np.float32)
    got = check("max", x, 3, 2, "SAME", fmt)
    assert (got == -np.inf).all()
    x.flat[5] = np.inf
    check("max", x, 3, 1, "SAME", fmt)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
def test_windows_with_one_real_cell(kind, fmt, rng):
    """Explicit padding one below the window: corner windows hold a single real cell."""
    x = rng.standard_normal((2, 4, 5, 18) if fmt == "NHWC" else (2, 18, 4, 5)).astype(np.float32)
    for k in [2, 3, 4]:
        check(kind, x, k, 1, ((k - 1, k - 1), (k - 1, k - 1)), fmt)


def _l3_bytes():
    """The last-level cache as the kernels' operator reads it (runtime/cpu.c: Linux's sysfs
    first); None where sysfs does not say."""
    from pathlib import Path

    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        if level == "3" and kind != "Instruction":
            scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(size[-1], 1)
            return int(size.rstrip("KMG")) * scale
    return None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_output_past_the_last_level_cache(kind, dtype, restore_threads):
    """An NHWC output larger than the L3 is written with non-temporal stores (a block at a
    time through the buffer, plain stores at the unaligned ends): the same bits as the NCHW
    path (plain stores) at 1 and 2 threads, into a fresh array and into an out= whose cells
    start one element past a vector boundary, NaN and signed zeros included."""
    l3 = _l3_bytes()
    if l3 is None or l3 > 128 << 20:
        pytest.skip("last-level cache unknown or too large for a test-sized output")
    h = w = 160
    c = int(1.25 * l3 / (h * w * np.dtype(dtype).itemsize)) | 1  # odd: a scalar tail
    x = np.random.default_rng(7).standard_normal((1, h, w, c)).astype(dtype)
    x[0, 5, 5, 3] = np.nan
    x[0, 9, 9, 1], x[0, 9, 10, 1] = -0.0, 0.0
    want = FAST[kind](np.ascontiguousarray(x.transpose(0, 3, 1, 2)), 3, 1, "SAME", "NCHW")
    want = want.transpose(0, 2, 3, 1)
    assert want.nbytes > l3
    for threads in (1, 2):
        fastconv.set_num_threads(threads)
        got = FAST[kind](x, 3, 1, "SAME")
        np.testing.assert_array_equal(got.view(np.uint8), np.ascontiguousarray(want).view(np.uint8))
        store = np.empty(got.size + 1, dtype)
        out = store[1:].reshape(got.shape)
        FAST[kind](x, 3, 1, "SAME", out=out)
        np.testing.assert_array_equal(out.view(np.uint8), got.view(np.uint8))
