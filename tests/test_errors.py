"""Bad input: a ValueError or TypeError whose message names the argument (the fast functions
and fastconv.reference alike); TF's keyword forms (name=, None defaults); and the TensorFlow
failure cases of docs/peers.md: a window that does not fit is a ValueError naming the sizes, an
exactly-zero output size an empty result (TF is never called on those: it returns garbage or
kills the process).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import fastconv
from fastconv import reference

MODULES = pytest.mark.parametrize("m", [fastconv, reference], ids=["fast", "reference"])

X = np.ones((1, 6, 6, 4), np.float32)
W = np.ones((3, 3, 4, 2), np.float32)
DW = np.ones((3, 3, 4, 2), np.float32)


def calls(m, x=X, **kw):
    """One call per public function, with keyword overrides of the shared arguments."""
    strides = kw.get("strides", 1)
    padding = kw.get("padding", "SAME")
    fmt = kw.get("data_format", "NHWC")
    dil = kw.get("dilations", 1)
    ksize = kw.get("ksize", 2)
    return {
        "conv2d": lambda: m.conv2d(x, W, strides, padding, fmt, dil),
        "depthwise_conv2d": lambda: m.depthwise_conv2d(x, DW, strides, padding, fmt, dil),
        "max_pool2d": lambda: m.max_pool2d(x, ksize, strides, padding, fmt),
        "avg_pool2d": lambda: m.avg_pool2d(x, ksize, strides, padding, fmt),
    }


def raises(exc, name, call):
    """call() raises exc (ValueError/TypeError) and the message names `name`."""
    with pytest.raises(exc) as info:
        call()
    assert re.search(name, str(info.value)), f"{name!r} not named in: {info.value}"


# ------------------------------------------------------------ shapes and channels


@MODULES
@pytest.mark.parametrize("shape", [(6, 6, 4), (1, 1, 6, 6, 4), (4,), ()])
def test_wrong_input_rank(m, shape):
    x = np.ones(shape, np.float32)
    for fn, call in calls(m, x).items():
        raises(ValueError, r"input.*4-D", call)


@MODULES
def test_wrong_filter_rank(m):
    raises(ValueError, "filters", lambda: m.conv2d(X, np.ones((3, 3, 4), np.float32)))
    raises(
        ValueError, "filter", lambda: m.depthwise_conv2d(X, np.ones((3, 3, 4, 1, 1), np.float32))
    )


@MODULES
def test_empty_filter_window(m):
    raises(ValueError, "filters", lambda: m.conv2d(X, np.ones((0, 3, 4, 2), np.float32)))
    raises(ValueError, "filters", lambda: m.conv2d(X, np.ones((3, 0, 4, 2), np.float32)))
    raises(ValueError, "filter", lambda: m.depthwise_conv2d(X, np.ones((3, 3, 4, 0), np.float32)))


@MODULES
def test_channel_mismatch(m):
    # conv2d: input channels (4) not a multiple of filters.shape[2] (3), or fewer than it (8)
    raises(
        ValueError,
        r"in_channels|filters\.shape\[2\]",
        lambda: m.conv2d(X, np.ones((3, 3, 3, 6), np.float32)),
    )
    raises(
        ValueError,
        r"in_channels|filters\.shape\[2\]",
        lambda: m.conv2d(X, np.ones((3, 3, 8, 2), np.float32)),
    )
    # NCHW reads channels from axis 1
    raises(
        ValueError, r"in_channels|filters\.shape\[2\]", lambda: m.conv2d(X, W, 1, "SAME", "NCHW")
    )
    # groups = 4 / 2 = 2, but 3 output channels do not split over 2 groups
    raises(ValueError, "out_channels", lambda: m.conv2d(X, np.ones((3, 3, 2, 3), np.float32)))
    # depthwise: filter.shape[2] must equal the input channels
    raises(
        ValueError,
        r"filter.*channels|channels.*filter",
        lambda: m.depthwise_conv2d(X, np.ones((3, 3, 3, 1), np.float32)),
    )


# ------------------------------------------------------------ strides, dilations, ksize


@MODULES
@pytest.mark.parametrize("bad", [0, -1, (1, 0), [0], [-2, 1], [1, 0, 1, 1], [1, 1, -1, 1]])
def test_nonpositive_strides(m, bad):
    for fn, call in calls(m, strides=bad).items():
        raises(ValueError, "strides", call)


@MODULES
@pytest.mark.parametrize("bad", [0, -1, (2, 0), [1, 0, 1, 1]])
def test_nonpositive_dilations(m, bad):
    raises(ValueError, "dilations", calls(m, dilations=bad)["conv2d"])
    raises(ValueError, "dilations", calls(m, dilations=bad)["depthwise_conv2d"])


@MODULES
@pytest.mark.parametrize("bad", [0, -3, (2, 0), [1, 0, 2, 1]])
def test_nonpositive_ksize(m, bad):
    raises(ValueError, "ksize", calls(m, ksize=bad)["max_pool2d"])
    raises(ValueError, "ksize", calls(m, ksize=bad)["avg_pool2d"])


@MODULES
@pytest.mark.parametrize("name", ["strides", "dilations", "ksize"])
@pytest.mark.parametrize(
    "bad, exc",
    [
        ((1, 2, 3), ValueError),  # 3 values
        ([], ValueError),  # none
        ([1, 1, 1, 1, 1], ValueError),  # 5 values
        ([2, 1, 1, 1], ValueError),  # 4 values, batch place not 1
        ([1, 1, 1, 2], ValueError),  # 4 values, channel place not 1
        (1.5, TypeError),
        ((1, 2.5), TypeError),
        ("2", TypeError),
        (None, TypeError),
        (True, TypeError),
        ([1, None], TypeError),
    ],
    ids=[
        "three",
        "empty",
        "five",
        "batch",
        "channel",
        "float",
        "float-pair",
        "str",
        "none",
        "bool",
        "none-in-pair",
    ],
)
def test_malformed_window_arguments(m, name, bad, exc):
    targets = {
        "dilations": ["conv2d", "depthwise_conv2d"],
        "ksize": ["max_pool2d", "avg_pool2d"],
    }.get(name, list(calls(m)))
    for fn in targets:
        if name == "dilations" and bad is None:  # TF's default (1): accepted, not malformed
            calls(m, **{name: bad})[fn]()
        else:
            raises(exc, name, calls(m, **{name: bad})[fn])


@MODULES
@pytest.mark.parametrize(
    "bad",
    [[None, 1, 1, 1], [1.5, 2, 2, 1], [1, 2, 2, "1"], "1221"],
    ids=["none-batch", "float-batch", "str-channel", "string"],
)
def test_malformed_four_value_strides(m, bad):
    """Junk in the batch/channel places of the 4-value form is rejected like junk elsewhere,
    naming the argument (not an int() error, and never silently accepted)."""
    for fn, call in calls(m, strides=bad).items():
        with pytest.raises((ValueError, TypeError)) as info:
            call()
        assert "strides" in str(info.value), f"{fn}: {info.value}"


@MODULES
def test_four_value_form_follows_data_format(m):
    """4-value strides/ksize are read in data_format order: for NCHW, TF's NHWC-style
    [1, 2, 2, 1] puts a 2 in the channel place and is rejected, naming the argument."""
    x = np.ones((1, 4, 6, 6), np.float32)
    w = np.ones((3, 3, 4, 2), np.float32)
    raises(ValueError, "strides", lambda: m.conv2d(x, w, [1, 2, 2, 1], "SAME", "NCHW"))
    raises(ValueError, "ksize", lambda: m.max_pool2d(x, [1, 2, 2, 1], 1, "SAME", "NCHW"))
    assert m.conv2d(x, w, [1, 1, 2, 3], "SAME", "NCHW").shape == (1, 2, 3, 2)
    assert m.max_pool2d(x, [1, 1, 2, 2], [1, 1, 3, 2], "VALID", "NCHW").shape == (1, 4, 2, 3)


@MODULES
def test_numpy_array_strides_of_wrong_shape(m):
    raises(TypeError, "strides", calls(m, strides=np.array([[1, 2]]))["conv2d"])


# ------------------------------------------------------------ padding


@MODULES
@pytest.mark.parametrize(
    "bad",
    [
        "FULL",
        "",
        "SAMEE",
        None,
        2.5,
        True,
        -1,
        (1,),
        (1, 2, 3),
        (1, -2),  # PyTorch's int / (h, w) forms, broken
        [1, 2, 3, 4],  # 4 ints: TF and ONNX order them apart
        [[1, 1]],  # one pair
        [[1, 1], [1, 1], [1, 1]],  # three pairs
        [[1, 1, 1], [1, 1, 1]],  # triples
        [[1, 1], [1]],  # a single
        [[1.0, 1], [1, 1]],  # float
        [[1, "1"], [1, 1]],  # string
        [[True, 0], [0, 0]],  # bool
        [[1, None], [1, 1]],
        [[-1, 0], [0, 0]],  # negative
        [[0, 0], [0, -2]],
        [[1, 0], [1, 1], [1, 1], [0, 0]],  # non-zero batch pad (NHWC)
        [[0, 0], [1, 1], [1, 1], [0, 2]],  # non-zero channel pad (NHWC)
        [[0, 0], [0, 0], [-1, 1], [0, 0]],  # negative in 4-pair form
        {"top": 1},
    ],
)
def test_malformed_padding(m, bad):
    for fn, call in calls(m, padding=bad).items():
        raises(ValueError, "padding", call)


@MODULES
def test_nchw_four_pair_padding_checks_nchw_places(m):
    x = np.ones((1, 4, 6, 6), np.float32)
    ok = [[0, 0], [0, 0], [1, 1], [1, 1]]
    assert m.max_pool2d(x, 3, 1, ok, "NCHW").shape == (1, 4, 6, 6)
    # the NHWC-shaped form puts non-zero pads in NCHW's channel place
    for fn, call in calls(
        m, x, padding=[[0, 0], [1, 1], [1, 1], [0, 0]], data_format="NCHW"
    ).items():
        raises(ValueError, "padding", call)


@MODULES
@pytest.mark.parametrize(
    "pad", [((2, 0), (0, 0)), ((0, 0), (0, 3)), [[0, 0], [0, 2], [0, 0], [0, 0]]]
)
def test_pool_padding_not_smaller_than_window(m, pad):
    """A pool window of only padding has no value (max) or count (avg)."""
    raises(ValueError, "padding", lambda: m.max_pool2d(X, 2, 1, pad))
    raises(ValueError, "padding", lambda: m.avg_pool2d(X, 2, 1, pad))


@MODULES
def test_pool_zero_height_input_with_padding(m):
    x = np.ones((1, 0, 4, 2), np.float32)
    for pool in (m.max_pool2d, m.avg_pool2d):
        raises(ValueError, "height", lambda: pool(x, 2, 1, ((1, 1), (0, 0))))
    x = np.ones((1, 4, 0, 2), np.float32)
    for pool in (m.max_pool2d, m.avg_pool2d):
        raises(ValueError, "width", lambda: pool(x, 2, 1, ((0, 0), (1, 1))))


# ------------------------------------------------------------ bias, activation, algorithm, format


@MODULES
@pytest.mark.parametrize(
    "bias",
    [
        np.ones(3, np.float32),
        np.ones(1, np.float32),
        np.ones((1, 2), np.float32),
        np.float32(1.0),
        np.ones(0),
    ],
    ids=["3", "1", "2d", "scalar", "empty"],
)
def test_bias_wrong_shape(m, bias):
    raises(ValueError, "bias", lambda: m.conv2d(X, W, bias=bias))
    raises(ValueError, "bias", lambda: m.depthwise_conv2d(X, DW, bias=bias))  # needs 8


@MODULES
@pytest.mark.parametrize("activation", ["gelu", "", "relu ", 1, True, object()])
def test_unknown_activation(m, activation):
    raises(ValueError, "activation", lambda: m.conv2d(X, W, activation=activation))
    raises(ValueError, "activation", lambda: m.depthwise_conv2d(X, DW, activation=activation))


@MODULES
@pytest.mark.parametrize("algorithm", ["no-such-algorithm", "Direct", "", None, 1, ["direct"]])
def test_unknown_algorithm(m, algorithm):
    raises(ValueError, "algorithm", lambda: m.conv2d(X, W, algorithm=algorithm))


@MODULES
@pytest.mark.parametrize("fmt", ["NCWH", "NHW", "", 4, "HWNC"])
def test_unknown_data_format(m, fmt):
    for fn, call in calls(m, data_format=fmt).items():
        raises(ValueError, "data_format", call)


@MODULES
def test_keyword_only_extras(m):
    """bias, activation, algorithm and out are keyword-only: TF's positional order, name
    last, stays. A bias passed in name's place is a TypeError saying so, not ignored."""
    b = np.ones(2, np.float32)
    with pytest.raises(TypeError):
        m.conv2d(X, W, 1, "SAME", "NHWC", 1, None, b)
    with pytest.raises(TypeError):
        m.max_pool2d(X, 2, 2, "SAME", "NHWC", None, np.empty((1, 3, 3, 4), np.float32))
    raises(TypeError, "name.*keyword-only", lambda: m.conv2d(X, W, 1, "SAME", "NHWC", 1, b))
    raises(
        TypeError,
        "name.*keyword-only",
        lambda: m.depthwise_conv2d(X, DW, 1, "SAME", "NHWC", 1, np.ones(8, np.float32)),
    )
    raises(TypeError, "name", lambda: m.avg_pool2d(X, 2, 2, "SAME", "NHWC", 3))


