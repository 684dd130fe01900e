"""The depthwise kernel per ISA variant: widths around its 8-pixel register block, channel
counts around the vector widths, multipliers, strides, dilations, paddings, epilogue."""

import numpy as np
import pytest

import fastconv
from fastconv import reference

from tolerance import assert_close


@pytest.mark.parametrize("width", [1, 7, 8, 9, 17, 26])
@pytest.mark.parametrize("channels", [1, 4, 15, 16, 17, 33])
def test_widths_and_channels(isa, width, channels, rng):
    x = rng.standard_normal((2, 5, width, channels)).astype(np.float32)
    w = rng.standard_normal((3, 3, channels, 1)).astype(np.float32)
    got = fastconv.depthwise_conv2d(x, w, 1, "SAME")
    assert_close(got, reference.depthwise_conv2d(x, w, 1, "SAME"), 9, np.float32)


@pytest.mark.parametrize("mult", [1, 2, 3])
@pytest.mark.parametrize("strides,dilations", [(1, 1), (2, 1), (3, 1), (1, 2), (2, 2)])
@pytest.mark.parametrize("padding", ["SAME", "VALID", [[2, 1], [0, 3]]])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_geometry_and_multipliers(isa, mult, strides, dilations, padding, dtype, rng):
    x = rng.standard_normal((1, 13, 21, 16)).astype(dtype)
    w = rng.standard_normal((3, 5, 16, mult)).astype(dtype)
    got = fastconv.depthwise_conv2d(x, w, strides, padding, "NHWC", dilations)
    expected = reference.depthwise_conv2d(x, w, strides, padding, "NHWC", dilations)
    assert_close(got, expected, 15, dtype)


@pytest.mark.parametrize("activation", [None, "relu", "relu6", "sigmoid", "tanh"])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_bias_activation_layouts(isa, activation, data_format, rng):
    x = 3 * rng.standard_normal((2, 16, 12, 20)).astype(np.float32)
    c = x.shape[3] if data_format == "NHWC" else x.shape[1]
    w = rng.standard_normal((3, 3, c, 1)).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32)
    got = fastconv.depthwise_conv2d(x, w, 1, "SAME", data_format, bias=b, activation=activation)
    expected = reference.depthwise_conv2d(
        x, w, 1, "SAME", data_format, bias=b, activation=activation
    )
    assert_close(got, expected, 10, np.float32)


def test_bit_identical_across_threads(restore_threads, rng):
    x = rng.standard_normal((2, 40, 40, 32)).astype(np.float32)
    w = rng.standard_normal((3, 3, 32, 1)).astype(np.float32)
    fastconv.set_num_threads(1)
    one = fastconv.depthwise_conv2d(x, w, 1, "SAME")
    fastconv.set_num_threads(2)
    assert np.array_equal(one, fastconv.depthwise_conv2d(x, w, 1, "SAME"))
