"""Winograd F(2x2,3x3) on NCHW planes (csrc/conv/winograd_planes_tmpl.h), for every ISA this
CPU has: the same bits as the NHWC kernel on the transposed data, and the reference's values
within rounding. It runs where an NCHW call's tile count rounds up to whole GEMM panels with
at most an eighth to spare (conv2d_tmpl.h, winograd_planes_apply); the shapes here have a
multiple of 64 tiles (64 is a multiple of every micro-kernel's panel width), so it takes them
whatever the ISA: images of 1-9 pixels a side (partial tiles) in batches, vectors of tiles
that cross rows of tiles and image edges, all paddings, channel counts around the vector
widths, bias and every activation, float64, strided views and out=, Inf and NaN (re-run as
the GEMM, as the NHWC kernel does), and 1 to 3 threads."""

import math

import numpy as np
import pytest

import fastconv
from fastconv import reference

from tolerance import assert_close

PADDINGS = ["SAME", "VALID", [[1, 0], [0, 2]], [[2, 2], [1, 1]]]


def _out_size(size, padding):
    if padding == "SAME":
        return size
    if padding == "VALID":
        return size - 2
    return size + sum(padding) - 2


def _batch(h, w, padding):
    """Images per batch for a multiple of 64 tiles (2x2 blocks of output pixels)."""
    if isinstance(padding, list):
        oh, ow = _out_size(h, padding[0]), _out_size(w, padding[1])
    else:
        oh, ow = _out_size(h, padding), _out_size(w, padding)
    tiles = ((oh + 1) // 2) * ((ow + 1) // 2)
    return 64 // math.gcd(tiles, 64)


def _nchw(a):
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def _both(x, w, padding, **kwargs):
    """The NHWC result transposed to NCHW, and the NCHW call's result."""
    nhwc = fastconv.conv2d(x, w, 1, padding, algorithm="winograd", **kwargs)
    nchw = fastconv.conv2d(_nchw(x), w, 1, padding, "NCHW", algorithm="winograd", **kwargs)
    return _nchw(nhwc), nchw


@pytest.mark.parametrize("size", [(2, 3), (3, 3), (4, 4), (5, 8), (7, 9), (9, 6), (8, 62)])
@pytest.mark.parametrize("padding", PADDINGS)
def test_same_bits_as_nhwc(isa, size, padding, rng):
    n = _batch(*size, padding)
    x = rng.standard_normal((n, *size, 5)).astype(np.float32)
    w = rng.standard_normal((3, 3, 5, 7)).astype(np.float32)
    want, got = _both(x, w, padding)
    np.testing.assert_array_equal(got, want)
    ref = reference.conv2d(_nchw(x), w, 1, padding, "NCHW")
    assert_close(got, ref, 45, np.float32)


def test_one_pixel_images(isa, rng):
    """1x1 images, SAME: one tile each, every patch value but the centre is padding."""
    x = rng.standard_normal((64, 1, 1, 16)).astype(np.float32)
    w = rng.standard_normal((3, 3, 16, 16)).astype(np.float32)
    want, got = _both(x, w, "SAME")
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("channels", [(15, 17), (16, 16), (17, 15), (1, 8), (63, 65), (65, 64)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_channels_around_vector_width(isa, channels, dtype, rng):
    c, o = channels
    x = rng.standard_normal((2, 32, 32, c)).astype(dtype)  # 2 x 16 x 16 = 512 tiles
    w = rng.standard_normal((3, 3, c, o)).astype(dtype)
    want, got = _both(x, w, "SAME")
    np.testing.assert_array_equal(got, want)
    assert_close(got, reference.conv2d(_nchw(x), w, 1, "SAME", "NCHW"), 9 * c, dtype)


@pytest.mark.parametrize("activation", [None, "relu", "relu6", "sigmoid", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bias_activation(isa, activation, dtype, rng):
    x = rng.standard_normal((4, 16, 31, 8)).astype(dtype)  # 4 x 8 x 16 = 512 tiles
    w = (rng.standard_normal((3, 3, 8, 9)) / np.sqrt(72)).astype(dtype)
    b = (4 * rng.standard_normal(9)).astype(dtype)  # relu6 clips on both sides
    want, got = _both(x, w, "SAME", bias=b, activation=activation)
    np.testing.assert_array_equal(got, want)
    ref = reference.conv2d(_nchw(x), w, 1, "SAME", "NCHW", bias=b, activation=activation)
    assert_close(got, ref, 9 * 8 + 1, dtype)


def test_strided_views_and_out(isa, rng):
    """An NCHW input whose planes are every other channel of a larger array (rows still
    contiguous), written into out=; the input is not modified."""
    big = rng.standard_normal((2, 12, 32, 32)).astype(np.float32)  # 2 x 16 x 16 = 512 tiles
    x = big[:, ::2]
    before = big.copy()
    w = rng.standard_normal((3, 3, 6, 10)).astype(np.float32)
    out = np.empty((2, 10, 32, 32), np.float32)
    got = fastconv.conv2d(x, w, 1, "SAME", "NCHW", algorithm="winograd", out=out)
    assert got is out or np.shares_memory(got, out)
    nhwc = fastconv.conv2d(x.transpose(0, 2, 3, 1), w, 1, "SAME", algorithm="winograd")
    want = _nchw(nhwc)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(big, before)
    assert_close(out, reference.conv2d(x, w, 1, "SAME", "NCHW"), 9 * 6, np.float32)


@pytest.mark.parametrize("poison", [np.inf, -np.inf, np.nan, 3e38])
def test_nonfinite_reruns_as_nhwc_does(isa, poison, rng):
    """Inf, NaN or a value near max in one cell: the tile would turn it into NaN (or
    overflow), so the call is computed by the GEMM instead -- the NHWC call's bits, and the
    direct sum's Inf and NaN in the same places."""
    x = rng.standard_normal((1, 32, 64, 16)).astype(np.float32)  # 16 x 32 = 512 tiles
    x[0, 9, 40, 3] = poison
    w = rng.standard_normal((3, 3, 16, 16)).astype(np.float32) / 12
    want, got = _both(x, w, "SAME")
    np.testing.assert_array_equal(got, want)
    ref = reference.conv2d(_nchw(x), w, 1, "SAME", "NCHW")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(ref))


@pytest.mark.parametrize("threads", [2, 3])
def test_bit_identical_across_threads(threads, restore_threads, rng):
    x = rng.standard_normal((3, 64, 40, 24)).astype(np.float32)  # 3 x 32 x 20 = 1920 tiles
    w = rng.standard_normal((3, 3, 24, 40)).astype(np.float32)
    b = rng.standard_normal(40).astype(np.float32)
    xc = _nchw(x)
    args = dict(bias=b, activation="relu", algorithm="winograd")
    fastconv.set_num_threads(1)
    one = fastconv.conv2d(xc, w, 1, "SAME", "NCHW", **args)
    fastconv.set_num_threads(threads)
    np.testing.assert_array_equal(fastconv.conv2d(xc, w, 1, "SAME", "NCHW", **args), one)


def test_auto_picks_it_where_nhwc_runs_winograd(rng):
    x = rng.standard_normal((1, 64, 56, 56)).astype(np.float32)  # r50-3x3-56 in NCHW
    w = rng.standard_normal((3, 3, 64, 64)).astype(np.float32)
    assert fastconv.conv2d_algorithm(x, w, 1, "SAME", "NCHW") == "winograd"
    np.testing.assert_array_equal(
        fastconv.conv2d(x, w, 1, "SAME", "NCHW"),
        fastconv.conv2d(x, w, 1, "SAME", "NCHW", algorithm="winograd"),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prepacked_layer_runs_it(isa, dtype, rng):
    """fastconv.Conv2D's packed filters are NHWC Winograd panels; its NCHW calls take this
    path with their own transformed rows, as conv2d does: the same bits, twice (the first
    call packs, the second reuses)."""
    x = rng.standard_normal((2, 32, 32, 24)).astype(dtype)  # 2 x 16 x 16 = 512 tiles
    w = rng.standard_normal((3, 3, 24, 40)).astype(dtype)
    b = rng.standard_normal(40).astype(dtype)
    layer = fastconv.Conv2D(
        w, 1, "SAME", data_format="NCHW", bias=b, activation="relu", algorithm="winograd"
    )
    want, _ = _both(x, w, "SAME", bias=b, activation="relu")
    for _ in range(2):
        np.testing.assert_array_equal(layer(_nchw(x)), want)