@MODULES
def test_tf_keyword_forms(m):
    """TF's calls pass straight through: name= (ignored), dilations=None and
    data_format=None (TF's defaults), by keyword and by position."""
    x = np.random.default_rng(0).standard_normal((2, 7, 6, 4)).astype(np.float32)
    want = m.conv2d(x, W, 1, "SAME")
    for got in (
        m.conv2d(
            x,
            W,
            strides=[1, 1, 1, 1],
            padding="SAME",
            data_format=None,
            dilations=None,
            name="conv1",
        ),
        m.conv2d(x, W, 1, "SAME", None, None, "conv1"),
        m.conv2d(input=x, filters=W, strides=1, padding="SAME", name=None),
    ):
        np.testing.assert_array_equal(got, want)
    want = m.depthwise_conv2d(x, DW, 1, "SAME")
    for got in (
        m.depthwise_conv2d(
            x, DW, [1, 1, 1, 1], "SAME", data_format=None, dilations=None, name="dw"
        ),
        m.depthwise_conv2d(x, DW, 1, "SAME", None, None, "dw"),
    ):
        np.testing.assert_array_equal(got, want)
    for pool in (m.max_pool2d, m.avg_pool2d):
        want = pool(x, 2, 2, "SAME")
        for got in (
            pool(
                x,
                ksize=[1, 2, 2, 1],
                strides=[1, 2, 2, 1],
                padding="SAME",
                data_format=None,
                name="pool",
            ),
            pool(x, 2, 2, "SAME", None, "pool"),
        ):
            np.testing.assert_array_equal(got, want)
    # NCHW by keyword, with name, still NCHW
    xt = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    got = m.conv2d(xt, W, 1, "SAME", data_format="NCHW", dilations=None, name="c")
    np.testing.assert_array_equal(got, m.conv2d(x, W, 1, "SAME").transpose(0, 3, 1, 2))


