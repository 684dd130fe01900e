"""fastconv.conv2d_algorithm: which algorithm conv2d's "auto" runs, without computing — the
rule in csrc/operators/conv2d.c, checked case by case, and that auto really runs it."""

import numpy as np
import pytest

import fastconv


def zeros(*shape, dtype=np.float32):
    return np.zeros(shape, dtype)


@pytest.mark.parametrize(
    "x,w,strides,expected",
    [
        (zeros(1, 8, 8, 1), zeros(3, 3, 1, 1), 1, "direct"),  # tiny: no GEMM setup
        (zeros(1, 134, 240, 1), zeros(3, 3, 1, 1), 3, "direct"),  # an image filter
        (zeros(1, 134, 240, 3), zeros(3, 3, 3, 3), 3, "direct"),  # 3 -> 3 channels
        (zeros(8, 28, 28, 1), zeros(5, 5, 1, 32), 1, "direct"),  # a first layer
        (zeros(1, 56, 56, 64), zeros(3, 3, 64, 64), 1, "winograd"),  # 3x3, many tiles
        (zeros(1, 7, 7, 64), zeros(3, 3, 64, 64), 1, "direct"),  # few pixels, small filter
        (zeros(1, 7, 7, 512), zeros(3, 3, 512, 512), 1, "im2col"),  # ... a filter beyond L2
        (zeros(1, 2, 2, 512), zeros(3, 3, 512, 512), 1, "direct"),  # ... mostly padding taps
        (zeros(1, 14, 14, 96), zeros(3, 3, 96, 96), 2, "direct"),  # ... strided
        (zeros(1, 30, 30, 96), zeros(3, 3, 96, 96), 2, "im2col"),  # 225 pixels: the GEMM
        (zeros(1, 56, 56, 256), zeros(1, 1, 256, 64), 1, "im2col"),  # 1x1
        (zeros(1, 56, 56, 64), zeros(3, 3, 64, 64), 2, "im2col"),  # strided 3x3
        (zeros(1, 28, 28, 32), zeros(3, 3, 1, 32), 1, "direct"),  # 32 groups of 1
    ],
)
def test_the_rule(x, w, strides, expected):
    assert fastconv.conv2d_algorithm(x, w, strides, "SAME") == expected
    # ... and conv2d's auto runs it: the same bits as asking for it
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x.shape, np.float32), rng.standard_normal(w.shape, np.float32)
    np.testing.assert_array_equal(
        fastconv.conv2d(x, w, strides, "SAME"),
        fastconv.conv2d(x, w, strides, "SAME", algorithm=expected),
    )


@pytest.mark.parametrize(
    "x,w,padded",
    [
        (zeros(4, 14, 14, 32), zeros(5, 5, 32, 64), True),  # lenet-c2: 16% padding taps
        (zeros(2, 28, 28, 32), zeros(5, 5, 32, 64), True),  # 8%
        (zeros(2, 56, 56, 32), zeros(5, 5, 32, 64), False),  # 4%
        (zeros(8, 7, 7, 64), zeros(5, 5, 64, 64), False),  # corner pixels: 23% of the work
        (zeros(4, 14, 14, 32), zeros(5, 5, 32, 128), False),  # 2 blocks of 64 channels
    ],
)
def test_padding_taps_skipped_by_the_direct_kernel(x, w, padded, isa):
    """Small images with padding taps run the direct kernel where the output channels are
    one register block of it: 64 lanes on AVX-512 (float32), 16 on AVX2, 8 on baseline."""
    expected = "direct" if padded and isa == "avx512" else "im2col"
    assert fastconv.conv2d_algorithm(x, w, 1, "SAME") == expected
    assert fastconv.conv2d_algorithm(x.astype(np.float64), w.astype(np.float64), 1, "SAME") == (
        "im2col"  # float64: 32 lanes on AVX-512
    )
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(x.shape, np.float32), rng.standard_normal(w.shape, np.float32)
    np.testing.assert_array_equal(
        fastconv.conv2d(x, w, 1, "SAME"), fastconv.conv2d(x, w, 1, "SAME", algorithm=expected)
    )


@pytest.mark.parametrize(
    "x,w",
    [
        (zeros(1, 14, 14, 480), zeros(1, 1, 480, 80)),  # EfficientNet-B0's 1x1 into 80
        (zeros(1, 28, 28, 240), zeros(1, 1, 80, 240)),  # ShuffleNet's 3 groups of 80
        (zeros(1, 28, 28, 80, dtype=np.float64), zeros(1, 1, 80, 40, dtype=np.float64)),
    ],
)
def test_five_vector_1x1_groups(x, w, isa):
    """1x1 into groups of five vectors (80 float32 or 40 float64 channels) run the direct
    kernel on AVX-512 (one register block a group); elsewhere the GEMM, whose panels of 16
    or 8 are whole there. Six vectors (96 float32 channels) run the GEMM."""
    groups = x.shape[3] // w.shape[2]
    expected = "direct" if isa == "avx512" else "im2col"
    assert fastconv.conv2d_algorithm(x, w, 1, "VALID") == expected
    if groups == 1:
        six = zeros(1, 1, w.shape[2], w.shape[3] * 6 // 5, dtype=w.dtype)
        assert fastconv.conv2d_algorithm(x, six, 1, "VALID") == "im2col"
    rng = np.random.default_rng(2)
    x, w = (
        rng.standard_normal(x.shape).astype(x.dtype),
        rng.standard_normal(w.shape).astype(w.dtype),
    )
    np.testing.assert_array_equal(
        fastconv.conv2d(x, w, 1, "VALID"), fastconv.conv2d(x, w, 1, "VALID", algorithm=expected)
    )


def test_layouts_and_dtypes():
    x, w = zeros(1, 64, 56, 56), zeros(3, 3, 64, 64)
    assert fastconv.conv2d_algorithm(x, w, 1, "SAME", "NCHW") == "winograd"
    assert fastconv.conv2d_algorithm(x.astype(np.float64), w, 1, "SAME", "NCHW") == "winograd"


def test_arguments_checked_as_conv2d_checks_them():
    with pytest.raises(ValueError, match="padding"):
        fastconv.conv2d_algorithm(zeros(1, 8, 8, 1), zeros(3, 3, 1, 1), 1, "FULL")
    with pytest.raises(ValueError):
        fastconv.conv2d_algorithm(zeros(1, 8, 8, 2), zeros(3, 3, 3, 1), 1, "SAME")
