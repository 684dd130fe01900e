"""fastconv.reference against TF, and the fast functions against fastconv.reference where
TF cannot go: NCHW computed natively, dilation with stride > 1, unequal depthwise strides in
float64, groups with bias and activation, float64 pooling, explicit avg-pool padding, and
degenerate sizes (empty batch, empty outputs, zero channels, zero-height input with padding).
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

import fastconv
from fastconv import reference
from _cases import tf_padding
from tolerance import assert_close

ALGORITHMS = ("direct", "im2col", "auto")
ACTIVATIONS = (None, "relu", "relu6", "sigmoid", "tanh")


def randn(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- reference against TF


@pytest.mark.parametrize(
    "shape, fshape, strides, padding, dilations",
    [
        ((2, 7, 8, 3), (3, 3, 3, 4), 1, "SAME", 1),
        ((1, 9, 6, 2), (5, 2, 2, 3), (2, 3), "VALID", 1),
        ((3, 6, 6, 4), (2, 3, 2, 6), 1, ((1, 2), (3, 0)), (2, 1)),  # groups 2, dilated
        ((1, 10, 11, 1), (7, 7, 1, 2), 3, "SAME", 1),
        ((2, 5, 9, 5), (3, 1, 5, 1), 1, "SAME", 3),
    ],
)
def test_reference_conv2d_matches_tf(shape, fshape, strides, padding, dilations, rng):
    x, f = randn(rng, shape), randn(rng, fshape)
    b = randn(rng, fshape[3])
    got = reference.conv2d(x, f, strides, padding, dilations=dilations, bias=b, activation="tanh")
    want = tf.nn.tanh(
        tf.nn.bias_add(tf.nn.conv2d(x, f, strides, tf_padding(padding), dilations=dilations), b)
    ).numpy()
    assert got.dtype == np.float32
    assert_close(got, want, fshape[0] * fshape[1] * fshape[2] + 1, np.float32)


@pytest.mark.parametrize(
    "shape, fshape, stride, padding, dilations",
    [
        ((2, 7, 8, 3), (3, 3, 3, 2), 1, "SAME", [1, 1]),
        ((1, 9, 6, 4), (4, 2, 4, 1), 2, "VALID", [1, 1]),
        ((2, 8, 9, 2), (3, 3, 2, 3), 1, ((2, 0), (1, 3)), [2, 3]),
    ],
)
def test_reference_depthwise_matches_tf(shape, fshape, stride, padding, dilations, rng):
    x, f = randn(rng, shape), randn(rng, fshape)
    got = reference.depthwise_conv2d(x, f, stride, padding, dilations=dilations)
    want = tf.nn.depthwise_conv2d(
        x, f, [1, stride, stride, 1], tf_padding(padding), dilations=dilations
    ).numpy()
    assert_close(got, want, fshape[0] * fshape[1], np.float32)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    "shape, ksize, strides, padding",
    [
        ((2, 7, 8, 3), 3, 2, "SAME"),
        ((1, 9, 6, 4), (4, 2), (1, 3), "VALID"),
        ((3, 5, 5, 2), (2, 5), 1, "SAME"),
        ((1, 8, 8, 1), 7, 3, "SAME"),
    ],
)
def test_reference_pool_matches_tf(kind, shape, ksize, strides, padding, rng):
    x = randn(rng, shape)
    ours = {"max": reference.max_pool2d, "avg": reference.avg_pool2d}[kind]
    theirs = {"max": tf.nn.max_pool2d, "avg": tf.nn.avg_pool2d}[kind]
    got = ours(x, ksize, strides, padding)
    want = theirs(x, ksize, strides, padding).numpy()
    k = np.broadcast_to(ksize, (2,))
    assert_close(got, want, 1 if kind == "max" else int(k[0] * k[1]), np.float32)


def test_reference_result_dtype_and_nchw(rng):
    """The reference keeps the result dtype and reads NCHW like TF's NHWC transposed."""
    x, f = randn(rng, (2, 3, 7, 6), np.float64), randn(rng, (3, 3, 3, 5), np.float64)
    got = reference.conv2d(x, f, 2, "SAME", "NCHW")
    want = tf.nn.conv2d(x.transpose(0, 2, 3, 1), f, 2, "SAME").numpy().transpose(0, 3, 1, 2)
    assert got.dtype == np.float64
    assert_close(got, want, 27, np.float64)