@MODULES
@pytest.mark.parametrize("word", ["SAME", "VALID", "same"])
def test_padding_in_the_strides_place(m, word):
    """conv2d(x, w, "SAME") (strides forgotten) says that a padding came in strides' place,
    not "strides must contain integers, got 'S'"."""
    for fn, call in {
        "conv2d": lambda: m.conv2d(X, W, word),
        "depthwise_conv2d": lambda: m.depthwise_conv2d(X, DW, word),
        "max_pool2d": lambda: m.max_pool2d(X, 2, word),
        "avg_pool2d": lambda: m.avg_pool2d(X, 2, word),
    }.items():
        with pytest.raises(TypeError) as info:
            call()
        message = str(info.value)
        assert "strides" in message and "padding" in message and repr(word) in message, fn
        assert "'S'" not in message, fn
    raises(TypeError, "ksize.*padding", lambda: m.max_pool2d(X, "SAME", 2))


@MODULES
def test_nchw_input_without_data_format_hints_at_it(m):
    """An NCHW array passed as NHWC (the channel counts disagree with the filter) says that
    data_format="NCHW" would fit; a mismatch that NCHW would not fix gives no such hint."""
    x = np.ones((2, 3, 32, 32), np.float32)
    raises(
        ValueError,
        r'data_format="NCHW"',
        lambda: m.conv2d(x, np.ones((3, 3, 3, 8), np.float32), 1, "SAME"),
    )
    raises(
        ValueError,
        r'data_format="NCHW"',
        lambda: m.depthwise_conv2d(x, np.ones((5, 5, 3, 2), np.float32), 1, "VALID"),
    )
    assert m.conv2d(x, np.ones((3, 3, 3, 8), np.float32), 1, "SAME", "NCHW").shape == (2, 8, 32, 32)
    # and the other way round: NHWC data declared NCHW
    raises(ValueError, r'data_format="NHWC"', lambda: m.conv2d(X, W, 1, "SAME", data_format="NCHW"))
    with pytest.raises(ValueError) as info:
        m.conv2d(X, np.ones((3, 3, 5, 2), np.float32))
    assert "data_format" not in str(info.value)


