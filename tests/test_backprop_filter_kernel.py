"""conv2d_backprop_filter and depthwise_conv2d_backprop_filter beyond TF: the reference
against finite differences, the fast kernels against the reference where TF cannot go on
the CPU (NCHW, dilation with stride, groups; PyTorch too when it is installed), every ISA
and the tile edges, dtypes, empty shapes, out=, the bias gradient, bad arguments, inputs
left untouched and bit-identical results for any thread count."""

from __future__ import annotations

import numpy as np
import pytest

import fastconv
from fastconv import reference
from tolerance import assert_close


def operands(
    rng,
    x_shape,
    sizes,
    strides,
    padding,
    dtype=np.float32,
    data_format="NHWC",
    dilations=1,
    depthwise=False,
):
    """x and an out_backprop of the forward output's shape."""
    x = rng.standard_normal(x_shape).astype(dtype)
    forward = reference.depthwise_conv2d if depthwise else reference.conv2d
    y = forward(x, np.zeros(sizes, dtype), strides, padding, data_format, dilations)
    return x, rng.standard_normal(y.shape).astype(dtype)


def pixels(dy, data_format="NHWC"):
    return int(np.prod(dy.shape)) // dy.shape[3 if data_format == "NHWC" else 1]


# -- the reference against finite differences ------------------------------------------------


@pytest.mark.parametrize("depthwise", [False, True], ids=["conv2d", "depthwise"])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_reference_is_the_finite_difference_gradient(depthwise, data_format, rng):
    """The loss sum(conv(x, w) * dy) is linear in w, so a central difference is exact up to
    rounding: every filter value's gradient, with stride, dilation and explicit padding."""
    shape = (2, 7, 8, 4) if data_format == "NHWC" else (2, 4, 7, 8)
    sizes = (2, 3, 4, 2) if depthwise else (2, 3, 2, 6)  # conv2d: 2 groups
    strides, padding, dilations = (2, 1), ((1, 0), (2, 1)), (1, 2)
    x, dy = operands(
        rng, shape, sizes, strides, padding, np.float64, data_format, dilations, depthwise
    )
    forward = reference.depthwise_conv2d if depthwise else reference.conv2d
    grad = (
        reference.depthwise_conv2d_backprop_filter
        if depthwise
        else reference.conv2d_backprop_filter
    )
    got = grad(x, sizes, dy, strides, padding, data_format=data_format, dilations=dilations)
    w = rng.standard_normal(sizes)
    want = np.empty(sizes)
    for i in np.ndindex(*sizes):
        step = np.zeros(sizes)
        step[i] = 0.5
        up = forward(x, w + step, strides, padding, data_format, dilations)
        down = forward(x, w - step, strides, padding, data_format, dilations)
        want[i] = np.sum((up - down) * dy)  # (L(w + h) - L(w - h)) / (2h), h = 0.5
    assert_close(got, want, pixels(dy, data_format), np.float64)


# -- the fast kernels against the reference where TF cannot go --------------------------------

