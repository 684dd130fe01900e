"""The narrow-group kernel on NCHW planes (conv/grouped_planes_tmpl.h: groups of 2 or 4
inputs and outputs, stride-1 rows 24 wide or more, read and written in place) per ISA
variant: the bits of the NHWC call transposed (the grouped kernel's summation order), and the
reference's values, for widths around the vector sizes, windows, dilations, paddings, row
strides, bias and activations, float64, strided views, filters with Inf / NaN, threads."""

import numpy as np
import pytest

import fastconv
from fastconv import reference
from tolerance import assert_close


def _nchw(a):
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def _check(x, w, padding="SAME", dilations=1, stride=(1, 1), xc=None, **kw):
    """x NHWC; xc: the same values as an NCHW array (default: a dense copy)."""
    want = fastconv.conv2d(x, w, stride, padding, dilations=dilations, algorithm="direct", **kw)
    xc = _nchw(x) if xc is None else xc
    got = fastconv.conv2d(xc, w, stride, padding, "NCHW", dilations, algorithm="direct", **kw)
    np.testing.assert_array_equal(got, _nchw(want))
    ref = reference.conv2d(x, w, stride, padding, dilations=dilations, **kw)
    assert_close(want, ref, w.shape[0] * w.shape[1] * w.shape[2] + 1, x.dtype)
    return got


def _data(rng, shape, og, groups, k=(3, 3), dtype=np.float32):
    x = rng.standard_normal(shape[:3] + (og * groups,)).astype(dtype)
    return x, rng.standard_normal(k + (og, og * groups)).astype(dtype)


@pytest.mark.parametrize("width", [24, 25, 31, 32, 33, 40, 47, 48, 56, 63, 64, 65, 66, 97])
@pytest.mark.parametrize("og", [2, 4])
def test_widths(isa, width, og, rng):
    _check(*_data(rng, (2, 5, width), og, 16 // og))


@pytest.mark.parametrize("k", [(1, 1), (3, 3), (5, 5), (1, 7), (7, 2)])
@pytest.mark.parametrize("padding", ["SAME", "VALID", ((2, 0), (0, 3))])
@pytest.mark.parametrize("dilations", [1, (2, 3)])
def test_windows_paddings_dilations(isa, k, padding, dilations, rng):
    x, w = _data(rng, (1, 15, 41), 4, 8, k)
    _check(x, w, padding, dilations)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("og", [2, 4])
@pytest.mark.parametrize("activation", [None, "relu", "relu6", "tanh"])
@pytest.mark.parametrize("with_bias", [False, True])
def test_bias_activation_dtypes(isa, og, activation, with_bias, dtype, rng):
    x, w = _data(rng, (2, 6, 37), og, 32 // og, dtype=dtype)
    bias = rng.standard_normal(32).astype(dtype) if with_bias else None
    _check(x, w, bias=bias, activation=activation)


def test_row_stride_and_big_window(isa, rng):
    """Row stride 2 runs here too (columns adjacent); a window of more than 64 taps, and
    column stride 2, go through the NHWC transposes: the same values either way."""
    x, w = _data(rng, (1, 20, 50), 4, 4)
    _check(x, w, stride=(2, 1))
    _check(x, w, stride=(1, 2))
    _check(*_data(rng, (1, 20, 50), 4, 4, k=(9, 9)))


def test_strided_views(isa, rng):
    """Input planes that are not dense: a crop of a bigger NCHW array, every other channel."""
    big = rng.standard_normal((2, 32, 12, 60)).astype(np.float32)
    w = rng.standard_normal((3, 3, 4, 16)).astype(np.float32)
    crop = big[:, 3:19, 1:11, 2:57]
    _check(crop.transpose(0, 2, 3, 1), w, xc=crop)
    every_other = big[:, ::2]
    _check(every_other.transpose(0, 2, 3, 1), w, xc=every_other)


def test_nonfinite_filter_taps_in_padding_skipped(isa, rng):
    """An Inf weight on a tap that only the padding meets at the edges: those outputs stay
    finite (padding taps are skipped, never multiplied by zero), and NaN where it should."""
    x, w = _data(rng, (1, 6, 30), 4, 4)
    w[0, 0, 1, 5] = np.inf
    w[2, 2, 3, 10] = np.nan
    got = _check(x, w)
    assert np.isfinite(got[0, 5, 0, :]).all() and np.isfinite(got[0, 5, :, 0]).all()
    assert np.isinf(got[0, 5, 1:, 1:]).all()
    assert np.isfinite(got[0, 10, -1, :]).all() and np.isnan(got[0, 10, :-1, :-1]).all()


def test_thread_counts_same_bits(isa, rng, restore_threads):
    x, w = _data(rng, (2, 30, 40), 4, 8)
    xc = _nchw(x)
    fastconv.set_num_threads(1)
    one = fastconv.conv2d(xc, w, 1, "SAME", "NCHW", algorithm="direct")
    fastconv.set_num_threads(2)
    np.testing.assert_array_equal(
        fastconv.conv2d(xc, w, 1, "SAME", "NCHW", algorithm="direct"), one
    )


def test_prepacked_layer(isa, rng):
    """A Conv2D layer (weights packed for the NHWC grouped kernel) on NCHW input: the planes
    kernel reads the filters as given, to the same bits."""
    x, w = _data(rng, (2, 9, 30), 4, 8)
    layer = fastconv.Conv2D(w, padding="SAME", data_format="NCHW", algorithm="direct")
    np.testing.assert_array_equal(layer(_nchw(x)), _check(x, w))


def test_padding_lanes_add_nothing(isa, rng):
    """Where the edge columns run as whole vectors (AVX-512: the padding's lanes loaded as
    zeros), a padding tap adds x * w = +-0: the bits, signed zeros included, are the NHWC
    kernel's, which skips those taps.  Inputs of -0 (every term -0 or +0) and paddings wider
    than the window reaches, whose masked lanes would otherwise read the neighbouring rows."""
    x, w = _data(rng, (1, 7, 40), 4, 4)
    x[...] = -0.0
    for padding in ["SAME", ((1, 1), (4, 6)), ((0, 0), (9, 2))]:
        got = _check(x, w, padding)
        want = fastconv.conv2d(x, w, 1, padding, algorithm="direct")
        np.testing.assert_array_equal(got.view(np.uint32), _nchw(want).view(np.uint32))
        assert not np.signbit(got).any()  # sums start at +0, so the -0 terms leave +0
    x, w = _data(rng, (1, 7, 40), 4, 4)
    x[:, :, 0] = np.inf  # a row's first column: what a wrong right-edge lane would read
    x[:, :, -1] = np.nan
    _check(x, w, ((1, 1), (4, 6)))