# ------------------------------------------------------------ dtypes

BAD_DTYPES = [
    np.int8,
    np.int32,
    np.int64,
    np.uint8,
    np.bool_,
    np.complex64,
    np.complex128,
    object,
    np.str_,
]
if np.dtype(np.longdouble) != np.dtype(np.float64):
    BAD_DTYPES.append(np.longdouble)


@MODULES
@pytest.mark.parametrize("dtype", BAD_DTYPES, ids=lambda d: np.dtype(d).name)
def test_unsupported_dtypes_name_the_dtype(m, dtype):
    bad = np.zeros((1, 6, 6, 4), dtype=dtype)
    name = str(bad.dtype)
    for fn, call in calls(m, bad).items():
        with pytest.raises(TypeError) as info:
            call()
        assert "input" in str(info.value) and name in str(info.value), f"{fn}: {info.value}"
    bad_w = np.zeros((3, 3, 4, 2), dtype=dtype)
    for label, call in [
        ("filters", lambda: m.conv2d(X, bad_w)),
        ("filter", lambda: m.depthwise_conv2d(X, bad_w)),
        ("bias", lambda: m.conv2d(X, W, bias=np.zeros(2, dtype=dtype))),
    ]:
        with pytest.raises(TypeError) as info:
            call()
        assert label in str(info.value) and name in str(info.value), f"{label}: {info.value}"