# ---------------------------------------------------------------- fast against reference


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "shape, fshape, strides, padding, dilations, dtype",
    [
        ((2, 4, 9, 8), (3, 3, 4, 6), 2, "SAME", 1, np.float32),
        ((1, 3, 10, 7), (2, 4, 3, 5), (1, 3), ((1, 0), (2, 2)), 1, np.float64),
        ((3, 6, 6, 6), (3, 3, 2, 9), 1, "VALID", (2, 1), np.float32),  # groups 3
        ((2, 16, 5, 5), (1, 1, 16, 17), 1, "SAME", 1, np.float32),
    ],
)
def test_nchw_against_reference(shape, fshape, strides, padding, dilations, dtype, algorithm, rng):
    """NCHW is computed natively (strided views, no transpose copies in Python)."""
    x, f, b = randn(rng, shape, dtype), randn(rng, fshape, dtype), randn(rng, fshape[3], dtype)
    args = (strides, padding, "NCHW", dilations)
    got = fastconv.conv2d(x, f, *args, bias=b, activation="relu6", algorithm=algorithm)
    want = reference.conv2d(x, f, *args, bias=b, activation="relu6")
    assert got.shape == want.shape and got.dtype == dtype
    assert_close(got, want, fshape[0] * fshape[1] * fshape[2] + 1, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nchw_depthwise_and_pools_against_reference(dtype, rng):
    x = randn(rng, (2, 5, 9, 7), dtype)
    f = randn(rng, (3, 2, 5, 2), dtype)
    for fast, ref, args, red in [
        (fastconv.depthwise_conv2d, reference.depthwise_conv2d, (f, (2, 1), "SAME", "NCHW", 2), 6),
        (fastconv.max_pool2d, reference.max_pool2d, ((3, 2), (1, 2), "SAME", "NCHW"), 1),
        (fastconv.avg_pool2d, reference.avg_pool2d, ((3, 2), (1, 2), "SAME", "NCHW"), 6),
        (
            fastconv.avg_pool2d,
            reference.avg_pool2d,
            (2, 1, [[0, 0], [0, 0], [1, 1], [0, 1]], "NCHW"),
            4,
        ),
    ]:
        got, want = fast(x, *args), ref(x, *args)
        assert got.dtype == dtype
        assert_close(got, want, red, dtype, err_msg=fast.__name__)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "strides, dilations, padding",
    [(2, 2, "SAME"), ((3, 2), (2, 3), "VALID"), ((2, 1), (1, 3), ((2, 1), (0, 3))), (3, 3, "SAME")],
)
def test_dilation_with_stride_against_reference(strides, dilations, padding, algorithm, rng):
    """Beyond TF, which requires stride 1 with dilation (and gets depthwise's shape wrong)."""
    x, f = randn(rng, (2, 13, 12, 3)), randn(rng, (3, 3, 3, 4))
    got = fastconv.conv2d(x, f, strides, padding, dilations=dilations, algorithm=algorithm)
    want = reference.conv2d(x, f, strides, padding, dilations=dilations)
    assert_close(got, want, 27, np.float32)
    fd = randn(rng, (3, 2, 3, 2))
    got = fastconv.depthwise_conv2d(x, fd, strides, padding, dilations=dilations)
    want = reference.depthwise_conv2d(x, fd, strides, padding, dilations=dilations)
    assert_close(got, want, 6, np.float32)