CASES = [  # x (NHWC), filter sizes, strides, padding, dilations
    ((2, 9, 11, 6), (3, 3, 2, 9), 1, "SAME", 1),  # 3 groups
    ((1, 13, 12, 8), (3, 2, 4, 6), (2, 3), "SAME", (2, 2)),  # groups, dilation + stride
    ((3, 10, 10, 5), (5, 3, 5, 7), 2, ((2, 1), (0, 3)), (2, 1)),  # dilation + stride
    ((2, 8, 9, 64), (3, 3, 16, 64), 1, "VALID", 1),  # 4 groups of 16 -> 16
    ((1, 12, 12, 12), (1, 1, 1, 24), 2, "SAME", 1),  # one channel a group, M = 2
]


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "case", CASES, ids=["groups", "groups-dil-stride", "dil-stride", "groups16", "depthwise-like"]
)
def test_fast_matches_reference_beyond_tf(case, dtype, data_format, rng):
    shape, sizes, strides, padding, dilations = case
    if data_format == "NCHW":
        shape = (shape[0], shape[3], shape[1], shape[2])
    x, dy = operands(rng, shape, sizes, strides, padding, dtype, data_format, dilations)
    args = (x, sizes, dy, strides, padding)
    kw = dict(data_format=data_format, dilations=dilations, return_bias_grad=True)
    got, got_b = fastconv.conv2d_backprop_filter(*args, **kw)
    want, want_b = reference.conv2d_backprop_filter(*args, **kw)
    assert got.dtype == want.dtype == dtype
    assert_close(got, want, pixels(dy, data_format), dtype)
    assert_close(got_b, want_b, pixels(dy, data_format), dtype)


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("multiplier", [1, 3])
def test_depthwise_fast_matches_reference_beyond_tf(multiplier, data_format, rng):
    shape = (2, 11, 10, 19) if data_format == "NHWC" else (2, 19, 11, 10)
    sizes, strides, padding, dilations = (3, 4, 19, multiplier), (2, 1), "SAME", (2, 3)
    x, dy = operands(
        rng, shape, sizes, strides, padding, np.float32, data_format, dilations, depthwise=True
    )
    args = (x, sizes, dy, strides, padding)
    kw = dict(data_format=data_format, dilations=dilations, return_bias_grad=True)
    got, got_b = fastconv.depthwise_conv2d_backprop_filter(*args, **kw)
    want, want_b = reference.depthwise_conv2d_backprop_filter(*args, **kw)
    assert_close(got, want, pixels(dy, data_format), np.float32)
    assert_close(got_b, want_b, pixels(dy, data_format), np.float32)


@pytest.mark.parametrize("case", CASES[:3], ids=["groups", "groups-dil-stride", "dil-stride"])
def test_matches_pytorch_beyond_tf(case, rng):
    """PyTorch's weight gradient on NCHW, when PyTorch is installed (an optional peer)."""
    torch = pytest.importorskip("torch")
    shape, sizes, strides, padding, dilations = case
    nchw = (shape[0], shape[3], shape[1], shape[2])
    kh, kw, cg, out_c = sizes
    pads = ((0, 0), (0, 0)) if padding == "VALID" else padding
    if padding == "SAME":  # its pads for these cases are symmetric
        pads = ((1, 1), (1, 1)) if case is CASES[0] else ((2, 2), (1, 1))
    x, dy = operands(rng, nchw, sizes, strides, pads, np.float64, "NCHW", dilations)
    s = (strides,) * 2 if isinstance(strides, int) else strides
    d = (dilations,) * 2 if isinstance(dilations, int) else dilations
    xp = np.pad(x, ((0, 0), (0, 0), *pads))  # PyTorch pads symmetrically: pad first
    want = torch.nn.grad.conv2d_weight(
        torch.from_numpy(xp), (out_c, cg, kh, kw), torch.from_numpy(dy), s, 0, d, shape[3] // cg
    ).numpy()
    got = fastconv.conv2d_backprop_filter(
        x, sizes, dy, strides, pads, data_format="NCHW", dilations=dilations
    )
    assert_close(got, want.transpose(2, 3, 1, 0), pixels(dy, "NCHW"), np.float64)


# -- every ISA (conv2d's kernel around its tiles: test_backprop_filter_direct.py) ---------------


@pytest.mark.parametrize("channels", [1, 3, 4, 8, 15, 16, 17, 33, 64])
def test_depthwise_each_isa_around_the_lanes(isa, channels, rng):
    sizes = (3, 3, channels, 1)
    x, dy = operands(rng, (2, 10, 9, channels), sizes, 2, "SAME", depthwise=True)
    got = fastconv.depthwise_conv2d_backprop_filter(x, sizes, dy, 2, "SAME")
    want = reference.depthwise_conv2d_backprop_filter(x, sizes, dy, 2, "SAME")
    assert_close(got, want, pixels(dy), np.float32, isa)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kh", [1, 2, 3, 5])
