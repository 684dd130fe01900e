"""conv2d_backprop_input, depthwise_conv2d_backprop_input and conv2d_transpose against
TensorFlow: tf.GradientTape gradients of tf.nn.conv2d / depthwise_conv2d over a covering
sweep, TF's own ops (argument order and results), and a hypothesis property."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st

import fastconv
from fastconv import reference
from _backprop_cases import problem, reduction, tape_gradient, tf_conv, tf_depthwise
from _cases import covering, tf_padding
from tolerance import assert_close

KERNELS = [(1, 1), (2, 2), (3, 3), (5, 5), (7, 7), (1, 3), (3, 1), (2, 5), (4, 3)]
COMMON = dict(
    size=[(1, 1), (2, 3), (4, 4), (5, 8), (7, 6), (9, 9), (12, 11), (16, 13)],
    batch=[1, 2, 3],
    padding=["SAME", "VALID", "explicit"],
    dtype=["float32", "float32", "float64"],
)


def _conv_cases():
    """TF's CPU conv2d has no dilation together with stride, and no gradient of a grouped
    convolution: strided cases and dilated cases apart, one group (the rest is checked
    against PyTorch in test_backprop_input_torch.py)."""
    conv = dict(COMMON, kernel=KERNELS, channels=[1, 2, 3, 8, 17], out_channels=[1, 3, 4, 16])
    strided = covering(
        30,
        seed=11,
        stride=[(1, 1), (2, 2), (3, 3), (1, 2), (2, 3), (4, 4)],
        dilation=[(1, 1)],
        **conv,
    )
    # TF's CPU gradient of a dilated conv2d runs only in float32 with SAME or VALID
    # ("Current CPU implementations do not yet support dilation rates larger than 1").
    conv.update(padding=["SAME", "VALID"], dtype=["float32"])
    dilated = covering(12, seed=12, stride=[(1, 1)], dilation=[(2, 2), (3, 1), (1, 2)], **conv)
    return strided + dilated


@pytest.mark.parametrize("case", _conv_cases(), ids=str)
def test_conv2d_backprop_input_matches_tape(rng, case):
    sizes, f, dy, padding = problem(rng, case)
    expected = tape_gradient(tf_conv(case["stride"], padding, case["dilation"]), sizes, f, dy)
    got = fastconv.conv2d_backprop_input(
        sizes, f, dy, case["stride"], padding, dilations=case["dilation"]
    )
    assert got.dtype == f.dtype
    assert_close(got, expected, reduction(f.shape, f.shape[3]), f.dtype, str(case))


def _depthwise_cases():
    dw = dict(COMMON, kernel=KERNELS, channels=[1, 2, 3, 8, 16], multiplier=[1, 2, 3])
    strided = covering(20, seed=13, stride=[(1, 1), (2, 2), (3, 3)], dilation=[(1, 1)], **dw)
    dilated = covering(10, seed=14, stride=[(1, 1)], dilation=[(2, 2), (3, 1)], **dw)
    return strided + dilated


@pytest.mark.parametrize("case", _depthwise_cases(), ids=str)
def test_depthwise_backprop_input_matches_tape(rng, case):
    sizes, f, dy, padding = problem(rng, case, depthwise=True)
    expected = tape_gradient(tf_depthwise(case["stride"], padding, case["dilation"]), sizes, f, dy)
    got = fastconv.depthwise_conv2d_backprop_input(
        sizes, f, dy, case["stride"], padding, dilations=case["dilation"]
    )
    assert_close(got, expected, reduction(f.shape, f.shape[3]), f.dtype, str(case))


def test_tf_ops_argument_order(rng):
    """TF's own gradient ops, called positionally as fastconv is."""
    x_sizes = [2, 9, 8, 6]
    f = rng.standard_normal((3, 3, 6, 4)).astype(np.float32)
    dy = rng.standard_normal((2, 5, 4, 4)).astype(np.float32)
    expected = tf.compat.v1.nn.conv2d_backprop_input(x_sizes, f, dy, [1, 2, 2, 1], "SAME")
    got = fastconv.conv2d_backprop_input(x_sizes, f, dy, [1, 2, 2, 1], "SAME")
    assert_close(got, expected.numpy(), 9 * 4, np.float32)
    fd = rng.standard_normal((3, 3, 6, 2)).astype(np.float32)
    dyd = rng.standard_normal((2, 5, 4, 12)).astype(np.float32)
    expected = tf.nn.depthwise_conv2d_backprop_input(x_sizes, fd, dyd, [1, 2, 2, 1], "SAME")
    got = fastconv.depthwise_conv2d_backprop_input(x_sizes, fd, dyd, [1, 2, 2, 1], "SAME")
    assert_close(got, expected.numpy(), 9 * 2, np.float32)


