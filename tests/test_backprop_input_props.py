"""Properties of the input gradients that need no peer: float64 finite differences of the
forward ops, fast path against the reference on geometry TF refuses (large paddings,
rows no window reaches, dilation with stride), every ISA, thread-count determinism, dtypes
and layouts, empty shapes, errors naming the argument, and inputs left untouched."""

from __future__ import annotations

import numpy as np
import pytest

import fastconv
from fastconv import reference
from _cases import covering
from tolerance import assert_close

OPS = {
    "conv": (fastconv.conv2d_backprop_input, reference.conv2d_backprop_input, reference.conv2d),
    "depthwise": (
        fastconv.depthwise_conv2d_backprop_input,
        reference.depthwise_conv2d_backprop_input,
        reference.depthwise_conv2d,
    ),
}

CASES = covering(
    36,
    seed=31,
    op=["conv", "conv", "depthwise"],
    kernel=[(1, 1), (2, 3), (3, 3), (4, 4), (5, 2), (7, 7)],
    stride=[(1, 1), (2, 2), (3, 2), (4, 4), (5, 3)],
    dilation=[(1, 1), (2, 2), (3, 1), (2, 3)],
    padding=[
        "SAME",
        "VALID",
        [[0, 0], [0, 0]],
        [[4, 0], [1, 6]],
        [[9, 9], [2, 3]],
        [[0, 0], [0, 0], [2, 1], [1, 2]],
    ],
    size=[(1, 1), (3, 5), (8, 8), (13, 10), (17, 19)],
    channels=[1, 2, 4, 6],
    out_per_group=[1, 2, 3],
    groups=[1, 1, 2],
    data_format=["NHWC", "NCHW"],
)


def _problem(rng, case, dtype=np.float64):
    """(input x, filter, out_backprop, padding) of a case, the input grown to fit."""
    kind, fmt = case["op"], case["data_format"]
    (kh, kw), (dh, dw) = case["kernel"], case["dilation"]
    padding = case["padding"]
    if isinstance(padding, list) and len(padding) == 4 and fmt == "NHWC":
        padding = [padding[0], padding[2], padding[3], padding[1]]  # NCHW order -> NHWC
    if isinstance(padding, str):
        pads = [[0, 0], [0, 0]]
    else:
        pads = padding if len(padding) == 2 else padding[1:3] if fmt == "NHWC" else padding[2:]
    h = max(case["size"][0], (kh - 1) * dh + 1 - sum(pads[0]))
    w = max(case["size"][1], (kw - 1) * dw + 1 - sum(pads[1]))
    groups = 1 if kind == "depthwise" else case["groups"]
    c = case["channels"] * groups
    if kind == "depthwise":
        f = rng.standard_normal((kh, kw, c, case["out_per_group"]))
    else:
        f = rng.standard_normal((kh, kw, case["channels"], case["out_per_group"] * groups))
    shape = (2, h, w, c) if fmt == "NHWC" else (2, c, h, w)
    x = rng.standard_normal(shape).astype(dtype)
    y = OPS[kind][2](x, f, case["stride"], padding, fmt, case["dilation"])
    dy = rng.standard_normal(y.shape).astype(dtype)
    return x, f.astype(dtype), dy, padding


def _call(fn, case, x, f, dy, padding, **kw):
    return fn(
        x.shape,
        f,
        dy,
        case["stride"],
        padding,
        data_format=case["data_format"],
        dilations=case["dilation"],
        **kw,
    )


def _reduction(f):
    return f.shape[0] * f.shape[1] * f.shape[3]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_fast_matches_reference(rng, case):
    x, f, dy, padding = _problem(rng, case)
    fast, ref, _ = OPS[case["op"]]
    assert_close(
        _call(fast, case, x, f, dy, padding),
        _call(ref, case, x, f, dy, padding),
        _reduction(f),
        np.float64,
        str(case),
    )


@pytest.mark.parametrize("case", CASES[:12], ids=str)
def test_reference_is_the_forward_ops_gradient(rng, case):
    """<grad, v> equals the central difference of sum(forward(x) * dy) along v (exact up to
    rounding: the forward op is linear in x)."""
    x, f, dy, padding = _problem(rng, case)
    _, ref, forward = OPS[case["op"]]
    grad = _call(ref, case, x, f, dy, padding)
    v = rng.standard_normal(x.shape)

    def loss(z):
        return float(
            np.sum(
                forward(z, f, case["stride"], padding, case["data_format"], case["dilation"]) * dy
            )
        )

    step = 1e-3
    numeric = (loss(x + step * v) - loss(x - step * v)) / (2 * step)
    assert np.isclose(np.sum(grad * v), numeric, rtol=1e-8, atol=1e-8 * np.abs(grad).sum())


