"""conv2d_backprop_filter and depthwise_conv2d_backprop_filter (fast and reference) against
TensorFlow: tf.raw_ops.Conv2DBackpropFilter, tf.nn.depthwise_conv2d_backprop_filter and the
tf.GradientTape gradients of tf.nn.conv2d / depthwise_conv2d with respect to the filter, over
a covering sweep, the argument forms and a hypothesis property. What TF cannot run on the
CPU (NCHW, dilation with stride, groups) is in test_backprop_filter_kernel.py."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given

import fastconv
from _cases import covering, eff, fit_size, tf_padding
from _backprop_cases import tape_filter_grad
from _tf_bugs import avoid_strided_1x1_filter_grad
from fastconv import reference, testing
from tolerance import assert_close


def tf_conv_filter_grad(x, sizes, dy, strides, padding, dilations=(1, 1)):
    """TF's op (NHWC; strides and dilations as (h, w)); with dilation, which TF's gradient
    ops do not run on the CPU, the tf.GradientTape gradient of the dilated convolution as TF
    builds it from undilated ones (tf.nn.with_space_to_batch; stride 1 only), with explicit
    padding applied to the input first."""
    if tuple(dilations) != (1, 1):
        assert tuple(strides) == (1, 1), "TF has no dilation with stride"
        if not isinstance(padding, str):
            x, padding = np.pad(x, ((0, 0), *padding, (0, 0))), "VALID"
        return tape_filter_grad(
            lambda a, b: tf.nn.with_space_to_batch(
                a,
                list(dilations),
                padding,
                lambda inp, num_spatial_dims, padding: tf.nn.conv2d(inp, b, 1, padding),
                filter_shape=tuple(sizes[:2]),
            ),
            x,
            np.zeros(tuple(sizes), x.dtype),
            dy,
        )
    x, strides, padding = avoid_strided_1x1_filter_grad(x, sizes[:2], strides, padding)
    return tf.raw_ops.Conv2DBackpropFilter(
        input=x,
        filter_sizes=list(sizes),
        out_backprop=dy,
        strides=[1, *strides, 1],
        padding="EXPLICIT" if not isinstance(padding, str) else padding,
        explicit_paddings=[] if isinstance(padding, str) else sum(tf_padding(padding), []),
        dilations=[1, *dilations, 1],
    ).numpy()


def reduction(dy, data_format="NHWC"):
    """The length of each gradient value's sum: batch x output pixels."""
    n, h, w, _ = dy.shape if data_format == "NHWC" else np.moveaxis(dy, 1, 3).shape
    return n * h * w


def _cases():
    """Strided cases and dilated cases (stride 1: TF has no dilation with stride)."""
    common = dict(
        size=[(1, 1), (3, 4), (5, 5), (7, 9), (12, 10), (15, 16)],
        channels=[1, 2, 3, 5, 8, 16, 17],
        out_channels=[1, 2, 7, 16, 33],
        batch=[1, 2, 3],
        padding=["SAME", "VALID", "explicit"],
        dtype=["float32", "float32", "float64"],
    )
    kernels = [(1, 1), (2, 2), (3, 3), (5, 5), (7, 7), (1, 3), (3, 1), (2, 5)]
    strided = covering(
        16,
        seed=11,
        kernel=kernels,
        stride=[(1, 1), (2, 2), (3, 3), (1, 2)],
        dilation=[(1, 1)],
        **common,
    )
    dilated = covering(
        10,
        seed=12,
        kernel=kernels[1:],
        stride=[(1, 1)],
        dilation=[(2, 2), (3, 3), (1, 2), (2, 1)],
        **common,
    )
    cases = []
    for i, case in enumerate(strided + dilated):
        (kh, kw), (dh, dw) = case["kernel"], case["dilation"]
        pad = case["padding"]
        if pad == "explicit":
            pad = ((i % 3, (i * 2) % 3), ((i * 5) % 4, i % 2))
        pads = ((0, 0), (0, 0)) if isinstance(pad, str) else pad
        case.update(
            padding=pad,
            size=(
                fit_size(case["size"][0], eff(kh, dh), pads[0], pad),
                fit_size(case["size"][1], eff(kw, dw), pads[1], pad),
            ),
        )
        case["id"] = (
            f"k{kh}x{kw}-s{case['stride'][0]}x{case['stride'][1]}-d{dh}x{dw}-"
            f"{pad if isinstance(pad, str) else 'explicit'}-{case['batch']}x"
            f"{case['size'][0]}x{case['size'][1]}x{case['channels']}to"
            f"{case['out_channels']}-{case['dtype']}"
        )
        cases.append(case)
    return cases