def test_depthwise_dilation_where_tf_aborts(rng):
    """tf.nn.depthwise_conv2d_backprop_input with dilation 2 raises AbortedError (oneDNN;
    docs/peers.md): the case is kept, and compared with the reference instead."""
    f = rng.standard_normal((3, 3, 3, 2)).astype(np.float32)
    dy = rng.standard_normal((1, 4, 4, 6)).astype(np.float32)
    with pytest.raises(tf.errors.AbortedError):
        tf.nn.depthwise_conv2d_backprop_input(
            [1, 8, 8, 3], f, dy, [1, 1, 1, 1], "VALID", dilations=[2, 2]
        )
    got = fastconv.depthwise_conv2d_backprop_input([1, 8, 8, 3], f, dy, 1, "VALID", dilations=2)
    expected = reference.depthwise_conv2d_backprop_input(
        [1, 8, 8, 3], f, dy, 1, "VALID", dilations=2
    )
    assert_close(got, expected, 9 * 2, np.float32)


TF_ACTIVATIONS = {
    None: lambda v: v,
    "relu": tf.nn.relu,
    "relu6": tf.nn.relu6,
    "sigmoid": tf.nn.sigmoid,
    "tanh": tf.nn.tanh,
}


@pytest.mark.parametrize("activation", list(TF_ACTIVATIONS))
@pytest.mark.parametrize(
    "strides,padding,out_hw",
    [
        (1, "SAME", (7, 6)),
        (2, "SAME", (14, 12)),
        (2, "SAME", (13, 11)),
        (2, "VALID", (15, 13)),
        (3, "VALID", (23, 20)),
        ((2, 1), [[1, 2], [0, 1]], (13, 7)),
    ],
)
def test_conv2d_transpose_matches_tf(rng, activation, strides, padding, out_hw):
    x = rng.standard_normal((2, 7, 6, 5)).astype(np.float32)
    f = rng.standard_normal((3, 3, 4, 5)).astype(np.float32)  # [h, w, out, in]
    b = rng.standard_normal(4).astype(np.float32)
    shape = [2, *out_hw, 4]
    s = [strides] * 2 if isinstance(strides, int) else list(strides)
    y = tf.nn.conv2d_transpose(x, f, shape, [1, *s, 1], tf_padding(padding))
    expected = TF_ACTIVATIONS[activation](tf.nn.bias_add(y, b)).numpy()
    got = fastconv.conv2d_transpose(x, f, shape, strides, padding, bias=b, activation=activation)
    assert_close(got, expected, 9 * 5, np.float32)
    plain = fastconv.conv2d_transpose(x, f, shape, strides, padding)
    assert_close(plain, y.numpy(), 9 * 5, np.float32)


@given(
    k=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    s=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    size=st.tuples(st.integers(1, 14), st.integers(1, 14)),
    pad=st.sampled_from(["SAME", "VALID", "explicit"]),
    c=st.integers(1, 6),
    o=st.integers(1, 6),
    n=st.integers(1, 2),
    seed=st.integers(0, 2**31 - 1),
)
def test_backprop_input_property(k, s, size, pad, c, o, n, seed):
    """Any window, stride and padding: equals TF's gradient of conv2d."""
    rng = np.random.default_rng(seed)
    case = dict(
        kernel=k,
        stride=s,
        dilation=(1, 1),
        padding=pad,
        size=size,
        channels=c,
        out_channels=o,
        batch=n,
        dtype="float32",
    )
    sizes, f, dy, padding = problem(rng, case)
    expected = tape_gradient(tf_conv(s, padding, (1, 1)), sizes, f, dy)
    got = fastconv.conv2d_backprop_input(sizes, f, dy, s, padding)
    assert_close(got, expected, reduction(f.shape, o), np.float32, str(case))
