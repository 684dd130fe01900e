"""depthwise_conv2d against tf.nn.depthwise_conv2d: covering sweep, argument forms, bias
and activations, and a hypothesis property test."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given

import fastconv
from fastconv import testing
from _cases import covering, eff, fit_size, tf_padding
from tolerance import assert_close

TF_ACTIVATIONS = {
    None: lambda v: v,
    "relu": tf.nn.relu,
    "relu6": tf.nn.relu6,
    "sigmoid": tf.nn.sigmoid,
    "tanh": tf.nn.tanh,
}


def tf_depthwise(x, f, strides, padding, dilations=(1, 1), data_format="NHWC"):
    """TF on NHWC; NCHW arrays are transposed around it. strides: (h, w)."""
    if data_format == "NCHW":
        y = tf_depthwise(x.transpose(0, 2, 3, 1), f, strides, padding, dilations)
        return y.transpose(0, 3, 1, 2)
    sh, sw = strides
    return tf.nn.depthwise_conv2d(
        x, f, [1, sh, sw, 1], tf_padding(padding), dilations=list(dilations)
    ).numpy()


def make_input(rng, n, h, w, c, dtype, data_format="NHWC"):
    shape = (n, h, w, c) if data_format == "NHWC" else (n, c, h, w)
    return rng.standard_normal(shape).astype(dtype)


def _sweep_cases():
    """Strided cases (equal H/W strides: TF's float64 kernel has no other) and dilated cases
    (stride 1: TF gets dilation with stride wrong). The rest is in test_reference.py."""
    common = dict(
        size=[(1, 1), (2, 3), (4, 4), (5, 8), (7, 6), (9, 9), (10, 13), (16, 11)],
        channels=[1, 2, 3, 4, 7, 8, 16, 17],
        multiplier=[1, 2, 3],
        batch=[1, 2, 3],
        padding=["SAME", "VALID", "explicit"],
        data_format=["NHWC", "NHWC", "NCHW"],
        dtype=["float32", "float32", "float32", "float64"],
    )
    kernels = [
        (1, 1),
        (2, 2),
        (3, 3),
        (4, 4),
        (5, 5),
        (6, 6),
        (7, 7),
        (1, 3),
        (3, 1),
        (2, 5),
        (7, 4),
    ]
    strided = covering(
        22,
        seed=3,
        kernel=kernels,
        stride=[(1, 1), (2, 2), (3, 3)],
        dilation=[(1, 1)],
        **common,
    )
    dilated = covering(
        12,
        seed=4,
        kernel=kernels[1:],
        stride=[(1, 1)],
        dilation=[(2, 2), (3, 3), (1, 2), (3, 1), (2, 3)],
        **common,
    )
    cases = []
    for i, case in enumerate(strided + dilated):
        (kh, kw), (dh, dw) = case["kernel"], case["dilation"]
        pad = case["padding"]
        if pad == "explicit":
            pad = (((i * 3) % 4, i % 3), (i % 2, (i * 5) % 4))
        pads = ((0, 0), (0, 0)) if isinstance(pad, str) else pad
        h = fit_size(case["size"][0], eff(kh, dh), pads[0], pad)
        w = fit_size(case["size"][1], eff(kw, dw), pads[1], pad)
        case.update(padding=pad, size=(h, w))
        case["id"] = (
            f"k{kh}x{kw}-s{case['stride'][0]}x{case['stride'][1]}-d{dh}x{dw}-"
            f"{pad if isinstance(pad, str) else 'pad' + ''.join(map(str, sum(pad, ())))}-"
            f"{case['batch']}x{h}x{w}x{case['channels']}m{case['multiplier']}-"
            f"{case['data_format']}-{case['dtype']}"
        )
        cases.append(case)
    return cases


SWEEP = _sweep_cases()


@pytest.mark.parametrize("case", SWEEP, ids=[c["id"] for c in SWEEP])
def test_depthwise_sweep_matches_tf(case, rng):
    (kh, kw), (h, w) = case["kernel"], case["size"]
    fmt, dtype, c = case["data_format"], case["dtype"], case["channels"]
    x = make_input(rng, case["batch"], h, w, c, dtype, fmt)
    f = rng.standard_normal((kh, kw, c, case["multiplier"])).astype(dtype)
    got = fastconv.depthwise_conv2d(x, f, case["stride"], case["padding"], fmt, case["dilation"])
    want = tf_depthwise(x, f, case["stride"], case["padding"], case["dilation"], fmt)
    assert got.dtype == np.dtype(dtype)
    assert_close(got, want, kh * kw, dtype)


@pytest.mark.parametrize(
    "strides, tf_strides, padding, tf_pad, dilations, tf_dilations",
    [
        (2, 2, "SAME", "SAME", 1, [1, 1]),
        ([3], 3, "valid", "VALID", [1], [1, 1]),
        ((2, 2), 2, [[1, 2], [0, 1]], [[0, 0], [1, 2], [0, 1], [0, 0]], (1, 1), [1, 1]),
        (
            [1, 3, 3, 1],
            3,
            [[0, 0], [2, 2], [1, 0], [0, 0]],
            [[0, 0], [2, 2], [1, 0], [0, 0]],
            [1, 1, 1, 1],
            [1, 1],
        ),
        (1, 1, "Same", "SAME", [1, 2, 3, 1], [2, 3]),
        (np.int32(1), 1, "SAME", "SAME", np.array([3, 2]), [3, 2]),
    ],
    ids=["int", "one", "pair", "four", "dil-four", "numpy"],
)
def test_depthwise_argument_forms(
    strides, tf_strides, padding, tf_pad, dilations, tf_dilations, rng
):
    x = make_input(rng, 2, 9, 10, 3, np.float32)
    f = rng.standard_normal((3, 2, 3, 2)).astype(np.float32)
    want = tf.nn.depthwise_conv2d(
        x, f, [1, tf_strides, tf_strides, 1], tf_pad, dilations=tf_dilations
    ).numpy()
    got = fastconv.depthwise_conv2d(x, f, strides, padding, "NHWC", dilations)
    assert_close(got, want, 6, np.float32)


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("activation", [None, "relu", "relu6", "sigmoid", "tanh"])
def test_depthwise_bias_activation(activation, data_format, rng):
    x = 3.0 * make_input(rng, 2, 8, 7, 5, np.float32, data_format)
    f = rng.standard_normal((3, 3, 5, 2)).astype(np.float32)
    b = (2.0 * rng.standard_normal(10)).astype(np.float32)
    got = fastconv.depthwise_conv2d(x, f, 2, "SAME", data_format, bias=b, activation=activation)
    pre = tf_depthwise(x, f, (2, 2), "SAME", (1, 1), data_format)
    want = TF_ACTIVATIONS[activation](tf.nn.bias_add(pre, b, data_format=data_format)).numpy()
    assert_close(got, want, 3 * 3 + 1, np.float32)


def test_depthwise_channel_order(rng):
    """Output channel c * multiplier + m comes from input channel c and filter[..., c, m]."""
    x = make_input(rng, 1, 5, 5, 3, np.float32)
    f = np.zeros((1, 1, 3, 2), np.float32)
    f[0, 0, 2, 1] = 1.0  # only output channel 2 * 2 + 1 = 5, a copy of input channel 2
    got = fastconv.depthwise_conv2d(x, f, 1, "VALID")
    want = tf_depthwise(x, f, (1, 1), "VALID")
    assert_close(got, want, 1, np.float32)
    np.testing.assert_array_equal(got[..., 5], x[..., 2])


# Random valid tf.nn.depthwise_conv2d calls, from fastconv.testing's public strategy within
# what TF takes: dilation > 1 only with stride 1, equal strides (TF's float64 kernel).
TF_DEPTHWISE_CALLS = testing.depthwise_conv2d_args(
    max_batch=3,
    max_size=10,
    dilation_with_stride=False,
    equal_strides=True,
    bias=True,
    activations=(None, "relu", "tanh"),
)


@given(TF_DEPTHWISE_CALLS)
def test_depthwise_property_matches_tf(call):
    x, f, strides, padding, data_format, dilations = call.args
    got = call.run(fastconv)
    pre = tf_depthwise(x, f, strides, padding, dilations, data_format)
    want = TF_ACTIVATIONS[call.kwargs["activation"]](
        tf.nn.bias_add(pre, call.kwargs["bias"], data_format=data_format)
    ).numpy()
    assert got.dtype == x.dtype
    assert_close(got, want, call.reduction, x.dtype)


# Channel counts around SIMD widths (8/16 float32 lanes, 4/8 float64 lanes, unrolled twice or
# four times) so that vector bodies and scalar tails are both exercised.
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 129])
@pytest.mark.parametrize(
    "multiplier, kernel, stride, dilation, padding",
    [
        (1, (3, 3), 1, (1, 1), "SAME"),
        (2, (5, 5), 2, (1, 1), "VALID"),
        (3, (3, 3), 1, (2, 2), ((1, 2), (2, 1))),
        (1, (7, 7), 2, (1, 1), "SAME"),
        (1, (3, 5), 1, (1, 1), "VALID"),
    ],
    ids=["3x3", "5x5s2m2", "3x3d2m3", "7x7s2", "3x5"],
)
def test_depthwise_channel_tails(
    channels, multiplier, kernel, stride, dilation, padding, dtype, rng
):
    x = make_input(rng, 2, 9, 10, channels, dtype)
    f = rng.standard_normal(kernel + (channels, multiplier)).astype(dtype)
    b = rng.standard_normal(channels * multiplier).astype(dtype)
    want = tf.nn.bias_add(tf_depthwise(x, f, (stride, stride), padding, dilation), b).numpy()
    got = fastconv.depthwise_conv2d(x, f, stride, padding, "NHWC", dilation, bias=b)
    assert_close(got, want, kernel[0] * kernel[1] + 1, dtype)
    # a strided (non-contiguous) input and the NCHW layout go through the same kernels
    got = fastconv.depthwise_conv2d(
        np.repeat(x, 2, axis=2)[:, :, ::2],
        f,
        stride,
        padding,
        "NHWC",
        dilation,
        bias=b,
        activation="relu6",
    )
    assert_close(got, np.clip(want, 0, 6), kernel[0] * kernel[1] + 1, dtype)
    xc = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    got = fastconv.depthwise_conv2d(xc, f, stride, padding, "NCHW", dilation, bias=b)
    assert_close(got, want.transpose(0, 3, 1, 2), kernel[0] * kernel[1] + 1, dtype)