@pytest.mark.parametrize(
    "strides, padding, dilations",
    [(1, "SAME", 1), (2, "SAME", 1), ((1, 2), [[2, 0], [3, 1]], (2, 1)), (1, "VALID", 2)],
    ids=["same", "stride2", "explicit-dil", "valid-dil"],
)
def test_depthwise_rows_in_registers(isa, kh, strides, padding, dilations, dtype, rng):
    """3 taps wide, 64 contiguous channels (whole vectors on every ISA): a row's pixels whose
    taps are all inside run with the accumulators in registers, 1 to 3 filter rows at once
    (5 rows: split across tasks or the per-pixel path), the edges per pixel."""
    sizes = (kh, 3, 64, 1)
    shape = (2, 9, 13, 64)
    x, dy = operands(
        rng, shape, sizes, strides, padding, dtype, dilations=dilations, depthwise=True
    )
    args = (x, sizes, dy, strides, padding)
    kw = dict(dilations=dilations, return_bias_grad=True)
    got, got_b = fastconv.depthwise_conv2d_backprop_filter(*args, **kw)
    want, want_b = reference.depthwise_conv2d_backprop_filter(*args, **kw)
    assert_close(got, want, pixels(dy), dtype, isa)
    assert_close(got_b, want_b, pixels(dy), dtype, isa)


@pytest.mark.parametrize(
    "strides, padding, dilations",
    [(1, "SAME", 1), ((2, 1), [[2, 0], [3, 1]], 1), (1, "VALID", (1, 2)), ((1, 1), "SAME", 3)],
)
@pytest.mark.parametrize("dtype, channels", [(np.float32, 64), (np.float64, 32)])
def test_unaligned_input(isa, strides, padding, dilations, dtype, channels, rng):
    """An input that starts one value past a 64-byte boundary (NumPy's large arrays start
    16 bytes past one), with many channels, every padding form and dilation."""
    sizes = (3, 3, channels, 13)
    x, dy = operands(rng, (2, 11, 9, channels), sizes, strides, padding, dtype, dilations=dilations)
    buf = np.empty(x.size + 64 // x.itemsize, dtype)
    start = (-buf.ctypes.data % 64) // x.itemsize + 1
    shifted = buf[start : start + x.size].reshape(x.shape)
    shifted[...] = x
    x = shifted
    assert x.ctypes.data % 64 == x.itemsize
    got, got_b = fastconv.conv2d_backprop_filter(
        x, sizes, dy, strides, padding, dilations=dilations, return_bias_grad=True
    )
    want, want_b = reference.conv2d_backprop_filter(
        x, sizes, dy, strides, padding, dilations=dilations, return_bias_grad=True
    )
    assert_close(got, want, pixels(dy), dtype, isa)
    assert_close(got_b, want_b, pixels(dy), dtype, isa)


# -- thread counts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "depthwise, channels",
    [(False, 48), (False, 64), (True, 40)],
    ids=["conv2d-48", "conv2d-64", "depthwise"],
)
def test_bit_identical_for_any_thread_count(depthwise, channels, restore_threads, rng):
    """Shapes that split into several channel blocks and filter-row chunks (and, depthwise,
    channel blocks and filter rows) differently for each thread count: the same bits every
    time."""
    if depthwise:
        sizes, shape = (3, 3, channels, 1), (2, 30, 30, channels)
        grad = fastconv.depthwise_conv2d_backprop_filter
    else:
        sizes, shape = (3, 3, channels, 200), (2, 20, 20, channels)
        grad = fastconv.conv2d_backprop_filter
    x, dy = operands(rng, shape, sizes, 1, "SAME", depthwise=depthwise)
    results = []
    for threads in range(1, max(fastconv._core.cpus_available(), 2) + 2):
        fastconv.set_num_threads(threads)
        results.append(grad(x, sizes, dy, 1, "SAME", return_bias_grad=True))
    for w, b in results[1:]:
        np.testing.assert_array_equal(w, results[0][0])
        np.testing.assert_array_equal(b, results[0][1])


# -- dtypes, out=, the bias gradient -------------------------------------------------------------


def test_float16_is_computed_in_float32(rng):
    sizes = (3, 3, 4, 5)
    x, dy = operands(rng, (2, 8, 8, 4), sizes, 1, "SAME", np.float16)
    got, bias = fastconv.conv2d_backprop_filter(x, sizes, dy, 1, "SAME", return_bias_grad=True)
    assert got.dtype == bias.dtype == np.float16
    want = reference.conv2d_backprop_filter(
        x.astype(np.float32), sizes, dy.astype(np.float32), 1, "SAME"
    )
    assert_close(got, want, pixels(dy), np.float16)


