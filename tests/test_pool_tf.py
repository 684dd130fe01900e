"""max_pool2d and avg_pool2d against tf.nn.max_pool2d / tf.nn.avg_pool2d: covering sweep,
argument forms, and hypothesis property tests.

float32 only: TF 2.21's float64 max_pool2d rounds some windows (e.g. 3x3) through float32,
so float64 pooling is checked against fastconv.reference (test_reference.py)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st

import fastconv
from fastconv import testing
from _cases import covering, fit_size, tf_padding
from tolerance import assert_close

FAST = {"max": fastconv.max_pool2d, "avg": fastconv.avg_pool2d}
PEER = {"max": tf.nn.max_pool2d, "avg": tf.nn.avg_pool2d}


def tf_pool(kind, x, ksize, strides, padding, data_format="NHWC"):
    """TF on NHWC; NCHW arrays are transposed around it."""
    if data_format == "NCHW":
        return tf_pool(kind, x.transpose(0, 2, 3, 1), ksize, strides, padding).transpose(0, 3, 1, 2)
    return PEER[kind](x, ksize, strides, tf_padding(padding)).numpy()


def reduction(kind, ksize):
    """max is exact (no rounding); an average sums the window (fastconv.testing's rule)."""
    return testing.reduction_length(f"{kind}_pool2d", ksize=ksize)


def make_input(rng, n, h, w, c, dtype, data_format="NHWC"):
    shape = (n, h, w, c) if data_format == "NHWC" else (n, c, h, w)
    return rng.standard_normal(shape).astype(dtype)


def _sweep_cases():
    cases = covering(
        30,
        seed=5,
        kind=["max", "avg"],
        ksize=[
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
        ],
        stride=[(1, 1), (2, 2), (3, 3), (1, 2), (3, 1), (2, 3)],
        size=[(1, 1), (2, 3), (4, 4), (5, 8), (7, 6), (9, 9), (10, 13), (16, 11)],
        channels=[1, 2, 3, 4, 7, 8, 16, 17],
        batch=[1, 2, 3],
        padding=["SAME", "VALID", "explicit"],
        data_format=["NHWC", "NHWC", "NCHW"],
        dtype=["float32"],
    )
    for i, case in enumerate(cases):
        (kh, kw), pad = case["ksize"], case["padding"]
        if pad == "explicit":
            if case["kind"] == "avg":  # TF's avg_pool2d has no explicit padding
                pad = "SAME" if i % 2 else "VALID"
            else:  # explicit pool padding must be smaller than the window
                pad = ((i % kh, (i * 3) % kh), ((i * 5) % kw, (i * 7) % kw))
        pads = ((0, 0), (0, 0)) if isinstance(pad, str) else pad
        h = fit_size(case["size"][0], kh, pads[0], pad)
        w = fit_size(case["size"][1], kw, pads[1], pad)
        case.update(padding=pad, size=(h, w))
        case["id"] = (
            f"{case['kind']}-k{kh}x{kw}-s{case['stride'][0]}x{case['stride'][1]}-"
            f"{pad if isinstance(pad, str) else 'pad' + ''.join(map(str, sum(pad, ())))}-"
            f"{case['batch']}x{h}x{w}x{case['channels']}-{case['data_format']}-{case['dtype']}"
        )
    return cases


SWEEP = _sweep_cases()


@pytest.mark.parametrize("case", SWEEP, ids=[c["id"] for c in SWEEP])
def test_pool_sweep_matches_tf(case, rng):
    kind, fmt, dtype = case["kind"], case["data_format"], case["dtype"]
    x = make_input(rng, case["batch"], *case["size"], case["channels"], dtype, fmt)
    got = FAST[kind](x, case["ksize"], case["stride"], case["padding"], fmt)
    want = tf_pool(kind, x, case["ksize"], case["stride"], case["padding"], fmt)
    assert got.dtype == np.dtype(dtype)
    assert_close(got, want, reduction(kind, case["ksize"]), dtype)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    "ksize, strides, tf_ksize, tf_strides",
    [
        (3, 2, 3, 2),
        ([3], [2], [3], [2]),
        ((2, 3), (1, 2), [2, 3], [1, 2]),
        ([1, 3, 2, 1], [1, 2, 3, 1], [1, 3, 2, 1], [1, 2, 3, 1]),
        (np.int64(2), np.array([2, 1]), 2, [2, 1]),
    ],
    ids=["int", "one", "pair", "four", "numpy"],
)
@pytest.mark.parametrize("padding, tf_pad", [("same", "SAME"), ("Valid", "VALID")])
def test_pool_argument_forms(kind, ksize, strides, tf_ksize, tf_strides, padding, tf_pad, rng):
    x = make_input(rng, 2, 9, 8, 3, np.float32)
    got = FAST[kind](x, ksize, strides, padding)
    want = PEER[kind](x, tf_ksize, tf_strides, tf_pad).numpy()
    assert_close(got, want, 9, np.float32)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_nchw_four_value_forms(kind, rng):
    x = make_input(rng, 2, 9, 8, 3, np.float32, "NCHW")
    got = FAST[kind](x, [1, 1, 3, 2], [1, 1, 2, 1], "SAME", "NCHW")
    want = tf_pool(kind, x, (3, 2), (2, 1), "SAME", "NCHW")
    assert_close(got, want, 6, np.float32)