@MODULES
def test_python_int_lists_are_rejected(m):
    """Plain int data is an integer array: a TypeError naming int64, not a silent cast."""
    data = np.ones((1, 6, 6, 4), np.int64).tolist()
    with pytest.raises(TypeError, match="int64"):
        m.max_pool2d(data, 2, 2)


# ------------------------------------------------------------ out=

OUT_CASES = [
    "shape",
    "rank",
    "nchw-shape",
    "dtype64",
    "dtype16",
    "fortran",
    "strided",
    "reversed",
    "readonly",
    "list",
]


def bad_out(case, good):
    """An `out` for a result of shape `good` (float32, NHWC) that is wrong in one way."""
    n, h, w, c = good
    if case == "shape":
        return np.empty((n, h, w, c + 1), np.float32)
    if case == "rank":
        return np.empty((h, w, c), np.float32)
    if case == "nchw-shape":
        return np.empty((n, c, h, w), np.float32)
    if case in ("dtype64", "dtype16"):
        return np.empty(good, np.float64 if case == "dtype64" else np.float16)
    if case == "fortran":
        return np.empty(good, np.float32, order="F")
    if case == "strided":
        return np.empty((n, h, w, 2 * c), np.float32)[..., ::2]
    if case == "reversed":
        return np.empty(good, np.float32)[:, ::-1]
    if case == "readonly":
        out = np.empty(good, np.float32)
        out.flags.writeable = False
        return out
    return np.empty(good, np.float32).tolist()