def test_mixed_dtypes_give_numpys_result_type(rng):
    x, dy = operands(rng, (1, 6, 6, 2), (3, 3, 2, 3), 1, "SAME", np.float32)
    got = fastconv.conv2d_backprop_filter(x, (3, 3, 2, 3), dy.astype(np.float64), 1, "SAME")
    assert got.dtype == np.float64


def test_out_is_written_and_returned(rng):
    sizes = (3, 3, 4, 5)
    x, dy = operands(rng, (2, 8, 8, 4), sizes, 1, "SAME")
    out = np.full(sizes, np.nan, np.float32)
    got = fastconv.conv2d_backprop_filter(x, sizes, dy, 1, "SAME", out=out)
    assert got is out
    np.testing.assert_array_equal(out, fastconv.conv2d_backprop_filter(x, sizes, dy, 1, "SAME"))
    g, b = fastconv.conv2d_backprop_filter(x, sizes, dy, 1, "SAME", out=out, return_bias_grad=True)
    assert g is out and b.shape == (5,)


def test_bias_grad_is_out_backprop_summed(rng):
    """The fused bias gradient: out_backprop summed over batch and pixels, per channel."""
    x, dy = operands(rng, (3, 9, 7, 6), (3, 3, 2, 12), 1, "SAME", np.float64)
    w, b = fastconv.conv2d_backprop_filter(x, (3, 3, 2, 12), dy, 1, "SAME", return_bias_grad=True)
    assert_close(b, dy.sum(axis=(0, 1, 2)), pixels(dy), np.float64)
    np.testing.assert_array_equal(
        w, fastconv.conv2d_backprop_filter(x, (3, 3, 2, 12), dy, 1, "SAME")
    )


# -- empty shapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("depthwise", [False, True], ids=["conv2d", "depthwise"])
@pytest.mark.parametrize(
    "x_shape, padding",
    [
        ((0, 5, 5, 3), "SAME"),  # no images
        ((2, 2, 5, 3), "VALID"),  # output height 0 (the window is one row short)
        ((1, 0, 4, 3), ((2, 2), (1, 1))),  # no input rows: every tap reads padding
    ],
)
def test_empty_gives_zeros(x_shape, padding, depthwise, rng):
    sizes = (3, 3, 3, 2)
    x, dy = operands(rng, x_shape, sizes, 1, padding, depthwise=depthwise)
    grad = (
        fastconv.depthwise_conv2d_backprop_filter if depthwise else fastconv.conv2d_backprop_filter
    )
    ref = (
        reference.depthwise_conv2d_backprop_filter
        if depthwise
        else reference.conv2d_backprop_filter
    )
    got, bias = grad(x, sizes, dy, 1, padding, return_bias_grad=True)
    assert got.shape == sizes and not got.any()
    want_bias = dy.sum(axis=(0, 1, 2)).astype(np.float32)  # nonzero when only x is empty
    np.testing.assert_array_equal(bias, want_bias)
    np.testing.assert_array_equal(got, ref(x, sizes, dy, 1, padding))


def test_zero_out_channels(rng):
    x = rng.standard_normal((1, 5, 5, 2)).astype(np.float32)
    got = fastconv.conv2d_backprop_filter(
        x, (3, 3, 2, 0), np.zeros((1, 5, 5, 0), np.float32), 1, "SAME"
    )
    assert got.shape == (3, 3, 2, 0)


# -- bad arguments, and nothing modified ------------------------------------------------------


