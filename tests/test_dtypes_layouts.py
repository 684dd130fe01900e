"""dtypes (float16 in float32, float64 native, promotion), memory layouts, input
immutability, out= (overlapping inputs too), and NaN/Inf propagation."""

from __future__ import annotations

import numpy as np
import pytest

import fastconv
from fastconv import reference
from tolerance import assert_close

ALGORITHMS = ("direct", "im2col", "auto")


def randn(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def run_all(mod, x, f, fd, b, bd, fmt="NHWC", algorithm="auto", out=None):
    """Every public function once on the same input; (name, result, reduction) triples."""
    return [
        (
            "conv2d",
            mod.conv2d(
                x, f, (1, 2), "SAME", fmt, 1, bias=b, activation="relu", algorithm=algorithm
            ),
            f.shape[0] * f.shape[1] * f.shape[2] + 1,
        ),
        (
            "conv2d-dilated",
            mod.conv2d(x, f, 1, ((1, 0), (2, 1)), fmt, (2, 1), algorithm=algorithm),
            f.shape[0] * f.shape[1] * f.shape[2],
        ),
        (
            "depthwise",
            mod.depthwise_conv2d(x, fd, 2, "VALID", fmt, bias=bd, activation="tanh"),
            fd.shape[0] * fd.shape[1] + 1,
        ),
        ("max_pool", mod.max_pool2d(x, (3, 2), (2, 1), "SAME", fmt), 1),
        ("avg_pool", mod.avg_pool2d(x, (2, 3), 1, "SAME", fmt), 6),
    ]


# ------------------------------------------------------------ dtypes


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtype_kept_and_matches_reference(dtype, algorithm, rng):
    """float16 accepted and returned as float16; float32 and float64 native. The float64
    tolerance (a few 1e-15) fails for anything computed in float32."""
    x = randn(rng, (2, 7, 8, 3), dtype)
    f, fd = randn(rng, (3, 3, 3, 4), dtype), randn(rng, (2, 2, 3, 2), dtype)
    b, bd = randn(rng, 4, dtype), randn(rng, 6, dtype)
    got = run_all(fastconv, x, f, fd, b, bd, algorithm=algorithm)
    want = run_all(reference, x, f, fd, b, bd)
    for (name, g, red), (_, w, _) in zip(got, want):
        assert g.dtype == w.dtype == dtype, name
        assert_close(g, w, red, dtype, err_msg=name)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_float16_conv_accumulates_in_float32(algorithm):
    """4096 ones summed: float16 accumulation stalls at 2048; float32 gives 4096 exactly."""
    x = np.ones((1, 2, 2, 4096), np.float16)
    f = np.ones((1, 1, 4096, 2), np.float16)
    got = fastconv.conv2d(x, f, algorithm=algorithm)
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, np.full((1, 2, 2, 2), 4096, np.float16))
    got = fastconv.depthwise_conv2d(
        np.ones((1, 64, 64, 1), np.float16), np.ones((64, 64, 1, 1), np.float16)
    )
    np.testing.assert_array_equal(got, np.full((1, 1, 1, 1), 4096, np.float16))


def test_float16_avg_pool_accumulates_in_float32():
    x = np.ones((1, 64, 64, 2), np.float16)
    got = fastconv.avg_pool2d(x, 64, 1, "VALID")
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, np.ones((1, 1, 1, 2), np.float16))


@pytest.mark.parametrize(
    "x_dtype, f_dtype, b_dtype",
    [
        (np.float32, np.float64, None),
        (np.float64, np.float32, None),
        (np.float16, np.float32, None),
        (np.float32, np.float16, None),
        (np.float16, np.float64, None),
        (np.float16, np.float16, np.float32),
        (np.float32, np.float32, np.float64),
        (np.float16, np.float16, np.float16),
    ],
)
def test_mixed_dtypes_promote_with_result_type(x_dtype, f_dtype, b_dtype, rng):
    x = randn(rng, (2, 6, 5, 4), x_dtype)
    f, fd = randn(rng, (3, 2, 4, 3), f_dtype), randn(rng, (2, 2, 4, 2), f_dtype)
    b = None if b_dtype is None else randn(rng, 3, b_dtype)
    bd = None if b_dtype is None else randn(rng, 8, b_dtype)
    want_dtype = np.result_type(*[d for d in (x_dtype, f_dtype, b_dtype) if d is not None])
    for algorithm in ALGORITHMS:
        got = fastconv.conv2d(x, f, 1, "SAME", bias=b, algorithm=algorithm)
        assert got.dtype == want_dtype
        # the promoted computation: the reference on inputs cast up front
        want = reference.conv2d(
            x.astype(want_dtype),
            f.astype(want_dtype),
            1,
            "SAME",
            bias=None if b is None else b.astype(want_dtype),
        )
        assert_close(got, want, 3 * 2 * 4 + 1, want_dtype)
    got = fastconv.depthwise_conv2d(x, fd, 1, "SAME", bias=bd)
    assert got.dtype == want_dtype
    want = reference.depthwise_conv2d(
        x.astype(want_dtype),
        fd.astype(want_dtype),
        1,
        "SAME",
        bias=None if bd is None else bd.astype(want_dtype),
    )
    assert_close(got, want, 5, want_dtype)