@MODULES
@pytest.mark.parametrize("case", OUT_CASES)
def test_bad_out(m, case):
    """out= must be a C-contiguous, writeable ndarray of the result's shape and dtype: a
    ValueError naming out (TypeError for a non-array), and the rejected array is untouched."""
    exc = TypeError if case == "list" else ValueError
    out = bad_out(case, (1, 6, 6, 2))
    before = None if isinstance(out, list) else out.copy()
    raises(exc, "out", lambda: m.conv2d(X, W, 1, "SAME", out=out))
    raises(
        exc,
        "out",
        lambda: m.depthwise_conv2d(X, DW[..., :1], 1, "SAME", out=bad_out(case, (1, 6, 6, 4))),
    )
    if before is not None:
        np.testing.assert_array_equal(out, before)
    for pool in (m.max_pool2d, m.avg_pool2d):
        raises(exc, "out", lambda: pool(X, 2, 1, "SAME", out=bad_out(case, (1, 6, 6, 4))))


# ------------------------------------------------------------ huge but valid numbers


def test_stride_beyond_int64():
    """A stride larger than any int64 is still a valid request (one output row and column);
    at worst it is a ValueError naming strides, never an unexplained OverflowError."""
    x = np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1)
    try:
        got = fastconv.max_pool2d(x, 1, 10**30, "VALID")
    except ValueError as e:
        assert "strides" in str(e)
    else:
        np.testing.assert_array_equal(got, reference.max_pool2d(x, 1, 10**30, "VALID"))


# ------------------------------------------------------------ TF's failures, done right


@pytest.mark.parametrize("algorithm", ["direct", "im2col", "auto"])
def test_conv2d_valid_empty_result(algorithm):
    """TF: x[1,2,5,1] * w[3,3,1,1] VALID returns (1,2,5,1) of uninitialized memory. The
    output height is exactly 0 (the input one row short of the window): an empty result."""
    x = np.arange(10, dtype=np.float32).reshape(1, 2, 5, 1)
    w = np.ones((3, 3, 1, 1), np.float32)
    got = fastconv.conv2d(x, w, 1, "VALID", algorithm=algorithm)
    assert got.shape == (1, 0, 3, 1) and got.dtype == np.float32
    assert reference.conv2d(x, w, 1, "VALID").shape == (1, 0, 3, 1)
    got = fastconv.conv2d(
        x,
        w,
        1,
        "VALID",
        bias=np.ones(1, np.float32),
        activation="relu",
        algorithm=algorithm,
        out=np.empty((1, 0, 3, 1), np.float32),
    )
    assert got.shape == (1, 0, 3, 1)
    dw = fastconv.depthwise_conv2d(x, np.ones((3, 3, 1, 2), np.float32), 1, "VALID")
    assert dw.shape == (1, 0, 3, 2)


def _fit_calls(m, x, k, strides=1, padding="VALID", dilations=1, data_format="NHWC"):
    c = x.shape[3] if data_format == "NHWC" else x.shape[1]
    return {
        "conv2d": lambda: m.conv2d(
            x, np.ones((k, k, c, 4), np.float32), strides, padding, data_format, dilations
        ),
        "depthwise_conv2d": lambda: m.depthwise_conv2d(
            x, np.ones((k, k, c, 2), np.float32), strides, padding, data_format, dilations
        ),
        "max_pool2d": lambda: m.max_pool2d(x, k, strides, padding, data_format),
        "avg_pool2d": lambda: m.avg_pool2d(x, k, strides, padding, data_format),
    }


