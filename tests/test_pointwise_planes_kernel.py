"""The 1x1 kernel on NCHW planes (conv/pointwise_planes_tmpl.h: stride 1, no padding, a GEMM
with the pixels in the vector lanes, input and output in place) per ISA variant: the bits of
the NHWC call transposed, with each algorithm, and the reference's values, for channel
counts around the micro-kernel's rows and vector widths, pixel counts around its columns,
groups, batches, bias and activations, float64, thread counts and non-finite weights."""

import numpy as np
import pytest

import fastconv
from fastconv import reference
from tolerance import assert_close


def _nchw(a):
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def _check(x, w, algorithm="auto", **kw):
    want = fastconv.conv2d(x, w, 1, "VALID", algorithm=algorithm, **kw)
    got = fastconv.conv2d(_nchw(x), w, 1, "VALID", "NCHW", algorithm=algorithm, **kw)
    np.testing.assert_array_equal(got, _nchw(want))
    ref = reference.conv2d(x, w, 1, "VALID", **kw)
    assert_close(got, _nchw(ref), w.shape[2] + 1, x.dtype)
    return got


@pytest.mark.parametrize("c_out", [8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 136])
@pytest.mark.parametrize("algorithm", ["auto", "direct", "im2col"])
def test_output_channels(isa, c_out, algorithm, rng):
    """Output channels: whole micro-kernel row panels (6, 8) or not, whole vectors or not
    (those run the NHWC kernels, transposed)."""
    x = rng.standard_normal((1, 5, 9, 20)).astype(np.float32)
    _check(x, rng.standard_normal((1, 1, 20, c_out)).astype(np.float32), algorithm)


@pytest.mark.parametrize("hw", [(1, 1), (1, 15), (3, 21), (8, 8), (5, 13), (2, 65), (11, 12)])
@pytest.mark.parametrize("c_in", [1, 3, 17, 64])
def test_pixels_and_input_channels(isa, hw, c_in, rng):
    """Pixels around the micro-kernel's columns (NR: 8 to 64), one to many input planes."""
    x = rng.standard_normal((2,) + hw + (c_in,)).astype(np.float32)
    _check(x, rng.standard_normal((1, 1, c_in, 32)).astype(np.float32), "im2col")