@pytest.mark.parametrize("strides", [(1, 2), (3, 1), (2, 3)])
def test_depthwise_unequal_strides_float64_against_reference(strides, rng):
    x, f = randn(rng, (2, 9, 10, 4), np.float64), randn(rng, (3, 3, 4, 3), np.float64)
    got = fastconv.depthwise_conv2d(x, f, strides, "SAME")
    assert_close(got, reference.depthwise_conv2d(x, f, strides, "SAME"), 9, np.float64)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "c_in, c_per_group, c_out, dtype",
    [
        (6, 3, 4, np.float32),
        (8, 1, 16, np.float64),
        (12, 4, 6, np.float32),
        (17, 17, 3, np.float64),
    ],
)
def test_groups_against_reference(c_in, c_per_group, c_out, dtype, algorithm, activation, rng):
    x, f = randn(rng, (2, 7, 6, c_in), dtype), randn(rng, (3, 2, c_per_group, c_out), dtype)
    b = randn(rng, c_out, dtype)
    args = ((2, 1), [[1, 1], [0, 1]], "NHWC", (1, 2))
    got = fastconv.conv2d(x, f, *args, bias=b, activation=activation, algorithm=algorithm)
    want = reference.conv2d(x, f, *args, bias=b, activation=activation)
    assert_close(got, want, 6 * c_per_group + 1, dtype)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    "ksize, strides, padding",
    [
        (3, 2, "SAME"),
        ((2, 4), (1, 3), "VALID"),
        (3, 1, ((2, 1), (0, 2))),
        (5, 3, "SAME"),
        (1, 1, "VALID"),
    ],
)
def test_float64_pooling_against_reference(kind, ksize, strides, padding, rng):
    x = randn(rng, (2, 9, 10, 5), np.float64)
    fast = {"max": fastconv.max_pool2d, "avg": fastconv.avg_pool2d}[kind]
    ref = {"max": reference.max_pool2d, "avg": reference.avg_pool2d}[kind]
    got = fast(x, ksize, strides, padding)
    assert got.dtype == np.float64
    k = np.broadcast_to(ksize, (2,))
    assert_close(
        got, ref(x, ksize, strides, padding), 1 if kind == "max" else int(k[0] * k[1]), np.float64
    )
    if kind == "max":  # a max is one of the inputs: exact
        np.testing.assert_array_equal(got, ref(x, ksize, strides, padding))


@pytest.mark.parametrize(
    "padding",
    [((1, 1), (1, 1)), ((2, 0), (0, 2)), [[0, 0], [1, 2], [2, 1], [0, 0]], ((0, 2), (1, 0))],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_avg_pool_explicit_padding_against_reference(padding, dtype, rng):
    """Beyond TF: explicit avg-pool padding, padded cells not counted."""
    x = randn(rng, (2, 6, 7, 3), dtype)
    got = fastconv.avg_pool2d(x, 3, (2, 1), padding)
    want = reference.avg_pool2d(x, 3, (2, 1), padding)
    assert_close(got, want, 9, dtype)
    ones = fastconv.avg_pool2d(np.ones_like(x), 3, (2, 1), padding)
    np.testing.assert_allclose(ones, 1.0, rtol=4 * np.finfo(dtype).eps)  # padding not counted


def test_avg_pool_explicit_padding_hand_checked():
    """A corner window over [[1, 2], [3, 4]] padded by 1 on top/left holds only the cell 1."""
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 2, 2, 1)
    got = fastconv.avg_pool2d(x, 2, 1, ((1, 0), (1, 0)))
    np.testing.assert_array_equal(got[0, :, :, 0], [[1.0, 1.5], [2.0, 2.5]])
    np.testing.assert_array_equal(got, reference.avg_pool2d(x, 2, 1, ((1, 0), (1, 0))))


# ---------------------------------------------------------------- degenerate sizes


def _all_functions(x, c):
    f = np.ones((3, 3, c, 2), x.dtype)
    return {
        "conv2d-direct": lambda m, p: m.conv2d(x, f, 1, p, algorithm="direct"),
        "conv2d-im2col": lambda m, p: m.conv2d(x, f, 1, p, algorithm="im2col"),
        "conv2d-auto": lambda m, p: m.conv2d(x, f, 1, p),
        "depthwise": lambda m, p: m.depthwise_conv2d(x, f, 1, p),
        "max_pool": lambda m, p: m.max_pool2d(x, 3, 1, p),
        "avg_pool": lambda m, p: m.avg_pool2d(x, 3, 1, p),
    }


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize(
    "shape, want_hw",
    [
        ((0, 5, 6, 3), {"SAME": (5, 6), "VALID": (3, 4)}),  # empty batch
        ((2, 2, 6, 3), {"SAME": (2, 6), "VALID": (0, 4)}),  # VALID leaves no rows
        ((2, 5, 2, 3), {"SAME": (5, 2), "VALID": (3, 0)}),  # nor columns
        ((1, 0, 4, 3), {"SAME": (0, 4), "VALID": (0, 2)}),  # zero-height input
        ((1, 0, 0, 3), {"SAME": (0, 0), "VALID": (0, 0)}),
    ],
    ids=["batch0", "rows0", "cols0", "h0", "hw0"],
)
def test_empty_results(shape, want_hw, padding, rng):
    """Output size 0 (an empty input, or VALID one cell short of the 3x3 window) gives an
    empty array of the right shape and dtype, like the reference; shorter still is a
    ValueError (tests/test_errors.py)."""
    x = randn(rng, shape)
    for name, call in _all_functions(x, shape[3]).items():
        got, want = call(fastconv, padding), call(reference, padding)
        channels = {"depthwise": 6, "max_pool": 3, "avg_pool": 3}.get(name, 2)
        h, w = want_hw[padding]
        assert got.shape == want.shape == (shape[0], h, w, channels), name
        assert got.dtype == np.float32, name
        assert_close(got, want, 27, np.float32, err_msg=name)


