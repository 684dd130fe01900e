"""max_pool2d_grad, avg_pool2d_grad and max_pool_with_argmax against TensorFlow
(tf.GradientTape of tf.nn.max_pool2d / avg_pool2d, tf.raw_ops.MaxPoolGrad / AvgPoolGrad,
tf.nn.max_pool_with_argmax), and the reference along the sweep. What TF cannot check (NaN:
TF's forward max drops it, docs/peers.md; float64, float16, explicit avg padding, threads,
ISAs, errors) is in test_pool_grad_kernel.py."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st

import fastconv
from fastconv import reference
from _cases import covering, fit_size, tf_padding
from _pool_grad_cases import make_input, reduction, shape_of
from tolerance import assert_close


def nhwc(a, fmt):
    return a if fmt == "NHWC" else a.transpose(0, 2, 3, 1)


def from_nhwc(a, fmt):
    return a if fmt == "NHWC" else a.transpose(0, 3, 1, 2)


def tf_max_grad(x, g, ksize, strides, padding, fmt="NHWC", tape=False):
    """TF's max-pool input gradient (NHWC inside; NCHW arrays transposed around it)."""
    x, g = nhwc(x, fmt), nhwc(g, fmt)
    if tape:
        xt = tf.constant(x)
        with tf.GradientTape() as t:
            t.watch(xt)
            y = tf.nn.max_pool2d(xt, ksize, strides, tf_padding(padding))
        return from_nhwc(t.gradient(y, xt, output_gradients=tf.constant(g)).numpy(), fmt)
    y = tf.nn.max_pool2d(x, ksize, strides, tf_padding(padding))
    kh, kw = ksize
    sh, sw = strides
    pad, explicit = (
        (padding, [])
        if isinstance(padding, str)
        else ("EXPLICIT", [0, 0, *padding[0], *padding[1], 0, 0])
    )
    got = tf.raw_ops.MaxPoolGrad(
        orig_input=x,
        orig_output=y,
        grad=g,
        ksize=[1, kh, kw, 1],
        strides=[1, sh, sw, 1],
        padding=pad,
        explicit_paddings=explicit,
    )
    return from_nhwc(got.numpy(), fmt)


def tf_avg_grad(shape, g, ksize, strides, padding, fmt="NHWC", tape=False):
    g = nhwc(g, fmt)
    shape = tuple(nhwc(np.empty(shape, np.int8), fmt).shape)
    if tape:
        xt = tf.zeros(shape, g.dtype)
        with tf.GradientTape() as t:
            t.watch(xt)
            y = tf.nn.avg_pool2d(xt, ksize, strides, padding)
        return from_nhwc(t.gradient(y, xt, output_gradients=tf.constant(g)).numpy(), fmt)
    got = tf.raw_ops.AvgPoolGrad(
        orig_input_shape=shape,
        grad=g,
        ksize=[1, *ksize, 1],
        strides=[1, *strides, 1],
        padding=padding,
    )
    return from_nhwc(got.numpy(), fmt)


def _sweep():
    cases = covering(
        32,
        seed=13,
        kind=["max", "avg"],
        ksize=[(1, 1), (2, 2), (3, 3), (4, 4), (2, 3), (3, 1), (5, 2)],
        stride=[(1, 1), (2, 2), (3, 3), (1, 2), (2, 1)],
        size=[(1, 1), (2, 3), (5, 5), (7, 6), (9, 11), (14, 14)],
        channels=[1, 3, 8, 16, 17, 33, 64],
        batch=[1, 2, 3],
        padding=["SAME", "VALID", "explicit"],
        data_format=["NHWC", "NHWC", "NCHW"],
        ties=[False, True],
        tape=[False, True],
    )
    for i, case in enumerate(cases):
        (kh, kw), pad = case["ksize"], case["padding"]
        if pad == "explicit":
            if case["kind"] == "avg":  # TF's AvgPoolGrad has no explicit padding
                pad = "SAME" if i % 2 else "VALID"
            else:
                pad = ((i % kh, (i * 3) % kh), ((i * 5) % kw, (i * 7) % kw))
        pads = ((0, 0), (0, 0)) if isinstance(pad, str) else pad
        size = (
            fit_size(case["size"][0], kh, pads[0], pad),
            fit_size(case["size"][1], kw, pads[1], pad),
        )
        case.update(padding=pad, size=size)
        case["id"] = (
            f"{case['kind']}-k{kh}x{kw}-s{case['stride'][0]}x{case['stride'][1]}-"
            f"{pad if isinstance(pad, str) else 'pad' + ''.join(map(str, sum(pad, ())))}-"
            f"{case['batch']}x{size[0]}x{size[1]}x{case['channels']}-"
            f"{case['data_format']}{'-ties' if case['ties'] else ''}"
            f"{'-tape' if case['tape'] else ''}"
        )
    return cases


SWEEP = _sweep()