def test_every_isa(rng, isa):
    """Each ISA's kernels (the phases run Winograd, im2col + GEMM and the direct kernels)."""
    for case in CASES[:12]:
        for dtype in (np.float32, np.float64):
            x, f, dy, padding = _problem(rng, case, dtype)
            f = f.astype(dtype)
            fast, ref, _ = OPS[case["op"]]
            assert_close(
                _call(fast, case, x, f, dy, padding),
                _call(ref, case, x, f, dy, padding),
                _reduction(f),
                dtype,
                isa,
            )
    dy = rng.standard_normal((2, 14, 14, 32)).astype(np.float32)  # Winograd-sized phases
    f = rng.standard_normal((3, 3, 16, 32)).astype(np.float32)
    for strides in (1, 2):
        sizes = (2, 14 * strides, 14 * strides, 16)
        assert_close(
            fastconv.conv2d_backprop_input(sizes, f, dy, strides, "SAME"),
            reference.conv2d_backprop_input(sizes, f, dy, strides, "SAME"),
            9 * 32,
            np.float32,
            isa,
        )


@pytest.mark.parametrize("strides", [1, 2, 3])
def test_bit_identical_for_any_thread_count(rng, restore_threads, strides):
    sizes = (3, 20 * strides, 19 * strides, 24)
    f = rng.standard_normal((3, 3, 24, 40)).astype(np.float32)
    dy = rng.standard_normal((3, 20, 19, 40)).astype(np.float32)
    fd = rng.standard_normal((3, 3, 24, 1)).astype(np.float32)
    dyd = rng.standard_normal((3, 20, 19, 24)).astype(np.float32)
    results = []
    for threads in (1, 2):
        fastconv.set_num_threads(threads)
        results.append(
            (
                fastconv.conv2d_backprop_input(sizes, f, dy, strides, "SAME"),
                fastconv.depthwise_conv2d_backprop_input(sizes, fd, dyd, strides, "SAME"),
            )
        )
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize(
    "dtypes", [("float16", "float16"), ("float32", "float64"), ("float16", "float32")]
)
def test_dtypes(rng, dtypes):
    """float16 is computed in float32 and returned as float16; mixed dtypes promote."""
    f = rng.standard_normal((3, 3, 4, 5)).astype(dtypes[0])
    dy = rng.standard_normal((2, 4, 4, 5)).astype(dtypes[1])
    got = fastconv.conv2d_backprop_input((2, 8, 8, 4), f, dy, 2, "SAME")
    assert got.dtype == np.result_type(*dtypes)
    expected = reference.conv2d_backprop_input((2, 8, 8, 4), f, dy, 2, "SAME")
    assert expected.dtype == got.dtype
    assert_close(got, expected, 9 * 5, got.dtype)


def test_layouts_and_out(rng):
    """A strided, Fortran-ordered out_backprop; out= written in place (and a misaligned
    dtype one through a temporary); the result equals the reference's."""
    f = rng.standard_normal((3, 3, 4, 6)).astype(np.float32)
    big = rng.standard_normal((2, 10, 12, 12)).astype(np.float32)
    dy = np.asfortranarray(big[:, ::2, ::3, ::2])  # (2, 5, 4, 6)
    expected = reference.conv2d_backprop_input((2, 10, 8, 4), f, dy, 2, "SAME")
    out = np.empty((2, 10, 8, 4), np.float32)
    assert fastconv.conv2d_backprop_input((2, 10, 8, 4), f, dy, 2, "SAME", out=out) is out
    assert_close(out, expected, 9 * 6, np.float32)
    nchw = fastconv.conv2d_backprop_input(
        (2, 4, 10, 8), f, dy.transpose(0, 3, 1, 2), 2, "SAME", data_format="NCHW"
    )
    assert_close(nchw, expected.transpose(0, 3, 1, 2), 9 * 6, np.float32)


def test_cells_no_window_reaches(rng):
    """A 1x1 stride-2 filter reaches one input cell in four, VALID leaves the last rows
    unread: those gradients are exactly 0, and activation(bias) for conv2d_transpose."""
    f = rng.standard_normal((1, 1, 3, 4)).astype(np.float32)
    dy = rng.standard_normal((1, 3, 3, 4)).astype(np.float32)
    got = fastconv.conv2d_backprop_input((1, 6, 6, 3), f, dy, 2, "VALID")
    assert not got[:, 1::2].any() and not got[:, :, 1::2].any()
    assert_close(got[:, ::2, ::2], dy @ f[0, 0].T, 4, np.float32)
    b = np.array([1.0, -2.0, 3.0], np.float32)
    t = fastconv.conv2d_transpose(dy, f, (1, 6, 6, 3), 2, "VALID", bias=b, activation="relu")
    np.testing.assert_array_equal(t[:, 1::2], np.broadcast_to([1.0, 0.0, 3.0], t[:, 1::2].shape))