def test_zero_channels():
    """No output channels (filter out_channels 0) or no input channels for depthwise and
    pools: empty results, no crash."""
    x = np.ones((2, 5, 5, 3), np.float32)
    got = fastconv.conv2d(x, np.ones((3, 3, 3, 0), np.float32), 1, "SAME")
    assert got.shape == (2, 5, 5, 0) == reference.conv2d(x, np.ones((3, 3, 3, 0)), 1, "SAME").shape
    x0 = np.ones((2, 5, 5, 0), np.float32)
    got = fastconv.depthwise_conv2d(x0, np.ones((3, 3, 0, 2), np.float32), 1, "VALID")
    assert got.shape == (2, 3, 3, 0)
    assert fastconv.max_pool2d(x0, 2, 2, "SAME").shape == (2, 3, 3, 0)
    assert fastconv.avg_pool2d(x0, 2, 1, "VALID").shape == (2, 4, 4, 0)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("activation", [None, "sigmoid"])
@pytest.mark.parametrize("shape", [(2, 0, 4, 3), (1, 3, 0, 2), (1, 0, 0, 1)])
def test_zero_sized_input_with_explicit_padding(shape, activation, algorithm, rng):
    """Explicit padding around an empty input still gives windows: all padding, so the
    output is activation(bias)."""
    x = np.zeros(shape, np.float32)
    f = randn(rng, (2, 2, shape[3], 4))
    b = randn(rng, 4)
    pad = ((2, 1), (1, 2))
    got = fastconv.conv2d(x, f, 1, pad, bias=b, activation=activation, algorithm=algorithm)
    want = reference.conv2d(x, f, 1, pad, bias=b, activation=activation)
    h = shape[1] + 3 - 1
    w = shape[2] + 3 - 1
    assert got.shape == want.shape == (shape[0], h, w, 4)
    assert_close(got, want, 1, np.float32)
    expected = b if activation is None else 1.0 / (1.0 + np.exp(-b.astype(np.float64)))
    assert_close(got, np.broadcast_to(expected, got.shape), 1, np.float32)


def test_window_larger_than_input_same(rng):
    """SAME with a kernel larger than the input is a regular (heavily padded) result."""
    x = randn(rng, (2, 2, 3, 3))
    f = randn(rng, (7, 7, 3, 4))
    for algorithm in ALGORITHMS:
        got = fastconv.conv2d(x, f, 1, "SAME", algorithm=algorithm)
        assert_close(got, reference.conv2d(x, f, 1, "SAME"), 147, np.float32)
    assert_close(
        fastconv.max_pool2d(x, 7, 1, "SAME"), reference.max_pool2d(x, 7, 1, "SAME"), 1, np.float32
    )
    assert_close(
        fastconv.avg_pool2d(x, 7, 2, "SAME"), reference.avg_pool2d(x, 7, 2, "SAME"), 49, np.float32
    )


# ---------------------------------------------------------------- property: the whole space


