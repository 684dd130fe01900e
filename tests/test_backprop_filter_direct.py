"""conv2d_backprop_filter's unpacked kernel (csrc/conv/backprop_filter_direct_tmpl.h) on
every ISA this CPU has, against fastconv.reference: filter rows around its register tile
(chunks of up to 8 rows, as even as the registers allow, or within one tap with the
padding's pixels skipped), output channels around its vectors (2 to 16 lanes, up to 4
vectors a tile, blocks past that), bands of output rows (one row of 64+ pixels, several of
a narrow image, a short last band, rows too long for L1d walked in segments), the padded
input rows (SAME, explicit and asymmetric padding, VALID with input columns no tap reads),
strides, dilations, groups, NCHW views, float64 and the bias gradient; results
bit-identical for any thread count when tasks split the filter rows."""

from __future__ import annotations

import numpy as np
import pytest

import fastconv
from fastconv import reference
from kernel_checks import at_offset
from tolerance import assert_close


def operands(rng, x_shape, sizes, strides, padding, dtype, data_format="NHWC", dilations=1):
    x = rng.standard_normal(x_shape).astype(dtype)
    y = reference.conv2d(x, np.zeros(sizes, dtype), strides, padding, data_format, dilations)
    return x, rng.standard_normal(y.shape).astype(dtype)


def check(x, sizes, dy, strides, padding, dtype, isa="", data_format="NHWC", dilations=1):
    """fastconv against the reference, filter and bias gradients."""
    args = (x, sizes, dy, strides, padding)
    kw = dict(data_format=data_format, dilations=dilations, return_bias_grad=True)
    got, got_b = fastconv.conv2d_backprop_filter(*args, **kw)
    want, want_b = reference.conv2d_backprop_filter(*args, **kw)
    reduction = dy.size // sizes[3]
    assert got.dtype == dtype
    assert_close(got, want, reduction, dtype, isa)
    assert_close(got_b, want_b, reduction, dtype, isa)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "kh, kw, channels",  # filter rows kh x kw x channels: 1 to 27, around 4, 6, 8 and their sums
    [
        (1, 1, 1),
        (1, 5, 1),
        (2, 3, 1),
        (1, 7, 1),
        (2, 2, 2),
        (3, 3, 1),
        (1, 1, 12),
        (5, 5, 1),
        (1, 13, 1),
        (2, 2, 4),
        (3, 3, 3),
        (1, 17, 1),
    ],
)
@pytest.mark.parametrize("out_channels", [1, 3, 8, 16, 17, 32, 33, 64, 65, 80])
def test_each_isa_around_the_tile(isa, kh, kw, channels, out_channels, dtype, rng):
    sizes = (kh, kw, channels, out_channels)
    x, dy = operands(rng, (2, 7, 9, channels), sizes, 1, "SAME", dtype)
    check(x, sizes, dy, 1, "SAME", dtype, isa)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape, sizes, strides, padding, dilations",
    [
        ((1, 3, 70, 2), (3, 3, 2, 16), 1, "SAME", 1),  # rows of 70 pixels: a band each
        ((2, 23, 5, 3), (3, 3, 3, 20), 1, "SAME", 1),  # 13 rows a band, a short last one
        ((1, 40, 33, 3), (7, 7, 3, 24), 2, "SAME", 1),  # a first layer: 7x7 stride 2
        ((2, 11, 12, 1), (5, 5, 1, 32), 1, [[3, 0], [1, 4]], 1),  # explicit, asymmetric
        ((2, 12, 17, 2), (3, 2, 2, 9), (2, 3), "VALID", 1),  # columns no tap reads
        ((1, 14, 15, 3), (3, 3, 3, 10), (1, 2), "SAME", (2, 3)),  # dilation with stride
        ((2, 9, 10, 4), (2, 3, 4, 7), 3, [[4, 4], [5, 5]], 2),  # padding beyond the input
        # rows whose dy (700 x 64 channels, 175 KiB in float32) outgrow L1d: segments
        ((1, 3, 700, 3), (3, 3, 3, 64), 1, "SAME", 1),
        ((1, 4, 1401, 2), (3, 5, 2, 48), (1, 2), [[1, 2], [3, 1]], (1, 2)),
    ],
    ids=[
        "wide-rows",
        "narrow-rows",
        "first-layer",
        "explicit",
        "valid-crop",
        "dil-stride",
        "deep-padding",
        "segments",
        "segments-strided",
    ],
)
def test_each_isa_bands_and_padding(isa, shape, sizes, strides, padding, dilations, dtype, rng):
    x, dy = operands(rng, shape, sizes, strides, padding, dtype, dilations=dilations)
    check(x, sizes, dy, strides, padding, dtype, isa, dilations=dilations)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape, sizes, strides, padding, dilations",
    [
        ((2, 7, 9, 32), (3, 3, 32, 64), 1, "SAME", 1),  # 32 rows a tap: 6 + 6 + 5 + 5 + 5 + 5
        ((1, 6, 8, 16), (5, 5, 16, 16), 1, [[4, 1], [0, 3]], 1),  # explicit, one side only
        ((2, 9, 9, 7), (3, 3, 7, 40), 2, "SAME", 2),  # 7 rows a tap, stride and dilation
        ((1, 5, 5, 24), (5, 5, 24, 8), 1, [[4, 4], [4, 4]], 1),  # taps wholly in the padding
        ((2, 7, 9, 32), (3, 3, 32, 64), 1, "VALID", 1),  # no padding: chunks across taps
        ((1, 3, 701, 16), (3, 3, 16, 64), 1, "SAME", 1),  # rows walked in segments
    ],
    ids=["32-rows", "explicit", "dil-stride", "deep-padding", "valid", "segments"],
)
@pytest.mark.parametrize("threads", [1, 3])
def test_each_isa_chunks_within_taps(
    isa, shape, sizes, strides, padding, dilations, dtype, threads, restore_threads, rng
):
    """Many channels a group with padding: chunks of one tap's channels, each summing only
    the pixels whose tap reads the image (rows and columns of the band skipped); on 3
    threads the tasks that split the chunks read the input in place."""
    fastconv.set_num_threads(threads)
    x, dy = operands(rng, shape, sizes, strides, padding, dtype, dilations=dilations)
    check(x, sizes, dy, strides, padding, dtype, isa, dilations=dilations)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize(
    "sizes", [(3, 3, 1, 6), (3, 3, 2, 42), (1, 1, 3, 10)], ids=["1-in", "2-in", "3-in-1x1"]
)
def test_each_isa_groups_and_layouts(isa, sizes, data_format, dtype, rng):
    """Groups (input channels 6: 6, 3 and 2 groups) read through strided views of the input
    and out_backprop, in either layout."""
    shape = (2, 8, 9, 6) if data_format == "NHWC" else (2, 6, 8, 9)
    x, dy = operands(rng, shape, sizes, 2, "SAME", dtype, data_format)
    check(x, sizes, dy, 2, "SAME", dtype, isa, data_format)