@pytest.mark.parametrize("op", ["conv", "depthwise"])
def test_empty_shapes(op):
    fast, ref, _ = OPS[op]
    f = np.ones((3, 3, 2, 1), np.float32)
    for sizes, dy_shape in [
        ((0, 5, 5, 2), (0, 3, 3, 1 if op == "conv" else 2)),
        ((2, 0, 5, 2), (2, 0, 3, 1 if op == "conv" else 2)),
    ]:
        for fn in (fast, ref):
            got = fn(sizes, f, np.ones(dy_shape, np.float32), 1, "VALID")
            assert got.shape == sizes and got.dtype == np.float32
    # a zero-sized out_backprop (output size exactly 0) gives a zero gradient
    for fn in (fast, ref):
        got = fn(
            (1, 2, 5, 2), f, np.ones((1, 0, 3, 1 if op == "conv" else 2), np.float32), 1, "VALID"
        )
        np.testing.assert_array_equal(got, np.zeros((1, 2, 5, 2)))


@pytest.mark.parametrize("impl", [fastconv, reference])
def test_errors_name_the_argument(impl):
    f = np.ones((3, 3, 4, 6), np.float32)
    dy = np.ones((2, 4, 4, 6), np.float32)
    ok = ((2, 8, 8, 4), f, dy, 2, "SAME")
    impl.conv2d_backprop_input(*ok)
    bad = [
        (ValueError, "input_sizes", ((2, 8, 8), f, dy, 2, "SAME")),
        (TypeError, "input_sizes", ((2, 8.0, 8, 4), f, dy, 2, "SAME")),
        (TypeError, "input_sizes", ("2884", f, dy, 2, "SAME")),
        (ValueError, "out_backprop", ((2, 9, 9, 4), f, dy, 1, "SAME")),
        (ValueError, "out_backprop", ((2, 8, 8, 4), f, dy[..., :5], 2, "SAME")),
        (ValueError, "channels", ((2, 8, 8, 5), f, dy, 2, "SAME")),
        (TypeError, "out_backprop", ((2, 8, 8, 4), f, dy.astype(np.int32), 2, "SAME")),
        (TypeError, "filters", ((2, 8, 8, 4), "w", dy, 2, "SAME")),
        (TypeError, "strides", ((2, 8, 8, 4), f, dy, "SAME", "SAME")),
        (ValueError, "padding", ((2, 8, 8, 4), f, dy, 2, "FULL")),
    ]
    for kind, word, args in bad:
        with pytest.raises(kind, match=word):
            impl.conv2d_backprop_input(*args)
    with pytest.raises(ValueError, match="out must have shape"):
        impl.conv2d_backprop_input(*ok, out=np.empty((2, 8, 8, 5), np.float32))
    with pytest.raises(ValueError, match="filter in_channels"):
        impl.depthwise_conv2d_backprop_input((2, 8, 8, 3), np.ones((3, 3, 4, 1)), dy, 2, "SAME")
    x = np.ones((2, 4, 4, 6), np.float32)
    with pytest.raises(ValueError, match="output_padding"):
        impl.conv2d_transpose(x, f, (2, 8, 8, 4), 2, "SAME", output_padding=1)
    with pytest.raises(ValueError, match="output_shape"):
        impl.conv2d_transpose(x, f, None, 2, "SAME")
    with pytest.raises(ValueError, match="output_padding for the height"):
        impl.conv2d_transpose(x, f, None, 2, "VALID", output_padding=2)
    with pytest.raises(ValueError, match="input has shape"):
        impl.conv2d_transpose(x, f, (2, 9, 9, 4), 1, "SAME")
    with pytest.raises(ValueError, match="bias"):
        impl.conv2d_transpose(x, f, (2, 8, 8, 4), 2, "SAME", bias=np.ones(6, np.float32))


def test_inputs_not_modified(rng):
    f = rng.standard_normal((3, 3, 4, 6)).astype(np.float32)
    dy = rng.standard_normal((2, 4, 4, 6)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    copies = [a.copy() for a in (f, dy, b)]
    for impl in (fastconv, reference):
        impl.conv2d_backprop_input((2, 8, 8, 4), f, dy, 2, "SAME")
        impl.conv2d_transpose(dy, f, (2, 8, 8, 4), 2, "SAME", bias=b, activation="tanh")
        impl.depthwise_conv2d_backprop_input(
            (2, 8, 8, 6), f[:, :, :, :1].repeat(6, 2)[:, :, :6], dy, 2, "SAME"
        )
    for a, c in zip((f, dy, b), copies):
        np.testing.assert_array_equal(a, c)
