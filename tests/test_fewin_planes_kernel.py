"""The first-layer kernel on NCHW planes (conv/fewin_planes_tmpl.h: 1-4 input channels into
more than 4 output channels, output pixels in the vector lanes, padding as zeros in per-band
phase rows) per ISA variant: against fastconv.reference and against the NHWC call transposed
(the same bits where that runs the register-blocked kernel, whose summation order it keeps),
for image sizes 1-9 and around the vector widths, every padding, strides 1-4, dilation, bias
and activations, float64, views, thread counts and non-finite values."""

import numpy as np
import pytest

import fastconv
from fastconv import reference
from kernel_checks import assert_same_bits_for_any_thread_count
from tolerance import assert_close


def _nchw(a):
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def _check(x, w, strides=1, padding="VALID", dilations=1, same_bits=None, **kw):
    """conv2d of NHWC x in NCHW with the direct algorithm, checked against the reference; the
    bits of the NHWC call where its output channels are whole vectors of every ISA (a
    multiple of 16 float32 or 8 float64 values: the register-blocked kernel)."""
    args = dict(strides=strides, padding=padding, dilations=dilations, **kw)
    got = fastconv.conv2d(_nchw(x), w, data_format="NCHW", algorithm="direct", **args)
    ref = reference.conv2d(x, w, **args)
    assert_close(got, _nchw(ref), w.shape[0] * w.shape[1] * w.shape[2] + 1, x.dtype)
    if same_bits is None:
        same_bits = w.shape[3] % (64 // x.dtype.itemsize) == 0
    if same_bits:
        want = fastconv.conv2d(x, w, algorithm="direct", **args)
        np.testing.assert_array_equal(got, _nchw(want))
    return got


def _data(rng, n, h, w, c_in, k, c_out, dtype=np.float32):
    x = rng.standard_normal((n, h, w, c_in)).astype(dtype)
    f = rng.standard_normal(k + (c_in, c_out)).astype(dtype)
    return x, f


@pytest.mark.parametrize("width", [1, 2, 3, 5, 7, 9, 15, 16, 17, 31, 32, 33, 47, 49, 65])
@pytest.mark.parametrize("c_in", [1, 2, 3, 4])
@pytest.mark.parametrize("c_out", [20, 32])
def test_widths_and_input_channels(isa, width, c_in, c_out, rng):
    """Output rows around the vector widths (4-16 lanes) and their blocks of 3 vectors, which
    span rows where a row is short; 1-4 input planes.  32 output channels: rows that leave
    many lanes empty run the NHWC kernel (fewin_planes_pays); 20, never whole vectors, run
    this kernel at every width."""
    x, w = _data(rng, 2, 6, width + 2, c_in, (3, 3), c_out)
    _check(x, w)
    _check(x, w, padding="SAME")


@pytest.mark.parametrize("size", range(1, 10))
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_small_images(isa, size, k, rng):
    """Images of 1-9 pixels a side, windows larger than the image (SAME: mostly padding)."""
    x, w = _data(rng, 1, size, size, 3, (k, k), 16)
    _check(x, w, padding="SAME")
    if k <= size:
        _check(x, w)


@pytest.mark.parametrize("c_out", [5, 7, 8, 9, 12, 16, 17, 24, 33, 64, 72])
def test_output_channels(isa, c_out, rng):
    """Blocks of 4 or 8 output channels, whole or not; channel counts that are not whole
    vectors (the NHWC call then runs another kernel: the reference only)."""
    x, w = _data(rng, 2, 9, 13, 2, (3, 3), c_out)
    _check(x, w, padding="SAME")


@pytest.mark.parametrize("strides", [1, 2, 3, 4, (2, 3), (4, 1)])
@pytest.mark.parametrize("k", [(3, 3), (7, 7), (11, 11), (2, 5)])
@pytest.mark.parametrize("c_out", [16, 20])
def test_strides(isa, strides, k, c_out, rng):
    """Strides 1-4 (the phase rows), as r50-conv1's 7x7/2 and AlexNet's 11x11/4, VALID and
    SAME (asymmetric padding at even strides); 20 output channels run this kernel always."""
    x, w = _data(rng, 1, 23, 29, 3, k, c_out)
    _check(x, w, strides, "SAME")
    _check(x, w, strides, "VALID")


@pytest.mark.parametrize(
    "pads", [[[0, 0], [0, 0]], [[2, 0], [1, 3]], [[0, 3], [4, 0]], [[5, 5], [5, 5]]]
)
@pytest.mark.parametrize("strides", [1, 3])
@pytest.mark.parametrize("c_out", [16, 20])
def test_explicit_padding(isa, pads, strides, c_out, rng):
    """Padding wider than the window's reach on one side (whole rows and columns of zeros)."""
    x, w = _data(rng, 1, 8, 19, 1, (3, 4), c_out)
    _check(x, w, strides, pads)


@pytest.mark.parametrize("dilations", [2, (1, 3), (3, 2)])
@pytest.mark.parametrize("strides", [1, 2])
@pytest.mark.parametrize("c_out", [16, 20])
def test_dilation(isa, dilations, strides, c_out, rng):
    x, w = _data(rng, 2, 17, 21, 3, (3, 3), c_out)
    _check(x, w, strides, "SAME", dilations)
    _check(x, w, strides, "VALID", dilations)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", [None, "relu", "relu6", "sigmoid", "tanh"])
def test_bias_activation_dtypes(isa, activation, dtype, rng):
    x, w = _data(rng, 2, 11, 20, 3, (5, 5), 32, dtype)
    b = rng.standard_normal(32).astype(dtype)
    _check(x, w, 2, "SAME", bias=b, activation=activation)
    _check(x, w, 1, "VALID", activation=activation)


def test_suite_first_layers(isa, rng):
    """The bench suite's shapes: keras-mnist-c1, lenet-c1 (smaller batches), r50-conv1."""
    _check(*_data(rng, 3, 28, 28, 1, (3, 3), 32))
    _check(*_data(rng, 2, 28, 28, 1, (5, 5), 32), padding="SAME")
    _check(*_data(rng, 1, 224, 224, 3, (7, 7), 64), strides=2, padding="SAME")


def test_thread_counts(isa, rng, restore_threads):
    """Bit-identical for any thread count: a batch of one (its rows split) and of several."""
    for n, h in [(1, 61), (5, 12)]:
        x, w = _data(rng, n, h, 30, 3, (5, 5), 24)
        b = rng.standard_normal(24).astype(np.float32)
        assert_same_bits_for_any_thread_count(
            lambda x=x, w=w, b=b: _check(x, w, 2, "SAME", bias=b, activation="relu")
        )


def test_views(isa, rng):
    """Input planes whose rows are not adjacent (a crop) are read in place; planes whose
    columns are strided, and an NHWC input into NCHW, go through the NHWC kernels."""
    x, w = _data(rng, 2, 12, 40, 3, (3, 3), 16)
    full = _nchw(x)
    for view in (full[:, :, 1:-2, 3:-5], full[:, ::-1, :, :], full[:, :, :, ::2]):
        got = fastconv.conv2d(view, w, 1, "SAME", "NCHW", algorithm="direct")
        ref = reference.conv2d(np.ascontiguousarray(view.transpose(0, 2, 3, 1)), w, 1, "SAME")
        assert_close(got, _nchw(ref), 28, np.float32)


def test_out_and_input_untouched(isa, rng):
    x, w = _data(rng, 2, 9, 10, 3, (3, 3), 16)
    xc = _nchw(x)
    before = xc.copy()
    out = np.empty((2, 16, 9, 10), np.float32)
    got = fastconv.conv2d(xc, w, 1, "SAME", "NCHW", algorithm="direct", out=out)
    np.testing.assert_array_equal(xc, before)
    assert got is out or np.shares_memory(got, out)
    np.testing.assert_array_equal(out, _nchw(fastconv.conv2d(x, w, 1, "SAME", algorithm="direct")))


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_nonfinite(isa, bad, rng):
    """An Inf or NaN weight: padding taps must add nothing (not 0 * Inf = NaN), so the call
    runs the NHWC kernel: its bits. An Inf or NaN input propagates as there."""
    x, w = _data(rng, 1, 7, 9, 2, (3, 3), 16)
    w_bad = w.copy()
    w_bad[0, 0, 1, 5] = bad
    x_bad = x.copy()
    x_bad[0, 3, 4, 1] = bad
    for xi, wi in ((x, w_bad), (x_bad, w), (x_bad, w_bad)):
        got = fastconv.conv2d(_nchw(xi), wi, 1, "SAME", "NCHW", algorithm="direct")
        want = fastconv.conv2d(xi, wi, 1, "SAME", algorithm="direct")
        np.testing.assert_array_equal(got, _nchw(want))
    # the corner pixel meets the bad weight's tap (0, 0) in the padding only: it stays finite
    got = fastconv.conv2d(_nchw(x), w_bad, 1, "SAME", "NCHW", algorithm="direct")
    assert np.isfinite(got[0, 5, 0, 0])