@st.composite
def beyond_tf_arguments(draw):
    """Any valid call: groups, dilation with stride, NCHW, float64, bias, activation, explicit
    padding larger than the kernel, sizes down to 1."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    groups = draw(st.integers(1, 3))
    padding = draw(
        st.one_of(
            st.sampled_from(["SAME", "VALID", "same"]),
            st.tuples(
                st.tuples(st.integers(0, 4), st.integers(0, 4)),
                st.tuples(st.integers(0, 4), st.integers(0, 4)),
            ),
        )
    )
    return dict(
        batch=draw(st.integers(0, 2)),
        h=draw(st.integers(1, 9)),
        w=draw(st.integers(1, 9)),
        kh=kh,
        kw=kw,
        strides=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        dilations=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        padding=padding,
        groups=groups,
        c_per_group=draw(st.integers(1, 4)),
        c_out=groups * draw(st.integers(1, 4)),
        data_format=draw(st.sampled_from(["NHWC", "NCHW"])),
        dtype=draw(st.sampled_from([np.float32, np.float64])),
        algorithm=draw(st.sampled_from(ALGORITHMS)),
        activation=draw(st.sampled_from(ACTIVATIONS)),
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def _both_refuse(fast_call, ref_call) -> bool:
    """True when the reference refuses the call because the window does not fit; the fast
    function must then raise the same ValueError."""
    try:
        ref_call()
    except ValueError as e:
        if "window does not fit" not in str(e):
            raise
        with pytest.raises(ValueError) as info:
            fast_call()
        assert str(info.value) == str(e)
        return True
    return False


@given(beyond_tf_arguments())
def test_conv2d_property_against_reference(a):
    rng = np.random.default_rng(a["seed"])
    c_in = a["groups"] * a["c_per_group"]
    shape = (a["batch"], a["h"], a["w"], c_in)
    if a["data_format"] == "NCHW":
        shape = (shape[0], shape[3], shape[1], shape[2])
    x = randn(rng, shape, a["dtype"])
    f = randn(rng, (a["kh"], a["kw"], a["c_per_group"], a["c_out"]), a["dtype"])
    b = randn(rng, a["c_out"], a["dtype"]) if a["bias"] else None
    args = (a["strides"], a["padding"], a["data_format"], a["dilations"])
    kw = dict(bias=b, activation=a["activation"])
    if _both_refuse(
        lambda: fastconv.conv2d(x, f, *args, **kw, algorithm=a["algorithm"]),
        lambda: reference.conv2d(x, f, *args, **kw),
    ):
        return
    got = fastconv.conv2d(x, f, *args, **kw, algorithm=a["algorithm"])
    want = reference.conv2d(x, f, *args, **kw)
    assert got.dtype == want.dtype == a["dtype"]
    assert_close(got, want, a["kh"] * a["kw"] * a["c_per_group"] + 1, a["dtype"])


@st.composite
def pool_arguments(draw):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    padding = draw(
        st.one_of(
            st.sampled_from(["SAME", "VALID"]),
            st.tuples(
                st.tuples(st.integers(0, kh - 1), st.integers(0, kh - 1)),
                st.tuples(st.integers(0, kw - 1), st.integers(0, kw - 1)),
            ),
        )
    )
    return dict(
        kind=draw(st.sampled_from(["max", "avg"])),
        ksize=(kh, kw),
        strides=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        padding=padding,
        shape=(
            draw(st.integers(0, 2)),
            draw(st.integers(1, 9)),
            draw(st.integers(1, 9)),
            draw(st.integers(1, 6)),
        ),
        data_format=draw(st.sampled_from(["NHWC", "NCHW"])),
        dtype=draw(st.sampled_from([np.float32, np.float64])),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


@given(pool_arguments())
def test_pool_property_against_reference(a):
    """Every padding (explicit avg-pool padding included), layout and float64, windows wider
    than the input included (empty results or the same ValueError, where TF crashes)."""
    x = randn(np.random.default_rng(a["seed"]), a["shape"], a["dtype"])
    fast = {"max": fastconv.max_pool2d, "avg": fastconv.avg_pool2d}[a["kind"]]
    ref = {"max": reference.max_pool2d, "avg": reference.avg_pool2d}[a["kind"]]
    args = (a["ksize"], a["strides"], a["padding"], a["data_format"])
    if _both_refuse(lambda: fast(x, *args), lambda: ref(x, *args)):
        return
    got, want = fast(x, *args), ref(x, *args)
    assert got.dtype == a["dtype"]
    assert_close(got, want, 1 if a["kind"] == "max" else a["ksize"][0] * a["ksize"][1], a["dtype"])


@settings(max_examples=max(8, settings.default.max_examples // 5))
@given(
    st.integers(1, 3),
    st.integers(12, 40),
    st.integers(12, 40),
    st.integers(1, 16),
    st.integers(1, 24),
    st.sampled_from([(1, 1), (3, 3), (5, 2)]),
    st.integers(1, 2),
    st.sampled_from(["SAME", "VALID", ((3, 1), (0, 4))]),
    st.sampled_from(ALGORITHMS),
    st.sampled_from(["NHWC", "NCHW"]),
    st.integers(0, 2**32 - 1),
)
def test_conv2d_property_large_against_reference(
    n, h, w, c_in, c_out, kernel, stride, padding, algorithm, fmt, seed
):
    """Larger problems: several im2col tiles per image and enough work for every thread."""
    rng = np.random.default_rng(seed)
    shape = (n, h, w, c_in) if fmt == "NHWC" else (n, c_in, h, w)
    x, f = randn(rng, shape), randn(rng, kernel + (c_in, c_out))
    b = randn(rng, c_out)
    got = fastconv.conv2d(x, f, stride, padding, fmt, bias=b, algorithm=algorithm)
    want = reference.conv2d(x, f, stride, padding, fmt, bias=b)
    assert_close(got, want, kernel[0] * kernel[1] * c_in + 1, np.float32)


# ---------------------------------------------------------------- repeated signatures


def test_interleaved_calls_that_differ_in_one_argument(rng):
    """Calls with the same shapes whose arguments differ in one place each (a value, its
    type, its case, a bias or activation, the layout), interleaved and repeated: each gets
    its own answer, and an invalid variant stays an error after the valid one ran."""
    x = randn(rng, (2, 6, 6, 6))
    f = randn(rng, (3, 3, 6, 6))
    b = randn(rng, 6)
    variants = [
        dict(strides=(1, 2)),
        dict(strides=(2, 1)),
        dict(strides=[2, 1]),
        dict(strides=2),
        dict(padding="SAME"),
        dict(padding="same"),
        dict(padding="VALID"),
        dict(padding=((1, 0), (0, 1))),
        dict(padding=((0, 1), (1, 0))),
        dict(dilations=2),
        dict(dilations=(1, 2)),
        dict(data_format="NCHW"),
        dict(bias=b),
        dict(bias=b, activation="relu"),
        dict(activation="tanh"),
        dict(bias=b.astype(np.float64)),
        dict(filters=f[:, :, :3]),
        dict(filters=f.astype(np.float16)),
        dict(algorithm="direct"),
        dict(algorithm="im2col"),
    ]

    def call(mod, v):
        kw = dict(strides=1, padding="SAME", data_format="NHWC", dilations=1)
        kw.update({k: v[k] for k in kw if k in v})
        extra = {k: v[k] for k in ("bias", "activation") if k in v}
        if mod is fastconv and "algorithm" in v:
            extra["algorithm"] = v["algorithm"]
        return mod.conv2d(
            x,
            v.get("filters", f),
            kw["strides"],
            kw["padding"],
            kw["data_format"],
            kw["dilations"],
            **extra,
        )

    for _ in range(2):
        for v in variants:
            got, want = call(fastconv, v), call(reference, v)
            assert got.shape == want.shape and got.dtype == want.dtype, v
            assert_close(got, want, 3 * 3 * 6 + 1, want.dtype, err_msg=str(v))
        for bad in (dict(strides=True), dict(strides=(True, 1)), dict(padding=((True, 0), (0, 0)))):
            with pytest.raises((TypeError, ValueError)):
                call(fastconv, bad)
        for v in (dict(strides=1), dict(strides=(1, 1))):
            assert_close(call(fastconv, v), call(reference, v), 55, np.float32)

    pools = [
        (fastconv.max_pool2d, reference.max_pool2d),
        (fastconv.avg_pool2d, reference.avg_pool2d),
    ]
    for _ in range(2):
        for fast, ref in pools:
            for args in [
                (2, 2, "SAME"),
                (2, 2, "VALID"),
                (2, 1, "SAME"),
                ((2, 3), 1, "SAME"),
                (3, 2, "SAME", "NCHW"),
                (2, 2, ((1, 0), (0, 1))),
            ]:
                assert_close(fast(x, *args), ref(x, *args), 9, np.float32, err_msg=str(args))
        with pytest.raises(TypeError):
            fastconv.max_pool2d(x, True, 2)