@MODULES
def test_window_that_does_not_fit_is_an_error(m):
    """TF: "Computed output size would be negative" (conv2d; uninitialized memory or SIGFPE
    from the pools); PyTorch: "Kernel size can't be greater than actual input size". Here a
    ValueError naming the dimension, the input size, the padding, the effective window
    (k - 1) * d + 1 and the stride."""
    x = np.ones((2, 1, 1, 3), np.float32)  # the case: 1x1 input, 3x3 window, VALID
    for fn, call in _fit_calls(m, x, 3).items():
        raises(
            ValueError,
            r"window does not fit the input height: input height 1 .*"
            r"effective window 3 = \(3 - 1\) \* dilation 1 \+ 1.*stride 1",
            call,
        )
    # NCHW, the width only
    x = np.ones((1, 3, 5, 1), np.float32)
    for fn, call in _fit_calls(m, x, 3, data_format="NCHW").items():
        raises(ValueError, r"input width 1 ", call)
    # explicit padding counts; too little of it is still an error
    x = np.ones((1, 2, 6, 3), np.float32)
    for fn, call in _fit_calls(m, x, 5, padding=[[1, 0], [0, 0]]).items():
        raises(ValueError, r"input height 2 \+ padding 1 \+ 0 = 3 .*window 5", call)
    # dilation widens the window
    x = np.ones((1, 4, 4, 3), np.float32)
    for fn in ("conv2d", "depthwise_conv2d"):
        raises(
            ValueError,
            r"effective window 7 = \(3 - 1\) \* dilation 3 \+ 1",
            _fit_calls(m, x, 3, dilations=3)[fn],
        )
    # a big stride does not hide it
    x = np.ones((1, 1, 8, 3), np.float32)
    for fn, call in _fit_calls(m, x, 4, strides=2).items():
        raises(ValueError, r"input height 1 .*stride 2", call)


@MODULES
def test_exactly_zero_output_and_empty_inputs_stay_empty(m):
    """An output size of exactly 0 (the padded input at most a stride short of the window;
    TF: no error either) and any empty input give empty results, not errors."""
    for x, k, strides, hw in [
        (np.ones((2, 2, 5, 3), np.float32), 3, 1, (0, 3)),  # one row short, stride 1
        (np.ones((2, 1, 5, 3), np.float32), 3, 2, (0, 2)),  # two rows short, stride 2
        (np.ones((1, 1, 1, 3), np.float32), 2, 1, (0, 0)),  # 1x1 input, 2x2 window
    ]:
        for fn, call in _fit_calls(m, x, k, strides).items():
            got = call()
            assert got.shape[1:3] == hw and got.size == 0, fn
    # empty inputs: a 0 in batch, height, width or channels, window far too large
    for shape in [(0, 1, 1, 3), (1, 0, 1, 3), (1, 1, 0, 3), (2, 0, 0, 3)]:
        x = np.ones(shape, np.float32)
        for fn, call in _fit_calls(m, x, 5).items():
            assert call().size == 0, (fn, shape)
    x = np.ones((1, 1, 1, 0), np.float32)
    assert m.max_pool2d(x, 5, 1, "VALID").shape == (1, 0, 0, 0)
    assert m.depthwise_conv2d(x, np.ones((5, 5, 0, 1), np.float32), 1, "VALID").size == 0


@pytest.mark.parametrize("pool", ["max_pool2d", "avg_pool2d"])
def test_pool_valid_window_wider_than_input(pool):
    """TF: AbortedError (k=2 on width 1: output width exactly 0, here an empty result) or
    SIGFPE killing the process (k=3 on width 1: negative, here a ValueError)."""
    x = np.arange(8, dtype=np.float32).reshape(2, 4, 1, 1)
    fast, ref = getattr(fastconv, pool), getattr(reference, pool)
    got = fast(x, 2, 1, "VALID")
    assert got.shape == (2, 3, 0, 1) and got.dtype == np.float32
    assert ref(x, 2, 1, "VALID").shape == got.shape
    assert fast(x.transpose(0, 3, 1, 2), 2, 1, "VALID", "NCHW").shape == (2, 1, 3, 0)
    for m in (fastconv, reference):
        raises(ValueError, "input width 1 ", lambda: getattr(m, pool)(x, 3, 1, "VALID"))
        raises(
            ValueError,
            "input width 1 ",
            lambda: getattr(m, pool)(x.transpose(0, 3, 1, 2), 3, 1, "VALID", "NCHW"),
        )
    # a 1x1 input with stride 2: k=2 and k=3 are both at most a stride short
    for k in (2, 3):
        assert fast(np.ones((1, 1, 1, 3), np.float32), k, 2, "VALID").shape == (1, 0, 0, 3)
    # SAME still gives a full-size result over the same input
    for k in (2, 3):
        same = fast(x, k, 1, "SAME")
        assert same.shape == (2, 4, 1, 1)
        np.testing.assert_array_equal(same, ref(x, k, 1, "SAME"))
