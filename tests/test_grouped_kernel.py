"""The narrow-group direct kernel (as many input as output channels per group, 2 to 8,
fewer than a vector's lanes: ResNeXt's 32 groups of 4) per ISA variant, both ways (per-r
accumulators; broadcasts where a group is half a vector and 8 channels: AVX-512 float32):
group widths, image widths and heights around its register blocks (3, 6
or 8 pixels) and bands (4 or 6 rows), windows, strides,
dilations, paddings, float64, the epilogue, NCHW, and the bits for any thread count,
against the reference. "auto" runs it, and the register-blocked kernel for groups of
whole vectors."""

import numpy as np
import pytest

import fastconv
from fastconv import reference

from kernel_checks import assert_auto_runs, assert_same_bits_for_any_thread_count
from tolerance import assert_close


def _randn(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("per_group", [2, 4, 8])
@pytest.mark.parametrize("channels", [16, 32, 64, 96])
@pytest.mark.parametrize("width", [1, 3, 4, 6, 7, 9, 13])
@pytest.mark.parametrize("height", [1, 4, 7])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_group_and_image_widths(isa, per_group, channels, width, height, dtype, rng):
    x = _randn(rng, (2, height, width, channels), dtype)
    w = _randn(rng, (3, 3, per_group, channels), dtype)
    got = fastconv.conv2d(x, w, 1, "SAME", algorithm="direct")
    assert_close(got, reference.conv2d(x, w, 1, "SAME"), 9 * per_group, dtype)


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("strides", [1, 2, (1, 3)])
@pytest.mark.parametrize("dilations", [1, 2])
@pytest.mark.parametrize("padding", ["SAME", "VALID", [[2, 0], [1, 3]]])
@pytest.mark.parametrize("per_group", [4, 8])
def test_geometry(isa, k, strides, dilations, padding, per_group, rng):
    x, w = _randn(rng, (1, 13, 12, 64)), _randn(rng, (k, k, per_group, 64))
    got = fastconv.conv2d(x, w, strides, padding, "NHWC", dilations, algorithm="direct")
    want = reference.conv2d(x, w, strides, padding, "NHWC", dilations)
    assert_close(got, want, k * k * per_group, np.float32)


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid"])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("per_group", [4, 8])
def test_epilogue_and_layouts(isa, activation, data_format, per_group, rng):
    x, w = _randn(rng, (2, 9, 10, 128)), 0.3 * _randn(rng, (3, 3, per_group, 128))
    b = _randn(rng, 128)
    if data_format == "NCHW":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    got = fastconv.conv2d(
        x, w, 1, "SAME", data_format, bias=b, activation=activation, algorithm="direct"
    )
    want = reference.conv2d(x, w, 1, "SAME", data_format, bias=b, activation=activation)
    assert_close(got, want, 9 * per_group, np.float32)


@pytest.mark.parametrize(
    "x_shape,w_shape",
    [
        ((1, 56, 56, 128), (3, 3, 4, 128)),  # ResNeXt-50 32x4d, stage 1
        ((1, 28, 28, 256), (3, 3, 8, 256)),  # 32 groups of 8
        ((1, 56, 56, 64), (3, 3, 32, 64)),  # 2 groups of 32: the register-blocked kernel
        ((1, 28, 28, 240), (1, 1, 80, 240)),  # ShuffleNet: 3 groups of 80
    ],
)
def test_auto_runs_it(x_shape, w_shape, rng):
    x, w = _randn(rng, x_shape), _randn(rng, w_shape)
    assert_auto_runs(x, w, 1, "SAME", "direct")


@pytest.mark.parametrize("per_group", [4, 8])
def test_bit_identical_for_any_thread_count(isa, per_group, rng, restore_threads):
    x, w = _randn(rng, (3, 30, 26, 64)), _randn(rng, (3, 3, per_group, 64))
    assert_same_bits_for_any_thread_count(
        lambda: fastconv.conv2d(x, w, 1, "SAME", algorithm="direct")
    )