@pytest.mark.parametrize(
    "sizes, dy_shape, error, match",
    [
        ((3, 3, 4), (1, 6, 6, 5), ValueError, "filter_sizes must have 4 elements"),
        ((3, 3, 4, -5), (1, 6, 6, 5), ValueError, "non-negative"),
        ((3, 3.0, 4, 5), (1, 6, 6, 5), TypeError, "integers"),
        ("3345", (1, 6, 6, 5), TypeError, "sequence of 4 integers"),
        (3, (1, 6, 6, 5), TypeError, "sequence of 4 integers"),
        ((3, 3, 3, 5), (1, 6, 6, 5), ValueError, "multiple of the filters' in_channels"),
        ((3, 3, 2, 5), (1, 6, 6, 5), ValueError, "out_channels"),
        ((0, 3, 4, 5), (1, 6, 6, 5), ValueError, "positive"),
        ((3, 3, 4, 5), (1, 6, 6, 6), ValueError, "out_backprop has shape"),
        ((3, 3, 4, 5), (1, 5, 6, 5), ValueError, "out_backprop has shape"),
        ((3, 3, 4, 5), (2, 6, 6, 5), ValueError, "out_backprop has shape"),
        ((3, 3, 4, 5), (6, 6, 5), ValueError, "out_backprop has shape"),
    ],
)
def test_inconsistent_shapes_are_named(sizes, dy_shape, error, match):
    x = np.zeros((1, 6, 6, 4), np.float32)
    for impl in (fastconv, reference):
        with pytest.raises(error, match=match):
            impl.conv2d_backprop_filter(x, sizes, np.zeros(dy_shape, np.float32), 1, "SAME")


def test_depthwise_inconsistent_shapes_are_named():
    x = np.zeros((1, 6, 6, 4), np.float32)
    with pytest.raises(ValueError, match="must equal the input channels"):
        fastconv.depthwise_conv2d_backprop_filter(
            x, (3, 3, 3, 1), np.zeros((1, 6, 6, 3)), 1, "SAME"
        )
    with pytest.raises(ValueError, match="out_backprop has shape"):
        fastconv.depthwise_conv2d_backprop_filter(
            x, (3, 3, 4, 2), np.zeros((1, 6, 6, 4)), 1, "SAME"
        )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(input=np.zeros((1, 6, 6, 4), np.int32)), TypeError, "input must be float16"),
        (dict(out_backprop=np.zeros((1, 6, 6, 5), np.complex64)), TypeError, "out_backprop must"),
        (dict(strides=0), ValueError, "strides must be positive"),
        (dict(padding="FULL"), ValueError, "padding must be"),
        (dict(data_format="NCWH"), ValueError, "data_format"),
        (dict(out=np.zeros((3, 3, 4, 4), np.float32)), ValueError, "out must have shape"),
        (dict(out=np.zeros((3, 3, 4, 5), np.float64)), ValueError, "out must have dtype"),
        (dict(name=3), TypeError, "name must be a string"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    args = dict(
        input=np.zeros((1, 6, 6, 4), np.float32),
        filter_sizes=(3, 3, 4, 5),
        out_backprop=np.zeros((1, 6, 6, 5), np.float32),
        strides=1,
        padding="SAME",
    )
    args.update(kwargs)
    with pytest.raises(error, match=match):
        fastconv.conv2d_backprop_filter(**args)


def test_window_that_does_not_fit_is_named():
    with pytest.raises(ValueError, match="does not fit"):
        fastconv.conv2d_backprop_filter(
            np.zeros((1, 2, 2, 1), np.float32),
            (5, 5, 1, 1),
            np.zeros((1, 1, 1, 1), np.float32),
            1,
            "VALID",
        )


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_inputs_are_not_modified(data_format, rng):
    shape = (2, 8, 9, 6) if data_format == "NHWC" else (2, 6, 8, 9)
    x, dy = operands(rng, shape, (3, 3, 3, 4), 2, "SAME", data_format=data_format)
    x_copy, dy_copy = x.copy(), dy.copy()
    x.flags.writeable = dy.flags.writeable = False  # a write would raise
    fastconv.conv2d_backprop_filter(
        x, (3, 3, 3, 4), dy, 2, "SAME", data_format=data_format, return_bias_grad=True
    )
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(dy, dy_copy)


def test_strided_views_are_read_in_place(rng):
    """Non-contiguous input and out_backprop (every other row, reversed channels)."""
    x, dy = operands(rng, (2, 16, 9, 8), (3, 3, 8, 6), 1, "SAME")
    xv = np.repeat(x, 2, axis=1)[:, ::2, :, ::-1]
    dyv = np.ascontiguousarray(dy[..., ::-1])[..., ::-1]
    got = fastconv.conv2d_backprop_filter(xv, (3, 3, 8, 6), dyv, 1, "SAME")
    want = reference.conv2d_backprop_filter(np.ascontiguousarray(xv), (3, 3, 8, 6), dy, 1, "SAME")
    assert_close(got, want, pixels(dy), np.float32)
