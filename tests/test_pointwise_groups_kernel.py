"""The 1x1 kernel for groups of five vectors of output channels (csrc/conv/pointwise_groups_tmpl.h:
80 float32 or 40 float64 channels a group on AVX-512, ShuffleNet's 3 groups of 80), per ISA
variant (AVX2 and the baseline run the register-blocked kernel on the same calls): pixel
counts around its 5-pixel blocks (which run across row ends) and the last 1-4 pixels,
input channels, groups, batches, float64, bias and activations, input views, NCHW, the
bits of the GEMM and of the register-blocked kernel's order, and of any thread count."""

import numpy as np
import pytest

import fastconv
from fastconv import reference

from kernel_checks import assert_auto_runs, assert_same_bits_for_any_thread_count
from tolerance import assert_close


def _randn(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def _check(x, w, **kw):
    """direct against the reference, and bit for bit against the GEMM, which sums each
    output in the same order (channels ascending, then bias)."""
    got = fastconv.conv2d(x, w, 1, "VALID", algorithm="direct", **kw)
    assert_close(got, reference.conv2d(x, w, 1, "VALID", **kw), w.shape[2] + 1, x.dtype)
    np.testing.assert_array_equal(got, fastconv.conv2d(x, w, 1, "VALID", algorithm="im2col", **kw))
    return got


@pytest.mark.parametrize("hw", [(1, 1), (1, 4), (1, 5), (1, 6), (2, 3), (3, 7), (4, 5), (5, 9)])
@pytest.mark.parametrize("c_in", [1, 3, 17, 80])
def test_pixels_and_input_channels(isa, hw, c_in, rng):
    """Pixel counts 1-45: whole 5-pixel blocks or not, blocks across row ends."""
    x = _randn(rng, (2,) + hw + (3 * c_in,))
    _check(x, _randn(rng, (1, 1, c_in, 240)))


@pytest.mark.parametrize("groups", [1, 2, 3, 5])
@pytest.mark.parametrize("dtype,og", [(np.float32, 80), (np.float64, 40), (np.float32, 96)])
def test_groups_and_dtypes(isa, groups, dtype, og, rng):
    """Five vectors a group in either dtype (AVX-512); 96 float32 channels (six vectors)
    run the register-blocked kernel."""
    x = _randn(rng, (2, 6, 7, 8 * groups), dtype)
    _check(x, _randn(rng, (1, 1, 8, og * groups), dtype))


@pytest.mark.parametrize("activation", [None, "relu", "relu6", "sigmoid", "tanh"])
def test_bias_and_activations(isa, activation, rng):
    x, w, b = 3 * _randn(rng, (1, 4, 9, 60)), _randn(rng, (1, 1, 20, 240)), _randn(rng, 240)
    _check(x, w, bias=b, activation=activation)


def test_input_views(isa, rng):
    """A channel slice keeps the pixels evenly spaced (this kernel); a column slice does not
    (the register-blocked kernel): both against the reference."""
    big = _randn(rng, (2, 5, 11, 300))
    w = _randn(rng, (1, 1, 80, 240))
    _check(big[..., 30:270], w)
    _check(big[:, :, 2:9, :240], w)


def test_nchw(isa, rng):
    """NCHW planes run the 1x1 kernel on planes; an NCHW view of NHWC memory runs this
    kernel, its rows transposed into the NCHW output as they are done: the same bits."""
    x, w = _randn(rng, (2, 6, 13, 240)), _randn(rng, (1, 1, 80, 240))
    want = _check(x, w).transpose(0, 3, 1, 2)
    for nchw in (x.transpose(0, 3, 1, 2).copy(), x.transpose(0, 3, 1, 2)):
        got = fastconv.conv2d(nchw, w, 1, "VALID", "NCHW", algorithm="direct")
        np.testing.assert_array_equal(got, want)


def test_shufflenet_layer(isa, rng, restore_threads):
    """shufflenet-1x1-28-g3: auto runs this kernel on AVX-512 (the GEMM where the groups are
    whole 16-wide or 8-wide panels), and its bits are the same on any number of threads."""
    x, w = _randn(rng, (1, 28, 28, 240)), _randn(rng, (1, 1, 80, 240))
    assert_auto_runs(x, w, 1, "VALID", "direct" if isa == "avx512" else "im2col")
    _check(x, w)
    assert_same_bits_for_any_thread_count(lambda: fastconv.conv2d(x, w, 1, "VALID"))
