"""fastconv.conv2d_algorithm: which algorithm conv2d's "auto" runs, without computing — the
rule in csrc/operators/conv2d.c, checked case by case, and that auto really runs it."""

import numpy as np
import pytest

import fastconv
from fastconv import _core


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


def _cpu_is_amd():
    """As the C library's __builtin_cpu_is("amd") answers on Linux."""
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("vendor_id") and "AuthenticAMD" in line for line in f)
    except OSError:
        return False


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_few_pixels_with_filters_beyond_l2(dtype, isa):
    """One GEMM task's worth of pixels (49) with 9.4 MB of 3x3 filters (r50-3x3-7): the GEMM,
    whose tasks pack their own weights into L2, except on AMD CPUs, where the direct kernel
    streamed them faster; 1x1 filters keep the GEMM there too. Half the taps in the padding
    (2x2 images): the direct kernel everywhere."""
    x, w = zeros(1, 7, 7, 512, dtype=dtype), zeros(3, 3, 512, 512, dtype=dtype)
    expected = "direct" if _cpu_is_amd() else "im2col"
    assert fastconv.conv2d_algorithm(x, w, 1, "SAME") == expected
    pointwise = zeros(1, 1, 1024, 1024, dtype=dtype)
    assert fastconv.conv2d_algorithm(zeros(1, 7, 7, 1024, dtype=dtype), pointwise, 1, "SAME") == (
        "im2col"
    )
    assert fastconv.conv2d_algorithm(zeros(1, 2, 2, 512, dtype=dtype), w, 1, "SAME") == "direct"
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(x.shape).astype(dtype), rng.standard_normal(w.shape).astype(dtype)
    np.testing.assert_array_equal(
        fastconv.conv2d(x, w, 1, "SAME"), fastconv.conv2d(x, w, 1, "SAME", algorithm=expected)
    )


# Register blocks of the direct kernel: output channels per block, by ISA and dtype (4
# vectors on AVX-512, 2 elsewhere).
BLOCK_CHANNELS = {
    ("avx512", "float32"): 64,
    ("avx512", "float64"): 32,
    ("avx2", "float32"): 16,
    ("avx2", "float64"): 8,
    ("baseline", "float32"): 8,
    ("baseline", "float64"): 4,
}


def _l2_bytes():
    """L2 as the GEMM sizes its weight panels from it (an eighth of it)."""
    return 8 * _core.gemm_blocking("float32")["panel_bytes"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "x,w,direct_blocks",
    [
        # lenet-c2 (16% padding taps): one block of 64 on AVX-512 (float32), two of 32
        # (float64) over a 100 KB input; 4 and more blocks on AVX2 and baseline: the GEMM
        ((4, 14, 14, 32), (5, 5, 32, 64), 2),
        ((2, 56, 56, 32), (5, 5, 32, 64), 1),  # 4% padding; 2 blocks over 1.6 MB: the GEMM
        ((8, 7, 7, 64), (5, 5, 64, 64), 0),  # corner pixels: 23% of the work, the GEMM
        ((4, 14, 14, 32), (5, 5, 32, 128), 2),  # 2 blocks of 64 over a 100 KB input
    ],
)
def test_5x5_windows_run_the_direct_kernel(x, w, direct_blocks, dtype, isa):
    """Windows of 25 taps or more whose weights for one register block of output channels
    fit in half of L2 (one pass over the input channels), into one block a group, or two
    over an input in half of L2, without corner pixels over a sixteenth of the work: the
    direct kernel, which skips the padding taps and reads the filters in place. Here every
    block's weights fit in 512 KiB halves of L2; direct_blocks: the most blocks (per group)
    with which the case runs direct (0: never)."""
    blocks = -(-w[3] // BLOCK_CHANNELS[(isa, dtype)])
    expected = "direct" if blocks <= direct_blocks else "im2col"
    x, w = zeros(*x, dtype=dtype), zeros(*w, dtype=dtype)
    assert fastconv.conv2d_algorithm(x, w, 1, "SAME") == expected
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(x.shape).astype(dtype), rng.standard_normal(w.shape).astype(dtype)
    np.testing.assert_array_equal(
        fastconv.conv2d(x, w, 1, "SAME"), fastconv.conv2d(x, w, 1, "SAME", algorithm=expected)
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_alexnet_grouped_5x5(dtype, isa):
    """AlexNet's 2 groups of 48 -> 128 channels, 5x5 on 27x27 (a 280 KB float32 input): the
    direct kernel where a group is at most 2 blocks whose weights (5 x 5 x 48 x block
    channels) fit in half of L2, else the GEMM."""
    x, w = zeros(1, 27, 27, 96, dtype=dtype), zeros(5, 5, 48, 256, dtype=dtype)
    block = BLOCK_CHANNELS[(isa, dtype)]
    itemsize = np.dtype(dtype).itemsize
    one_pass = 2 * 25 * 48 * block * itemsize <= _l2_bytes()
    small_input = 2 * x.nbytes <= _l2_bytes()
    direct = one_pass and (128 <= block or (128 <= 2 * block and small_input))
    assert fastconv.conv2d_algorithm(x, w, 1, "SAME") == ("direct" if direct else "im2col")
    assert fastconv.Conv2D(w, 1, "SAME").algorithm_for(x) == "im2col"  # packed: no rule


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