def test_tensorflow_tensors_are_accepted(rng):
    """Drop-in for tf.nn: TF tensors and variables go in (as NumPy arrays), NumPy comes out."""
    import tensorflow as tf

    x, f = randn(rng, (2, 6, 5, 3)), randn(rng, (3, 3, 3, 4))
    got = fastconv.conv2d(tf.constant(x), tf.Variable(f), 1, "SAME")
    assert isinstance(got, np.ndarray) and got.dtype == np.float32
    assert_close(got, tf.nn.conv2d(x, f, 1, "SAME").numpy(), 27, np.float32)
    pooled = fastconv.max_pool2d(tf.constant(x), 2, 2, "VALID")
    np.testing.assert_array_equal(pooled, tf.nn.max_pool2d(x, 2, 2, "VALID").numpy())


def test_python_float_lists_are_float64():
    x = np.linspace(-1, 1, 2 * 5 * 5 * 1).reshape(2, 5, 5, 1)
    w = np.ones((2, 2, 1, 1))
    got = fastconv.conv2d(x.tolist(), w.tolist())
    assert got.dtype == np.float64
    assert_close(got, reference.conv2d(x, w), 4, np.float64)
    assert fastconv.max_pool2d(x.tolist(), 2, 1).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_native_byte_order_is_accepted(dtype, rng):
    """A byte-swapped float32/float64 array holds float32/float64 values (TF accepts it and
    computes the same result); fastconv should not reject it as an unsupported dtype."""
    x = randn(rng, (1, 6, 6, 2), dtype)
    f = randn(rng, (3, 3, 2, 3), dtype)
    swapped = np.dtype(dtype).newbyteorder()
    xs, fs = x.astype(swapped), f.astype(swapped)
    got = fastconv.conv2d(xs, fs, 1, "SAME")
    assert got.dtype.kind == "f" and got.dtype.itemsize == np.dtype(dtype).itemsize
    assert_close(got, fastconv.conv2d(x, f, 1, "SAME"), 18, dtype)
    assert_close(fastconv.max_pool2d(xs, 2, 2), fastconv.max_pool2d(x, 2, 2), 1, dtype)


# ------------------------------------------------------------ layouts


