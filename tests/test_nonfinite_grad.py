"""The non-finite contract (docs/non-finite.md) for the gradient ops: every gradient, on
every ISA, in both dtypes and with SAME, VALID and explicit padding, gives the reference's
Inf and NaN at the same places (finite values within fastconv.testing's tolerance) when
its input, filter or incoming gradient holds Inf, -Inf, NaN or isolated huge values; taps
over padding are left out (an Inf in out_backprop there cannot make a filter gradient NaN),
as in TensorFlow, which the reference is checked against."""

from __future__ import annotations

import numpy as np
import pytest

import fastconv
from fastconv import reference, testing

PADDINGS = {"SAME": "SAME", "VALID": "VALID", "explicit": [[1, 2], [2, 1]]}
DTYPES = [np.float32, np.float64]
POISONS = ["inf", "-inf", "nan", "max/4"]
# (kernel, stride, channels in, channels out, groups): the GEMM filter gradient (one group,
# and a depthwise-shaped single channel), the grouped and the depthwise kernels, strides
# that split the input gradient into phases
CONV = [
    ((3, 3), (1, 1), 8, 8, 1),
    ((3, 3), (2, 2), 4, 8, 2),
    ((1, 1), (2, 2), 32, 32, 1),
    ((3, 2), (2, 1), 1, 1, 1),
    ((3, 3), (1, 1), 6, 6, 6),
]


def _poison(a, poison, rng):
    """a with cells 5 apart and the corners (whose taps reach padding) set to poison; a
    huge value only at the corners (two of them in one sum would exceed the dtype's
    range, the documented limit of every library)."""
    a = a.copy()
    value = {"inf": np.inf, "-inf": -np.inf, "nan": np.nan}.get(poison)
    if value is None:
        value = float(np.finfo(a.dtype).max) / 4
    else:
        a.reshape(-1)[:: 5 * a.shape[-1] + 1] = value
    a[0, 0, 0, 0] = a[-1, -1, -1, -1] = value
    return a


def _problem(rng, case, dtype, padding):
    k, s, cin, cout, groups = case
    x = rng.uniform(-1, 1, (2, 9, 10, cin)).astype(dtype)
    f = rng.uniform(0.5, 1, (*k, cin // groups, cout)).astype(dtype)  # no weight near 0
    dy = rng.uniform(
        0.5, 1, fastconv.testing.output_shape("conv2d", x.shape, f.shape, s, padding)
    ).astype(dtype)
    return x, f, dy


def _check(call, reduction, what):
    got, want = call(fastconv), call(reference)
    testing.assert_allclose(got, want, reduction=reduction, err_msg=what)
    return got


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("poison", POISONS)
@pytest.mark.parametrize("where", ["input", "filter", "out_backprop"])
def test_conv_gradients_every_isa(isa, where, poison, padding, dtype):
    rng = np.random.default_rng(1409)
    pad = PADDINGS[padding]
    for case in CONV:
        x, f, dy = _problem(rng, case, dtype, pad)
        k, s, _, cout, groups = case
        x, f, dy = (
            (_poison(x, poison, rng) if where == "input" else x),
            (_poison(f, poison, rng) if where == "filter" else f),
            (_poison(dy, poison, rng) if where == "out_backprop" else dy),
        )
        what = f"{isa} {case} {where} {poison} {padding}"
        red_in = k[0] * k[1] * cout // groups
        if where != "input":
            _check(lambda m: m.conv2d_backprop_input(x.shape, f, dy, s, pad), red_in, what)
            _check(lambda m: m.conv2d_transpose(dy, f, x.shape, s, pad), red_in, what)
        if where != "filter":
            red = dy.shape[0] * dy.shape[1] * dy.shape[2]
            _check(lambda m: m.conv2d_backprop_filter(x, f.shape, dy, s, pad), red, what)
        if groups == cout and where != "filter":  # a depthwise filter [kh, kw, C, 1]
            df = f.reshape(k[0], k[1], cout, 1)
            _check(
                lambda m: m.depthwise_conv2d_backprop_filter(x, df.shape, dy, s, pad),
                dy.shape[0] * dy.shape[1] * dy.shape[2],
                what,
            )
        if groups == cout and where != "input":
            df = f.reshape(k[0], k[1], cout, 1)
            _check(
                lambda m: m.depthwise_conv2d_backprop_input(x.shape, df, dy, s, pad),
                k[0] * k[1],
                what,
            )


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("poison", POISONS)
@pytest.mark.parametrize("where", ["input", "grad"])
def test_pool_gradients_every_isa(isa, where, poison, padding, dtype):
    rng = np.random.default_rng(1410)
    pad = [[1, 1], [1, 0]] if padding == "explicit" else padding
    x = rng.standard_normal((2, 9, 10, 19)).astype(dtype)
    if where == "input":
        x = _poison(x, poison, rng)
    y = reference.max_pool2d(x, 3, 2, pad)
    g = rng.standard_normal(y.shape).astype(dtype)
    if where == "grad":
        g = _poison(g, poison, rng)
    what = f"{isa} {where} {poison} {padding}"
    _check(lambda m: m.max_pool2d_grad(x, y, g, 3, 2, pad), 9, what)
    if where == "grad":
        _check(lambda m: m.avg_pool2d_grad(x.shape, g, 3, 2, pad), 9, what)
    for a, b in zip(
        fastconv.max_pool_with_argmax(x, 3, 2, pad), reference.max_pool_with_argmax(x, 3, 2, pad)
    ):
        np.testing.assert_array_equal(a, b, err_msg=what)


@pytest.mark.parametrize("depthwise", [False, True])
@pytest.mark.parametrize("channels", [1, 8])
def test_filter_gradient_skips_padding_taps_as_tensorflow_does(depthwise, channels):
    # an Inf in out_backprop at a corner: the taps of that output over padding are left
    # out (TF's Conv2DBackpropFilter and DepthwiseConv2dNativeBackpropFilter give finite
    # values there), the taps over real cells give Inf
    tf = pytest.importorskip("tensorflow")  # (deselected in tests/sanitize_run.py)
    x = np.ones((1, 3, 3, channels), np.float32)
    dy = np.ones((1, 3, 3, channels), np.float32)
    dy[0, 0, 0, :] = np.inf
    sizes = [3, 3, channels, 1 if depthwise else channels]
    raw = (
        tf.raw_ops.DepthwiseConv2dNativeBackpropFilter
        if depthwise
        else tf.raw_ops.Conv2DBackpropFilter
    )
    want = raw(
        input=x, filter_sizes=sizes, out_backprop=dy, strides=[1, 1, 1, 1], padding="SAME"
    ).numpy()
    assert np.isfinite(want[0]).all() and np.isinf(want[1:, 1:]).any()
    for module in (fastconv, reference):
        op = module.depthwise_conv2d_backprop_filter if depthwise else module.conv2d_backprop_filter
        got = op(x, sizes, dy, 1, "SAME")
        testing.assert_allclose(got, want, reduction=9)
        got, bias = op(x, sizes, dy, 1, "SAME", return_bias_grad=True)
        testing.assert_allclose(got, want, reduction=9)
        assert np.isinf(bias).all()
    out = np.empty(sizes, np.float32)  # the rerouted call writes into out too
    op = fastconv.depthwise_conv2d_backprop_filter if depthwise else fastconv.conv2d_backprop_filter
    assert op(x, sizes, dy, 1, "SAME", out=out) is out
    testing.assert_allclose(out, want, reduction=9)