def test_max_pool_explicit_four_pairs(rng):
    """TF's 4-pair explicit max-pool padding; padding cells never win, even over negatives."""
    x = -np.abs(make_input(rng, 2, 7, 6, 4, np.float32)) - 1.0
    pad4 = [[0, 0], [2, 1], [0, 2], [0, 0]]
    got = fastconv.max_pool2d(x, 3, [2, 1], pad4)
    want = tf.nn.max_pool2d(x, 3, [2, 1], pad4).numpy()
    assert_close(got, want, 1, np.float32)
    assert (got < 0).all()


def test_avg_pool_same_counts_real_cells_only(rng):
    """SAME avg pool divides by the real cells (TF), which differs from a zero-padded mean."""
    x = np.ones((1, 4, 4, 1), np.float32) + 0.1 * make_input(rng, 1, 4, 4, 1, np.float32)
    got = fastconv.avg_pool2d(x, 3, 1, "SAME")
    want = tf.nn.avg_pool2d(x, 3, 1, "SAME").numpy()
    assert_close(got, want, 9, np.float32)
    assert got[0, 0, 0, 0] > 0.5  # a zero-padded mean would be about 4/9


# Random valid pooling calls, from fastconv.testing's public strategy within what TF takes:
# float32 (TF's float64 max pool rounds through float32), explicit padding for max pooling
# only, windows that fit (TF aborts or dies on windows wider than the input: docs/peers.md).
TF_POOL_CALLS = st.one_of(
    testing.pool2d_args(ops=("max_pool2d",), dtypes=("float32",), max_batch=3),
    testing.pool2d_args(
        ops=("avg_pool2d",), dtypes=("float32",), max_batch=3, paddings=("SAME", "VALID")
    ),
)


@given(TF_POOL_CALLS)
def test_pool_property_matches_tf(call):
    x, ksize, strides, padding, data_format = call.args
    got = call.run(fastconv)
    want = tf_pool(call.op.split("_")[0], x, ksize, strides, padding, data_format)
    assert got.dtype == x.dtype
    assert_close(got, want, call.reduction, x.dtype)


# Channel counts around SIMD widths, so vector bodies and scalar tails are both exercised.
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("channels", [3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 129])
@pytest.mark.parametrize(
    "ksize, strides, padding", [(3, 2, "SAME"), ((2, 3), 1, "VALID"), (5, 3, "SAME")]
)
def test_pool_channel_tails(kind, channels, ksize, strides, padding, rng):
    x = make_input(rng, 2, 11, 10, channels, np.float32)
    want = PEER[kind](x, ksize, strides, padding).numpy()
    k = np.broadcast_to(ksize, (2,))
    red = reduction(kind, (int(k[0]), int(k[1])))
    assert_close(FAST[kind](x, ksize, strides, padding), want, red, np.float32)
    xs = np.repeat(x, 2, axis=3)[..., ::2]  # channels strided
    assert_close(FAST[kind](xs, ksize, strides, padding), want, red, np.float32)
    xc = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    assert_close(
        FAST[kind](xc, ksize, strides, padding, "NCHW"), want.transpose(0, 3, 1, 2), red, np.float32
    )
