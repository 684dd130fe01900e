"""Shared pieces of the input-gradient tests: random problems that fit their window, and
the gradients of the forward ops by tf.GradientTape (the peer the tests compare against)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from _cases import eff, fit_size, tf_padding
from _tf_bugs import avoid_strided_1x1_filter_grad


def problem(rng, case, depthwise=False):
    """(input_sizes NHWC, filter, out_backprop NHWC) for a covering case: the input grown
    until the window fits, out_backprop of the forward output's shape (taken from
    fastconv's geometry, which test_conv2d_tf.py checks against TF)."""
    from fastconv._geometry import conv_shape, depthwise_shape

    (kh, kw), (sh, sw), (dh, dw) = case["kernel"], case["stride"], case["dilation"]
    pad = case["padding"]
    explicit = [[kh // 2, (kh - 1) // 2 + 1], [kw // 2, kw // 2]]
    padding = explicit if pad == "explicit" else pad
    pads = explicit if pad == "explicit" else [[0, 0], [0, 0]]
    h = fit_size(case["size"][0], eff(kh, dh), pads[0], padding)
    w = fit_size(case["size"][1], eff(kw, dw), pads[1], padding)
    groups = 1 if depthwise else case.get("groups", 1)
    c, n = case["channels"] * groups, case["batch"]  # channels: per group
    dtype = case["dtype"]
    if depthwise:
        f = rng.standard_normal((kh, kw, c, case["multiplier"])).astype(dtype)
        shape = depthwise_shape((n, h, w, c), f.shape, (sh, sw), padding, "NHWC", (dh, dw))
    else:
        f = rng.standard_normal((kh, kw, c // groups, case["out_channels"] * groups))
        f = f.astype(dtype)
        shape = conv_shape((n, h, w, c), f.shape, (sh, sw), padding, "NHWC", (dh, dw))
    win = shape.win
    dy = rng.standard_normal((n, win.out_h, win.out_w, shape.out_channels)).astype(dtype)
    return (n, h, w, c), f, dy, padding


def tape_gradient(forward, sizes, f, dy):
    """d(sum(forward(x) * dy)) / dx for any x of shape `sizes` (the gradient is linear in
    dy and does not depend on x), by tf.GradientTape."""
    x = tf.constant(np.zeros(sizes, dy.dtype))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = forward(x, tf.constant(f))
    return tape.gradient(y, x, output_gradients=tf.constant(dy)).numpy()


def tape_filter_grad(forward, x, f, dy):
    """d(sum(forward(x, f) * dy)) / df through tf.GradientTape."""
    f_var = tf.Variable(f)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(forward(tf.constant(x), f_var) * dy)
    return tape.gradient(loss, f_var).numpy()


def tf_conv(strides, padding, dilations):
    return _tf_forward(tf.nn.conv2d, strides, padding, dilations)


def tf_depthwise(strides, padding, dilations):
    return _tf_forward(tf.nn.depthwise_conv2d, strides, padding, dilations)


def _tf_forward(op, strides, padding, dilations):
    """TF's forward op as a function of (x, f), for tf.GradientTape; strided 1x1 windows
    through their exact stride-1 form (TF's gradient of those corrupts the heap)."""

    def forward(x, f):
        x, s, pad = avoid_strided_1x1_filter_grad(x, tuple(f.shape[:2]), tuple(strides), padding)
        return op(x, f, [1, *s, 1], tf_padding(pad), dilations=list(dilations))

    return forward


def reduction(f_shape, groups_out_per_group):
    """Terms summed into one input-gradient cell, at most: every tap times the output
    channels of its group."""
    return f_shape[0] * f_shape[1] * groups_out_per_group