@pytest.mark.parametrize("groups, c_in, c_out", [(2, 32, 64), (3, 48, 48), (4, 8, 64)])
def test_groups(isa, groups, c_in, c_out, rng):
    x = rng.standard_normal((2, 7, 10, c_in)).astype(np.float32)
    w = rng.standard_normal((1, 1, c_in // groups, c_out)).astype(np.float32)
    _check(x, w, "direct")
    _check(x, w, "im2col")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", [None, "relu", "relu6", "sigmoid", "tanh"])
def test_bias_activation_dtypes(isa, activation, dtype, rng):
    x = (3 * rng.standard_normal((3, 6, 11, 40))).astype(dtype)
    w = rng.standard_normal((1, 1, 40, 48)).astype(dtype)
    b = rng.standard_normal(48).astype(dtype)
    _check(x, w, bias=b, activation=activation)
    _check(x, w, activation=activation)


def test_long_reduction(isa, rng):
    """More input channels than one B panel holds in the NHWC GEMM's channel block (1024
    float32 values): it sums them in several blocks, this kernel in one; same bits."""
    x = rng.standard_normal((1, 4, 17, 1100)).astype(np.float32)
    _check(x, rng.standard_normal((1, 1, 1100, 16)).astype(np.float32), "im2col")


def test_thread_counts(isa, rng, restore_threads):
    """Bit-identical on 1, 2 and 3 threads: a batch of one (the runs of pixels split), of
    several images, and 3 groups of one image (28 x 28: 13 panels of 64 pixels, in runs of
    3 and 4 panels on 2 threads)."""
    for shape, c_in_group in [((1, 40, 41, 24), 24), ((5, 9, 9, 24), 24), ((1, 28, 28, 48), 16)]:
        x = rng.standard_normal(shape).astype(np.float32)
        w = rng.standard_normal((1, 1, c_in_group, 48)).astype(np.float32)
        b = rng.standard_normal(48).astype(np.float32)
        results = []
        for threads in (1, 2, 3):
            fastconv.set_num_threads(threads)
            results.append(_check(x, w, bias=b))
        for r in results[1:]:
            np.testing.assert_array_equal(r, results[0])


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_nonfinite_weights_and_inputs(isa, bad, rng):
    """Inf and NaN propagate as in the NHWC kernels (the GEMM re-runs there as the direct
    kernel on such a weight)."""
    x = rng.standard_normal((1, 3, 7, 16)).astype(np.float32)
    w = rng.standard_normal((1, 1, 16, 16)).astype(np.float32)
    w[0, 0, 3, 5] = bad
    x[0, 1, 2, 7] = bad
    for algorithm in ("auto", "direct", "im2col"):
        want = fastconv.conv2d(x, w, 1, "VALID", algorithm=algorithm)
        got = fastconv.conv2d(_nchw(x), w, 1, "VALID", "NCHW", algorithm=algorithm)
        np.testing.assert_array_equal(got, _nchw(want))


def test_input_untouched_and_out(isa, rng):
    """The input planes are read in place, never written; `out=` receives the planes."""
    x = _nchw(rng.standard_normal((2, 5, 6, 20)).astype(np.float32))
    w = rng.standard_normal((1, 1, 20, 32)).astype(np.float32)
    before = x.copy()
    out = np.empty((2, 32, 5, 6), np.float32)
    got = fastconv.conv2d(x, w, 1, "VALID", "NCHW", out=out)
    np.testing.assert_array_equal(x, before)
    assert got is out or np.shares_memory(got, out)
    want = reference.conv2d(x.transpose(0, 2, 3, 1), w, 1, "VALID")
    assert_close(out, _nchw(want), 21, np.float32)


def _planes_at(x, offset):
    """x (NHWC) as dense NCHW planes whose data starts `offset` bytes past a 64-byte line."""
    buf = np.empty(x.size + 128 // x.itemsize, x.dtype)
    start = (-buf.ctypes.data % 64 + offset) // x.itemsize
    planes = buf[start : start + x.size].reshape(x.shape[0], x.shape[3], x.shape[1], x.shape[2])
    planes[...] = x.transpose(0, 3, 1, 2)
    assert planes.ctypes.data % 64 == offset
    return planes


@pytest.mark.parametrize("offset", [0, 16, 48])
@pytest.mark.parametrize("hw", [(8, 8), (12, 12), (16, 20), (5, 13)])
@pytest.mark.parametrize("c_in, c_out", [(64, 64), (128, 6), (40, 13), (16, 4)])
def test_planes_read_in_place(isa, offset, hw, c_in, c_out, rng):
    """Input planes read in place by the micro-kernel where all of them start at one offset
    from a cache line (64, 144 and 320 pixels: whole panels after the head pixels before the
    first aligned one, and a tail), copied where they do not (65 pixels); input channels a
    multiple of NR (the next panel prefetched) or not; output channels fewer than a row
    panel (copied), whole row panels, a last row panel overlapping the one before."""
    x = rng.standard_normal((2,) + hw + (c_in,)).astype(np.float32)
    w = rng.standard_normal((1, 1, c_in, c_out)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32)
    want = fastconv.conv2d(x, w, 1, "VALID", bias=b, activation="relu")
    got = fastconv.conv2d(_planes_at(x, offset), w, 1, "VALID", "NCHW", bias=b, activation="relu")
    np.testing.assert_array_equal(got, _nchw(want))
    ref = reference.conv2d(x, w, 1, "VALID", bias=b, activation="relu")
    assert_close(got, _nchw(ref), c_in + 1, np.float32)


@pytest.mark.parametrize("offset", [0, 8, 40])
def test_planes_read_in_place_float64(isa, offset, rng):
    x = rng.standard_normal((1, 16, 20, 64))
    w = rng.standard_normal((1, 1, 64, 20))
    got = fastconv.conv2d(_planes_at(x, offset), w, 1, "VALID", "NCHW")
    np.testing.assert_array_equal(got, _nchw(fastconv.conv2d(x, w, 1, "VALID")))


def test_planes_read_in_place_threads(isa, rng, restore_threads):
    """Runs start at the head or on a whole panel after it: the same bits on 1, 2 and 3
    threads, planes on a line or not."""
    x = rng.standard_normal((1, 40, 48, 64)).astype(np.float32)
    w = rng.standard_normal((1, 1, 64, 32)).astype(np.float32)
    for offset in (0, 16):
        results = []
        for threads in (1, 2, 3):
            fastconv.set_num_threads(threads)
            results.append(fastconv.conv2d(_planes_at(x, offset), w, 1, "VALID", "NCHW"))
        for r in results:
            np.testing.assert_array_equal(r, _nchw(fastconv.conv2d(x, w, 1, "VALID")))
