"""The depthwise kernel on NCHW planes (conv/depthwise_planes_tmpl.h: stride-1 layers of
output rows 24 wide or more, read and written in place) per ISA variant: the bits of the
NHWC call transposed, and the reference's values, for widths around the vector sizes and
register blocks, windows, dilations, paddings, multipliers, bias and activations, float64."""

import numpy as np
import pytest

import fastconv
from fastconv import reference
from tolerance import assert_close


def _nchw(a):
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def _check(x, w, padding="SAME", dilations=1, stride=(1, 1), **kw):
    want = fastconv.depthwise_conv2d(x, w, stride, padding, dilations=dilations, **kw)
    got = fastconv.depthwise_conv2d(_nchw(x), w, stride, padding, "NCHW", dilations=dilations, **kw)
    np.testing.assert_array_equal(got, _nchw(want))
    ref = reference.depthwise_conv2d(x, w, stride, padding, dilations=dilations, **kw)
    assert_close(want, ref, w.shape[0] * w.shape[1] + 1, x.dtype)


@pytest.mark.parametrize(
    "width", [24, 25, 31, 32, 33, 40, 47, 48, 63, 64, 65, 66, 79, 80, 81, 97, 130]
)
def test_widths(isa, width, rng):
    _check(
        rng.standard_normal((2, 5, width, 3)).astype(np.float32),
        rng.standard_normal((3, 3, 3, 1)).astype(np.float32),
    )


@pytest.mark.parametrize("k", [(1, 1), (3, 3), (5, 5), (1, 7), (7, 2)])
@pytest.mark.parametrize("padding", ["SAME", "VALID", ((2, 0), (0, 3))])
@pytest.mark.parametrize("dilations", [1, (2, 3)])
def test_windows_paddings_dilations(isa, k, padding, dilations, rng):
    x = rng.standard_normal((1, 15, 41, 4)).astype(np.float32)
    _check(x, rng.standard_normal(k + (4, 1)).astype(np.float32), padding, dilations)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mult", [1, 2, 3])
@pytest.mark.parametrize("activation", [None, "relu6", "tanh"])
def test_multipliers_bias_activation_dtypes(isa, mult, activation, dtype, rng):
    x = rng.standard_normal((2, 6, 37, 5)).astype(dtype)
    w = rng.standard_normal((3, 3, 5, mult)).astype(dtype)
    _check(x, w, bias=rng.standard_normal(5 * mult).astype(dtype), activation=activation)


def test_stride_2_rows_and_big_window(isa, rng):
    """Row stride 2 runs here too (columns adjacent); a window past 64 taps reads the
    filter in place instead of gathering it."""
    x = rng.standard_normal((1, 20, 50, 3)).astype(np.float32)
    _check(x, rng.standard_normal((3, 3, 3, 1)).astype(np.float32), stride=(2, 1))
    _check(x, rng.standard_normal((9, 9, 3, 1)).astype(np.float32))


def test_thread_counts_same_bits(isa, rng, restore_threads):
    xc = rng.standard_normal((2, 8, 30, 40)).astype(np.float32)
    w = rng.standard_normal((3, 3, 8, 1)).astype(np.float32)
    fastconv.set_num_threads(1)
    one = fastconv.depthwise_conv2d(xc, w, 1, "SAME", "NCHW")
    fastconv.set_num_threads(2)
    np.testing.assert_array_equal(fastconv.depthwise_conv2d(xc, w, 1, "SAME", "NCHW"), one)