SWEEP = _cases()


@pytest.mark.parametrize("case", SWEEP, ids=[c["id"] for c in SWEEP])
def test_conv_filter_grad_sweep_matches_tf(case, rng):
    (kh, kw), (h, w), dtype = case["kernel"], case["size"], case["dtype"]
    x = rng.standard_normal((case["batch"], h, w, case["channels"])).astype(dtype)
    sizes = (kh, kw, case["channels"], case["out_channels"])
    y = reference.conv2d(
        x, np.zeros(sizes, dtype), case["stride"], case["padding"], dilations=case["dilation"]
    )
    dy = rng.standard_normal(y.shape).astype(dtype)
    want = tf_conv_filter_grad(x, sizes, dy, case["stride"], case["padding"], case["dilation"])
    for impl in (fastconv, reference):
        got = impl.conv2d_backprop_filter(
            x, sizes, dy, case["stride"], case["padding"], dilations=case["dilation"]
        )
        assert got.dtype == np.dtype(dtype) and got.shape == sizes
        assert_close(got, want, reduction(dy), dtype, impl.__name__)


@pytest.mark.parametrize(
    "kernel, stride, padding, channels, out_channels, batch",
    [
        ((3, 3), 1, "SAME", 64, 64, 2),
        ((5, 5), 1, "SAME", 1, 32, 4),
        ((7, 7), 2, "SAME", 3, 64, 1),
        ((1, 1), 1, "VALID", 96, 40, 2),
        ((3, 3), 2, "VALID", 70, 130, 1),
    ],
    ids=["3x3-64", "lenet-c1", "stem", "1x1", "3x3s2-wide"],
)
def test_conv_filter_grad_is_the_tape_gradient(
    kernel, stride, padding, channels, out_channels, batch, rng
):
    """Layer-like shapes (several panels and row blocks) against tf.GradientTape."""
    x = rng.standard_normal((batch, 17, 19, channels)).astype(np.float32)
    f = rng.standard_normal((*kernel, channels, out_channels)).astype(np.float32)
    y = tf.nn.conv2d(x, f, stride, padding)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    want = tape_filter_grad(lambda a, b: tf.nn.conv2d(a, b, stride, padding), x, f, dy)
    got, bias_grad = fastconv.conv2d_backprop_filter(
        x, f.shape, dy, stride, padding, return_bias_grad=True
    )
    assert_close(got, want, reduction(dy), np.float32)
    b_var = tf.Variable(np.zeros(out_channels, np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.nn.bias_add(y, b_var) * dy)
    assert_close(bias_grad, tape.gradient(loss, b_var).numpy(), reduction(dy), np.float32)


@pytest.mark.parametrize(
    "strides, tf_strides, padding, dilations, tf_dilations",
    [
        (2, (2, 2), "same", 1, (1, 1)),
        ([1, 3, 3, 1], (3, 3), "VALID", [1, 1, 1, 1], (1, 1)),
        ((1, 2), (1, 2), [[0, 0], [1, 2], [2, 0], [0, 0]], 1, (1, 1)),
        (1, (1, 1), ((2, 1), (0, 2)), (2, 3), (2, 3)),
        (np.int64(1), (1, 1), "SAME", np.array([1, 2]), (1, 2)),
    ],
    ids=["int-lower", "four", "pair-tf-pads", "explicit-dilated", "numpy"],
)
def test_conv_filter_grad_argument_forms(
    strides, tf_strides, padding, dilations, tf_dilations, rng
):
    x = rng.standard_normal((2, 11, 12, 3)).astype(np.float32)
    sizes = np.array([3, 2, 3, 5], np.int32)  # a tensor of sizes, as TF takes it
    tf_pad = padding.upper() if isinstance(padding, str) else padding
    if not isinstance(tf_pad, str) and len(tf_pad) == 4:
        tf_pad = (tuple(tf_pad[1]), tuple(tf_pad[2]))
    y = reference.conv2d(
        x, np.zeros(tuple(sizes), np.float32), strides, padding, dilations=dilations
    )
    dy = rng.standard_normal(y.shape).astype(np.float32)
    want = tf_conv_filter_grad(x, sizes, dy, tf_strides, tf_pad, tf_dilations)
    got = fastconv.conv2d_backprop_filter(x, sizes, dy, strides, padding, dilations=dilations)
    assert_close(got, want, reduction(dy), np.float32)


DEPTHWISE = covering(
    12,
    seed=13,
    kernel=[(1, 1), (3, 3), (5, 5), (2, 4), (7, 3)],
    stride=[1, 2, 3],
    channels=[1, 3, 8, 16, 17, 33],
    multiplier=[1, 2, 3],
    batch=[1, 2],
    padding=["SAME", "VALID"],
    dtype=["float32", "float32", "float64"],
)


@pytest.mark.parametrize(
    "case",
    DEPTHWISE,
    ids=[
        f"k{c['kernel']}-s{c['stride']}-c{c['channels']}m{c['multiplier']}-"
        f"{c['padding']}-{c['dtype']}"
        for c in DEPTHWISE
    ],
)
def test_depthwise_filter_grad_matches_tf(case, rng):
    (kh, kw), s, dtype = case["kernel"], case["stride"], case["dtype"]
    h, w = max(9, kh), max(10, kw)
    x = rng.standard_normal((case["batch"], h, w, case["channels"])).astype(dtype)
    sizes = (kh, kw, case["channels"], case["multiplier"])
    y = reference.depthwise_conv2d(x, np.zeros(sizes, dtype), s, case["padding"])
    dy = rng.standard_normal(y.shape).astype(dtype)
    tf_x, (sh, sw), tf_pad = avoid_strided_1x1_filter_grad(x, (kh, kw), (s, s), case["padding"])
    want = tf.nn.depthwise_conv2d_backprop_filter(tf_x, sizes, dy, [1, sh, sw, 1], tf_pad).numpy()
    for impl in (fastconv, reference):
        got = impl.depthwise_conv2d_backprop_filter(x, sizes, dy, s, case["padding"])
        assert got.dtype == np.dtype(dtype)
        assert_close(got, want, reduction(dy), dtype, impl.__name__)


@pytest.mark.parametrize("dilations", [(2, 2), (1, 3)])
def test_depthwise_filter_grad_dilated_is_the_tape_gradient(dilations, rng):
    """Dilation through tf.GradientTape of tf.nn.depthwise_conv2d (stride 1: TF's rule)."""
    x = rng.standard_normal((2, 12, 13, 20)).astype(np.float32)
    f = rng.standard_normal((3, 3, 20, 2)).astype(np.float32)
    fwd = lambda a, b: tf.nn.depthwise_conv2d(a, b, [1, 1, 1, 1], "SAME", dilations=list(dilations))
    dy = rng.standard_normal(fwd(x, f).shape).astype(np.float32)
    want = tape_filter_grad(fwd, x, f, dy)
    got = fastconv.depthwise_conv2d_backprop_filter(x, f.shape, dy, 1, "SAME", dilations=dilations)
    assert_close(got, want, reduction(dy), np.float32)


@given(testing.conv2d_args(max_batch=3, max_size=10, dilation_with_stride=False))
def test_conv_filter_grad_property(call):
    """conv2d's random calls (fastconv.testing's strategy, within what TF takes): against TF
    where it runs them (one group, NHWC), against the reference elsewhere (groups, NCHW)."""
    x, f, strides, padding, fmt, dilations = call.args
    rng = np.random.default_rng(call.seed)
    dtype, sizes = x.dtype, f.shape
    groups = (x.shape[3] if fmt == "NHWC" else x.shape[1]) // sizes[2]
    y = reference.conv2d(x, np.zeros(sizes, dtype), strides, padding, fmt, dilations)
    dy = rng.standard_normal(y.shape).astype(dtype)
    got = fastconv.conv2d_backprop_filter(
        x, sizes, dy, strides, padding, data_format=fmt, dilations=dilations
    )
    if groups == 1 and fmt == "NHWC":
        want = tf_conv_filter_grad(x, sizes, dy, strides, padding, dilations)
    else:
        want = reference.conv2d_backprop_filter(
            x, sizes, dy, strides, padding, data_format=fmt, dilations=dilations
        )
    assert_close(got, want, reduction(dy, fmt), dtype)