@pytest.mark.parametrize(
    "sizes, shape, padding",
    [
        ((5, 5, 1, 32), (8, 28, 28, 1), "SAME"),
        ((7, 7, 3, 40), (1, 30, 30, 3), "SAME"),
        ((3, 3, 16, 8), (2, 20, 20, 16), "SAME"),
        ((3, 3, 4, 24), (2, 20, 20, 4), "VALID"),
        ((3, 3, 16, 64), (1, 4, 701, 16), "SAME"),
    ],
    ids=["lenet-c1", "first-layer", "one-block", "valid", "segments"],
)
def test_bit_identical_for_any_thread_count(sizes, shape, padding, restore_threads, rng):
    """Few channel blocks for many threads: tasks split the chunks of filter rows too (each
    filling its own bands, or reading the input in place where no tile reads padding:
    "one-block", "valid"), and every value is summed in the same order."""
    x, dy = operands(rng, shape, sizes, 1, padding, np.float32)
    results = []
    for threads in range(1, max(fastconv._core.cpus_available(), 2) + 3):
        fastconv.set_num_threads(threads)
        results.append(
            fastconv.conv2d_backprop_filter(x, sizes, dy, 1, padding, return_bias_grad=True)
        )
    for w, b in results[1:]:
        np.testing.assert_array_equal(w, results[0][0])
        np.testing.assert_array_equal(b, results[0][1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape, sizes",
    [((8, 7, 9, 16), (5, 5, 16, 16)), ((2, 7, 9, 3), (3, 3, 3, 16))],
    ids=["many-passes", "few-passes"],
)
def test_each_isa_same_bits_at_any_alignment(isa, shape, sizes, dtype, rng):
    """x, out_backprop and out anywhere in a cache line (NumPy aligns to 16 bytes): the
    kernel reads dy in place, or copies each band to its aligned workspace where dy's
    vectors straddle lines and many passes read the band ("many-passes": 50 chunks of 16
    output channels; "few-passes": 4-5 chunks, read in place), in the same order: the same
    bits wherever the arrays lie, and the reference's values."""
    x, dy = operands(rng, shape, sizes, 1, "SAME", dtype)
    item = np.dtype(dtype).itemsize
    got = []
    for x_at, dy_at, out_at in [(0, 0, 0), (item, 16, 48), (16, 48, 0), (48, item, 16)]:
        out = at_offset(np.zeros(sizes, dtype), out_at)
        w, b = fastconv.conv2d_backprop_filter(
            at_offset(x, x_at),
            sizes,
            at_offset(dy, dy_at),
            1,
            "SAME",
            return_bias_grad=True,
            out=out,
        )
        assert w is out
        got.append((w.copy(), b))
    for w, b in got[1:]:
        np.testing.assert_array_equal(w, got[0][0])
        np.testing.assert_array_equal(b, got[0][1])
    want, want_b = reference.conv2d_backprop_filter(x, sizes, dy, 1, "SAME", return_bias_grad=True)
    assert_close(got[0][0], want, dy.size // sizes[3], dtype, isa)
    assert_close(got[0][1], want_b, dy.size // sizes[3], dtype, isa)