def _layouts(a):
    """Views of `a`'s values in other memory layouts (same shape, same values)."""
    big = np.zeros((a.shape[0] * 2,) + tuple(s * 2 for s in a.shape[1:]), a.dtype)
    big[::2, ::2, ::2, ::2] = a
    flipped = np.ascontiguousarray(a[:, ::-1, :, ::-1])[:, ::-1, :, ::-1]
    readonly = a.copy()
    readonly.flags.writeable = False
    raw = np.zeros(a.nbytes + a.itemsize + 1, np.uint8)
    unaligned = raw[1 : 1 + a.nbytes].view(a.dtype).reshape(a.shape)
    unaligned[...] = a
    transposed = np.ascontiguousarray(a.transpose(3, 2, 1, 0)).transpose(3, 2, 1, 0)
    framed = np.zeros((a.shape[0] + 1, a.shape[1] + 3, a.shape[2] + 2, a.shape[3]), a.dtype)
    framed[1:, 2:-1, 1:-1] = a  # a crop: last axis dense, the others strided
    rows_reversed = np.ascontiguousarray(a[:, ::-1])[:, ::-1]  # negative stride, last axis dense
    return {
        "cropped": framed[1:, 2:-1, 1:-1],
        "rows-reversed": rows_reversed,
        "strided": big[::2, ::2, ::2, ::2],
        "fortran": np.asfortranarray(a),
        "negative": flipped,
        "readonly": readonly,
        "unaligned": unaligned,
        "transposed": transposed,
    }


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize(
    "layout",
    [
        "strided",
        "fortran",
        "negative",
        "readonly",
        "unaligned",
        "transposed",
        "cropped",
        "rows-reversed",
    ],
)
def test_input_layouts_match_contiguous(layout, fmt, algorithm, rng):
    shape = (2, 7, 8, 3) if fmt == "NHWC" else (2, 3, 7, 8)
    x = randn(rng, shape)
    f, fd = randn(rng, (3, 3, 3, 4)), randn(rng, (2, 2, 3, 2))
    b, bd = randn(rng, 4), randn(rng, 6)
    want = run_all(fastconv, x, f, fd, b, bd, fmt, algorithm)
    views = [_layouts(a)[layout] for a in (x, f, fd)]
    bview = {"strided": np.repeat(b, 2)[::2], "negative": b[::-1].copy()[::-1]}.get(layout, b)
    flags = views[0].flags  # the view really is in the layout under test
    assert {"readonly": not flags.writeable, "unaligned": not flags.aligned}.get(
        layout, not flags.c_contiguous
    )
    got = run_all(fastconv, views[0], views[1], views[2], bview, bd, fmt, algorithm)
    for (name, g, red), (_, w, _) in zip(got, want):
        assert_close(g, w, red, np.float32, err_msg=f"{name} {layout}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_repeated_calls_with_reused_workspaces(dtype, rng):
    """Workspaces kept between calls (packed weights, layout copies) never leak one call's
    data into the next: a sequence of different problems, then the first again, bit for bit."""
    problems = [
        (randn(rng, (2, 9, 10, 130), dtype), randn(rng, (3, 3, 130, 70), dtype), "NHWC"),
        (randn(rng, (1, 3, 4, 5), dtype), randn(rng, (1, 1, 5, 3), dtype), "NHWC"),
        (randn(rng, (2, 7, 6, 8), dtype), randn(rng, (2, 3, 7, 9), dtype), "NCHW"),
        (randn(rng, (1, 30, 30, 16), dtype), randn(rng, (5, 5, 16, 33), dtype), "NHWC"),
    ]
    first = [fastconv.conv2d(x, f, 1, "SAME", fmt, algorithm="im2col") for x, f, fmt in problems]
    other = fastconv.conv2d(
        problems[0][0].astype(np.float32 if dtype == np.float64 else np.float64),
        problems[0][1],
        1,
        "SAME",
        algorithm="im2col",
    )
    again = [
        fastconv.conv2d(x, f, 1, "SAME", fmt, algorithm="im2col")
        for x, f, fmt in reversed(problems)
    ][::-1]
    for (x, f, fmt), a, b in zip(problems, first, again):
        np.testing.assert_array_equal(a, b)
        assert_close(
            a, reference.conv2d(x, f, 1, "SAME", fmt), f.shape[0] * f.shape[1] * f.shape[2], dtype
        )
    assert other.dtype == np.float64


def test_broadcast_input(rng):
    """A zero-stride (broadcast, read-only) input is read correctly."""
    row = randn(rng, (1, 1, 9, 2))
    x = np.broadcast_to(row, (2, 6, 9, 2))
    f = randn(rng, (3, 3, 2, 3))
    for algorithm in ALGORITHMS:
        assert_close(
            fastconv.conv2d(x, f, 1, "SAME", algorithm=algorithm),
            reference.conv2d(np.array(x), f, 1, "SAME"),
            18,
            np.float32,
        )
    assert_close(
        fastconv.avg_pool2d(x, 2, 1, "SAME"),
        reference.avg_pool2d(np.array(x), 2, 1, "SAME"),
        4,
        np.float32,
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_inputs_never_modified(dtype, algorithm, rng):
    x = randn(rng, (2, 6, 7, 4), dtype)
    f, fd = randn(rng, (3, 3, 4, 4), dtype), randn(rng, (3, 3, 4, 1), dtype)
    b, bd = randn(rng, 4, dtype), randn(rng, 4, dtype)
    x_flipped = x[:, ::-1]
    copies = [a.copy() for a in (x, f, fd, b, bd)]
    run_all(fastconv, x, f, fd, b, bd, algorithm=algorithm)
    run_all(fastconv, x_flipped, f, fd, b, bd, algorithm=algorithm)
    # with out=, including an out that is the input itself (1x1 conv, C -> C)
    y = fastconv.conv2d(x, f[:1, :1].copy(), algorithm=algorithm)
    fastconv.conv2d(x, f, 1, "SAME", bias=b, algorithm=algorithm, out=np.empty_like(y))
    for got, want in zip((x, f, fd, b, bd), copies):
        np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------ out=


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_out_is_written_and_returned(dtype, fmt, algorithm, rng):
    shape = (2, 7, 8, 3) if fmt == "NHWC" else (2, 3, 7, 8)
    x = randn(rng, shape, dtype)
    f, fd = randn(rng, (3, 3, 3, 4), dtype), randn(rng, (2, 2, 3, 2), dtype)
    b = randn(rng, 4, dtype)
    cases = [
        (
            lambda **kw: fastconv.conv2d(
                x, f, 2, "SAME", fmt, bias=b, activation="sigmoid", algorithm=algorithm, **kw
            ),
            28,
        ),
        (lambda **kw: fastconv.depthwise_conv2d(x, fd, 1, "VALID", fmt, **kw), 4),
        (lambda **kw: fastconv.max_pool2d(x, 3, 2, "SAME", fmt, **kw), 1),
        (lambda **kw: fastconv.avg_pool2d(x, 3, 1, "VALID", fmt, **kw), 9),
    ]
    for call, red in cases:
        want = call()
        out = np.full(want.shape, np.nan, dtype)
        got = call(out=out)
        assert got is out
        assert_close(out, want, red, dtype)
        np.testing.assert_array_equal(out, want)  # the same computation, written in place


def _misaligned(a):
    """A C-contiguous copy of `a` starting one byte past an aligned address."""
    raw = np.zeros(a.nbytes + a.itemsize + 1, np.uint8)
    view = raw[1 : 1 + a.nbytes].view(a.dtype).reshape(a.shape)
    view[...] = a
    assert not view.flags.aligned and view.flags.c_contiguous
    return view


@pytest.mark.parametrize("algorithm", ALGORITHMS + ("winograd",))
@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_misaligned_out_filter_and_bias(dtype, fmt, algorithm, rng):
    """A misaligned (C-contiguous) out=, filter or bias is a legal NumPy array: it is served
    (the kernels get aligned copies, and write an aligned temporary that is copied into
    out), bit for bit as with aligned arrays. The kernels load whole elements, and vectors
    of them: given the misaligned arrays themselves that is undefined behaviour, which the
    sanitizer job (tests/sanitize_run.py) reports and the binding now refuses."""
    shape = (2, 7, 8, 5) if fmt == "NHWC" else (2, 5, 7, 8)
    x = randn(rng, shape, dtype)
    f, fd = randn(rng, (3, 3, 5, 7), dtype), randn(rng, (2, 2, 5, 2), dtype)
    b = randn(rng, 7, dtype)
    cases = [
        lambda f, fd, b, **kw: fastconv.conv2d(
            x, f, 1, "SAME", fmt, bias=b, activation="relu", algorithm=algorithm, **kw
        ),
        lambda f, fd, b, **kw: fastconv.depthwise_conv2d(
            x, fd, 1, "VALID", fmt, bias=np.resize(b, 10), **kw
        ),
        lambda f, fd, b, **kw: fastconv.max_pool2d(x, 3, 2, "SAME", fmt, **kw),
        lambda f, fd, b, **kw: fastconv.avg_pool2d(x, 2, 1, "VALID", fmt, **kw),
    ]
    for call in cases:
        want = call(f, fd, b)
        out = _misaligned(np.full(want.shape, np.nan, dtype))
        got = call(_misaligned(f), _misaligned(fd), _misaligned(b), out=out)
        assert got is out
        np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_out_aliasing_the_input(algorithm, rng):
    """out= may be the input itself or overlap it: the result is still right."""
    x = randn(rng, (2, 5, 6, 4))
    f = randn(rng, (1, 1, 4, 4))
    want = reference.conv2d(x, f)
    xx = x.copy()
    got = fastconv.conv2d(xx, f, out=xx, algorithm=algorithm)
    assert got is xx
    assert_close(xx, want, 4, np.float32)

    # shifted by one image: writing image 0's output early would clobber image 1's input
    buf = np.zeros((3, 5, 6, 4), np.float32)
    buf[:2] = x
    got = fastconv.conv2d(buf[:2], f, out=buf[1:], algorithm=algorithm)
    assert np.shares_memory(got, buf)
    assert_close(buf[1:], want, 4, np.float32)

    # one (1, 1, 4, 4) array as input, filter and out at once
    a = randn(rng, (1, 1, 4, 4))
    want = reference.conv2d(a, a)
    got = fastconv.conv2d(a, a, out=a, algorithm=algorithm)
    assert got is a
    assert_close(a, want, 4, np.float32)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_out_aliasing_the_input(kind, rng):
    fast = {"max": fastconv.max_pool2d, "avg": fastconv.avg_pool2d}[kind]
    ref = {"max": reference.max_pool2d, "avg": reference.avg_pool2d}[kind]
    x = randn(rng, (2, 6, 5, 3))
    want = ref(x, 3, 1, "SAME")
    xx = x.copy()
    assert fast(xx, 3, 1, "SAME", out=xx) is xx
    assert_close(xx, want, 9, np.float32)
    buf = np.zeros((3, 6, 5, 3), np.float32)
    buf[1:] = x
    fast(buf[1:], 3, 1, "SAME", out=buf[:2])
    assert_close(buf[:2], want, 9, np.float32)


def test_reference_out_is_written_and_returned(rng):
    x, f = randn(rng, (1, 5, 5, 2)), randn(rng, (3, 3, 2, 2))
    out = np.empty((1, 3, 3, 2), np.float32)
    assert reference.conv2d(x, f, out=out) is out
    np.testing.assert_array_equal(out, reference.conv2d(x, f))


# ------------------------------------------------------------ NaN and Inf
# (the reference's NumPy arithmetic warns about the NaNs it is asked to make)

NAN_OK = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
def test_max_pool_propagates_nan(fmt, dtype, rng):
    """NaN anywhere in a window (first, middle, last cell) makes the max NaN, like NumPy and
    the reference (TF returns 0.0 there, so TF is not the oracle)."""
    x = randn(rng, (2, 6, 7, 3), dtype)
    x[0, 0, 0, 0] = np.nan  # first cell of a window
    x[0, 3, 4, 1] = np.nan  # interior
    x[1, 5, 6, 2] = np.nan  # last cell
    x[1, 2, 2, 0] = np.inf
    x[1, 4, 0, 1] = -np.inf
    if fmt == "NCHW":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    for ksize, strides, padding in [
        (3, 1, "SAME"),
        (2, 2, "VALID"),
        ((3, 2), (2, 3), "SAME"),
        (2, 1, ((1, 0), (0, 1))),
    ]:
        got = fastconv.max_pool2d(x, ksize, strides, padding, fmt)
        want = reference.max_pool2d(x, ksize, strides, padding, fmt)
        assert np.isnan(want).any()
        assert_close(got, want, 1, dtype, err_msg=f"{ksize} {strides} {padding}")
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


def test_max_pool_nan_every_position():
    """A single NaN at each position of a 3x3 window: always NaN, never dropped."""
    for i in range(9):
        x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
        x.reshape(-1)[i] = np.nan
        assert np.isnan(fastconv.max_pool2d(x, 3, 1, "VALID")).all(), i


def test_max_pool_all_minus_inf():
    x = np.full((1, 4, 4, 2), -np.inf, np.float32)
    got = fastconv.max_pool2d(x, 3, 1, "SAME")
    np.testing.assert_array_equal(got, x)


@NAN_OK
@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
def test_avg_pool_nan_inf(fmt, rng):
    x = randn(rng, (1, 6, 6, 2))
    x[0, 1, 1, 0] = np.nan
    x[0, 4, 4, 1] = np.inf
    x[0, 4, 5, 1] = -np.inf  # +inf and -inf in one window: NaN
    x[0, 0, 5, 0] = np.inf
    if fmt == "NCHW":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    got = fastconv.avg_pool2d(x, 2, 1, "SAME", fmt)
    want = reference.avg_pool2d(x, 2, 1, "SAME", fmt)
    assert np.isinf(want).any() and np.isnan(want).any()
    assert_close(got, want, 4, np.float32)


@NAN_OK
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("activation", [None, "relu", "relu6", "tanh"])
def test_conv_inf_and_nan_propagate(activation, algorithm, rng):
    """Inf in the input gives +-Inf where one tap meets it, NaN where +Inf and -Inf meet
    (or Inf times a zero weight); NaN input spreads over its footprint; activations keep
    NaN (relu/relu6 do not turn it into 0)."""
    x = randn(rng, (1, 8, 9, 3))
    x[0, 2, 2, 0] = np.inf
    x[0, 2, 4, 0] = -np.inf
    x[0, 6, 7, 2] = np.nan
    f = randn(rng, (3, 3, 3, 4))
    f[1, 1, 0, 3] = 0.0  # Inf * 0 = NaN on channel 3
    for padding in ["SAME", "VALID"]:
        got = fastconv.conv2d(x, f, 1, padding, activation=activation, algorithm=algorithm)
        want = reference.conv2d(x, f, 1, padding, activation=activation)
        assert np.isinf(want).any() or activation in ("relu6", "tanh")
        assert np.isnan(want).any()
        assert_close(got, want, 27, np.float32, err_msg=padding)
    fd = randn(rng, (3, 3, 3, 2))
    got = fastconv.depthwise_conv2d(x, fd, 1, "SAME", activation=activation)
    want = reference.depthwise_conv2d(x, fd, 1, "SAME", activation=activation)
    assert_close(got, want, 9, np.float32)