@pytest.mark.parametrize("case", SWEEP, ids=[c["id"] for c in SWEEP])
def test_pool_grad_sweep_matches_tf(case, rng):
    kind, fmt, ks, st_, pad = (
        case[k] for k in ("kind", "data_format", "ksize", "stride", "padding")
    )
    x = make_input(
        rng, shape_of(case["batch"], *case["size"], case["channels"], fmt), np.float32, case["ties"]
    )
    y = fastconv.max_pool2d(x, ks, st_, pad, fmt)
    g = rng.standard_normal(y.shape).astype(np.float32)
    if kind == "max":
        got = fastconv.max_pool2d_grad(x, y, g, ks, st_, pad, data_format=fmt)
        want = tf_max_grad(x, g, ks, st_, pad, fmt, case["tape"])
    else:
        got = fastconv.avg_pool2d_grad(x.shape, g, ks, st_, pad, data_format=fmt)
        want = tf_avg_grad(x.shape, g, ks, st_, pad, fmt, case["tape"])
    assert got.dtype == np.float32 and got.shape == x.shape
    assert_close(got, want, reduction(kind, ks, st_), np.float32)
    # the reference agrees too (its own code path, float64 sums)
    ref = (
        reference.max_pool2d_grad(x, y, g, ks, st_, pad, data_format=fmt)
        if kind == "max"
        else reference.avg_pool2d_grad(x.shape, g, ks, st_, pad, data_format=fmt)
    )
    assert_close(got, ref, reduction(kind, ks, st_), np.float32)


def test_tie_goes_to_first_cell_in_row_major_order():
    """TF's rule, checked on a window whose maxima sit on both rows."""
    x = np.array([[1, 3], [3, 2]], np.float32).reshape(1, 2, 2, 1)
    y = fastconv.max_pool2d(x, 2, 2, "VALID")
    g = np.ones((1, 1, 1, 1), np.float32)
    got = fastconv.max_pool2d_grad(x, y, g, 2, 2, "VALID")
    np.testing.assert_array_equal(got.ravel(), [0, 1, 0, 0])
    np.testing.assert_array_equal(got, tf_max_grad(x, g, (2, 2), (2, 2), "VALID"))
    _, argmax = fastconv.max_pool_with_argmax(x, 2, 2, "VALID")
    assert argmax.ravel().tolist() == [1]


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("include_batch", [False, True])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("channels", [1, 5, 16, 19])
def test_argmax_matches_tf(padding, include_batch, ties, channels, rng):
    x = make_input(rng, (3, 9, 7, channels), np.float32, ties)
    out, argmax = fastconv.max_pool_with_argmax(
        x, (3, 2), (2, 2), padding, include_batch_in_index=include_batch
    )
    t_out, t_arg = tf.nn.max_pool_with_argmax(
        x, [3, 2], [2, 2], padding, include_batch_in_index=include_batch
    )
    assert argmax.dtype == np.int64
    np.testing.assert_array_equal(out, t_out.numpy())
    np.testing.assert_array_equal(argmax, t_arg.numpy())


def test_avg_grad_same_counts_real_cells():
    """TF's divisor: a corner window of a SAME pool holds fewer real cells."""
    g = np.ones((1, 2, 2, 1), np.float32)
    got = fastconv.avg_pool2d_grad([1, 3, 3, 1], g, 2, 2, "SAME")
    np.testing.assert_allclose(got.ravel(), [0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1.0])
    np.testing.assert_array_equal(got, tf_avg_grad((1, 3, 3, 1), g, (2, 2), (2, 2), "SAME"))


# ---- hypothesis: arbitrary windows against TF ----


@st.composite
def grad_arguments(draw):
    kind = draw(st.sampled_from(["max", "avg"]))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    padding = draw(st.sampled_from(["SAME", "VALID"] + (["explicit"] if kind == "max" else [])))
    if padding == "explicit":
        padding = (
            (draw(st.integers(0, kh - 1)), draw(st.integers(0, kh - 1))),
            (draw(st.integers(0, kw - 1)), draw(st.integers(0, kw - 1))),
        )
    pads = ((0, 0), (0, 0)) if isinstance(padding, str) else padding
    h = fit_size(draw(st.integers(1, 10)), kh, pads[0], padding)
    w = fit_size(draw(st.integers(1, 10)), kw, pads[1], padding)
    return dict(
        kind=kind,
        ksize=(kh, kw),
        strides=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        padding=padding,
        shape=(draw(st.integers(1, 2)), h, w, draw(st.integers(1, 20))),
        fmt=draw(st.sampled_from(["NHWC", "NCHW"])),
        ties=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


@given(grad_arguments())
def test_pool_grad_property_matches_tf(a):
    rng = np.random.default_rng(a["seed"])
    n, h, w, c = a["shape"]
    x = make_input(rng, shape_of(n, h, w, c, a["fmt"]), np.float32, a["ties"])
    y = fastconv.max_pool2d(x, a["ksize"], a["strides"], a["padding"], a["fmt"])
    g = rng.standard_normal(y.shape).astype(np.float32)
    args = (a["ksize"], a["strides"], a["padding"])
    if a["kind"] == "max":
        got = fastconv.max_pool2d_grad(x, y, g, *args, data_format=a["fmt"])
        want = tf_max_grad(x, g, *args, a["fmt"])
    else:
        got = fastconv.avg_pool2d_grad(x.shape, g, *args, data_format=a["fmt"])
        want = tf_avg_grad(x.shape, g, *args, a["fmt"])
    assert_close(got, want, reduction(a["kind"], a["ksize"], a["strides"]), np.float32)
