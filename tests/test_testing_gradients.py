"""fastconv.testing's strategies for the gradient ops: every drawn call runs, has the shape
output_shape names, leaves its inputs alone and matches the reference within call.reduction
(in every convention: OIHW filters, PyTorch's and ONNX's padding spellings, NCHW, groups,
dilation); and, within what TensorFlow runs on the CPU (NHWC, one group, its paddings, no
dilation), matches TF's tf.GradientTape gradients and max_pool_with_argmax."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from hypothesis import given, settings

import fastconv
from fastconv import reference, testing
from _backprop_cases import tape_gradient, tape_filter_grad, tf_conv, tf_depthwise
from _cases import tf_padding

ALL_PADDINGS = ("SAME", "VALID", "explicit", "SAME_LOWER", "onnx", "torch")
BOTH = ("HWIO", "OIHW")
# TF's CPU kernels: NHWC, its own paddings, no dilation (its dilated gradients run in
# float32 SAME / VALID only and the depthwise one aborts), one group, equal depthwise strides
TF_CONV = dict(data_formats=("NHWC",), max_dilation=1)


def check_against_reference(call):
    """fastconv's result, after checking it against the reference (and its shape and the
    inputs); a pair (max_pool_with_argmax) is compared value for value."""
    before = [np.copy(a) for a in call.args if isinstance(a, np.ndarray)]
    got, want = call.run(fastconv), call.run(reference)
    for a, b in zip([a for a in call.args if isinstance(a, np.ndarray)], before):
        np.testing.assert_array_equal(a, b)
    if isinstance(got, tuple):
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
        assert got[0].shape == got[1].shape == call.output_shape
        return got
    assert got.shape == call.output_shape and got.dtype == want.dtype
    testing.assert_allclose(got, want, reduction=call.reduction, scale=call.scale)
    return got


# ---------------------------------------------------------------- against the reference


@settings(max_examples=60, deadline=None)
@given(testing.conv2d_backprop_input_args(paddings=ALL_PADDINGS, filter_formats=BOTH))
def test_conv2d_backprop_input_args(call):
    check_against_reference(call)


@settings(max_examples=60, deadline=None)
@given(testing.conv2d_backprop_filter_args(paddings=ALL_PADDINGS, filter_formats=BOTH))
def test_conv2d_backprop_filter_args(call):
    check_against_reference(call)


@settings(max_examples=60, deadline=None)
@given(
    testing.conv2d_transpose_args(
        paddings=ALL_PADDINGS,
        filter_formats=BOTH,
        bias=True,
        activations=(None, "relu", "tanh"),
        output_padding=True,
    )
)
def test_conv2d_transpose_args(call):
    check_against_reference(call)


@settings(max_examples=40, deadline=None)
@given(testing.depthwise_conv2d_backprop_input_args(paddings=ALL_PADDINGS, filter_formats=BOTH))
def test_depthwise_conv2d_backprop_input_args(call):
    check_against_reference(call)


@settings(max_examples=40, deadline=None)
@given(testing.depthwise_conv2d_backprop_filter_args(paddings=ALL_PADDINGS, filter_formats=BOTH))
def test_depthwise_conv2d_backprop_filter_args(call):
    check_against_reference(call)


@settings(max_examples=60, deadline=None)
@given(testing.pool2d_grad_args(paddings=ALL_PADDINGS))
def test_pool2d_grad_args(call):
    check_against_reference(call)


def test_gradient_switches_are_drawn():
    """Each op, filter format, padding spelling and output_padding shows up."""
    seen = set()

    @settings(max_examples=120, deadline=None, derandomize=True)
    @given(
        testing.conv2d_backprop_filter_args(paddings=ALL_PADDINGS, filter_formats=BOTH),
        testing.conv2d_transpose_args(paddings=ALL_PADDINGS, output_padding=True),
        testing.pool2d_grad_args(paddings=ALL_PADDINGS),
    )
    def collect(grad, transpose, pool):
        for call in (grad, transpose, pool):
            seen.update(call.kwargs)
            seen.add(call.op)
            padding = call.args[4] if call.op.startswith("conv2d") else call.args[-2]
            seen.add(padding if isinstance(padding, str) else type(padding).__name__)

    collect()
    assert {
        "filter_format",
        "pads",
        "output_padding",
        "include_batch_in_index",
        "max_pool2d_grad",
        "avg_pool2d_grad",
        "max_pool_with_argmax",
        "SAME",
        "VALID",
        "SAME_LOWER",
        "NOTSET",
        "int",
        "tuple",
    } <= seen, seen


# ---------------------------------------------------------------- against TensorFlow


@settings(max_examples=40, deadline=None)
@given(testing.conv2d_backprop_input_args(max_groups=1, **TF_CONV))
def test_conv2d_backprop_input_args_against_tf(call):
    got = check_against_reference(call)
    sizes, f, dy, strides, padding = call.args
    want = tape_gradient(tf_conv(strides, padding, (1, 1)), sizes, f, dy)
    testing.assert_allclose(got, want, reduction=call.reduction, scale=call.scale)


@settings(max_examples=40, deadline=None)
@given(testing.conv2d_backprop_filter_args(max_groups=1, **TF_CONV))
def test_conv2d_backprop_filter_args_against_tf(call):
    got = check_against_reference(call)
    x, sizes, dy, strides, padding = call.args
    want = tape_filter_grad(tf_conv(strides, padding, (1, 1)), x, np.zeros(sizes, x.dtype), dy)
    testing.assert_allclose(got, want, reduction=call.reduction, scale=call.scale)


@settings(max_examples=40, deadline=None)
@given(testing.conv2d_transpose_args(max_groups=1, **TF_CONV))
def test_conv2d_transpose_args_against_tf(call):
    got = check_against_reference(call)
    x, f, sizes, strides, padding = call.args
    # the transposed convolution is the input gradient of the forward one
    want = tape_gradient(tf_conv(strides, padding, (1, 1)), sizes, f, x)
    testing.assert_allclose(got, want, reduction=call.reduction, scale=call.scale)


@settings(max_examples=30, deadline=None)
@given(testing.depthwise_conv2d_backprop_input_args(equal_strides=True, **TF_CONV))
def test_depthwise_conv2d_backprop_input_args_against_tf(call):
    got = check_against_reference(call)
    sizes, f, dy, strides, padding = call.args
    want = tape_gradient(tf_depthwise(strides, padding, (1, 1)), sizes, f, dy)
    testing.assert_allclose(got, want, reduction=call.reduction, scale=call.scale)


@settings(max_examples=30, deadline=None)
@given(testing.depthwise_conv2d_backprop_filter_args(equal_strides=True, **TF_CONV))
def test_depthwise_conv2d_backprop_filter_args_against_tf(call):
    got = check_against_reference(call)
    x, sizes, dy, strides, padding = call.args
    want = tape_filter_grad(tf_depthwise(strides, padding, (1, 1)), x, np.zeros(sizes, x.dtype), dy)
    testing.assert_allclose(got, want, reduction=call.reduction, scale=call.scale)


def _tf_pool_grad(op, x, g, ksize, strides, padding):
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = op(xt, ksize, strides, tf_padding(padding))
    return tape.gradient(y, xt, output_gradients=tf.constant(g)).numpy()


@settings(max_examples=60, deadline=None)
@given(testing.pool2d_grad_args(data_formats=("NHWC",)))
def test_pool2d_grad_args_against_tf(call):
    got = check_against_reference(call)
    if call.op == "max_pool2d_grad":
        x, _, g, ksize, strides, padding = call.args
        want = _tf_pool_grad(tf.nn.max_pool2d, x, g, ksize, strides, padding)
    elif call.op == "avg_pool2d_grad":
        sizes, g, ksize, strides, padding = call.args
        if not isinstance(padding, str):  # TF's avg_pool has no explicit padding
            return
        want = _tf_pool_grad(tf.nn.avg_pool2d, np.zeros(sizes, g.dtype), g, ksize, strides, padding)
    else:
        x, ksize, strides, padding, _ = call.args
        if not isinstance(padding, str):  # tf.nn.max_pool_with_argmax: SAME / VALID
            return
        want = tf.nn.max_pool_with_argmax(x, ksize, strides, padding, **call.kwargs)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b.numpy())
        return
    testing.assert_allclose(got, want, reduction=call.reduction, scale=call.scale)
