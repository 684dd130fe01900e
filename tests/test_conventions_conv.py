"""conv2d and depthwise_conv2d in PyTorch's and ONNX's conventions: OIHW (grouped) filters,
PyTorch's int / (h, w) and "same" padding, ONNX's auto_pad spellings and pads. Compared with
torch.nn.functional.conv2d and ONNX's reference evaluator (Conv) over seeded sweeps."""

from __future__ import annotations

import numpy as np
import pytest

import fastconv
from fastconv import reference
from peer_ops import onnx_run, torch_f, torch_run  # noqa: F401 (fixture)
from tolerance import assert_close

SWEEP = 150  # cases per sweep


def ours(x, w, strides, padding, dilations, bias=None, **options):
    """fastconv's NCHW result for an OIHW filter, after checking that the NHWC fast path
    and the reference agree and that no input was modified."""
    before = (x.copy(), w.copy())
    got = fastconv.conv2d(
        x, w, strides, padding, "NCHW", dilations, filter_format="OIHW", bias=bias, **options
    )
    nhwc = fastconv.conv2d(
        np.ascontiguousarray(x.transpose(0, 2, 3, 1)),
        w,
        strides,
        padding,
        "NHWC",
        dilations,
        filter_format="oihw",
        bias=bias,
        **options,
    )
    ref = reference.conv2d(
        x, w, strides, padding, "NCHW", dilations, filter_format="OIHW", bias=bias, **options
    )
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(w, before[1])
    reduction = int(np.prod(w.shape[1:]))
    assert_close(got, ref, reduction, got.dtype)
    assert_close(nhwc.transpose(0, 3, 1, 2), ref, reduction, got.dtype)
    return got


def draw(rng, padding_forms):
    """A grouped convolution: x NCHW, w OIHW, strides, dilations, bias, and a padding
    drawn from padding_forms(rng, eff_k, strides)."""
    groups = int(rng.integers(1, 4))
    cin, cout = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    k = tuple(int(v) for v in rng.integers(1, 4, 2))
    s = tuple(int(v) for v in rng.integers(1, 3, 2))
    d = tuple(int(v) for v in rng.integers(1, 3, 2))
    eff = tuple((ki - 1) * di + 1 for ki, di in zip(k, d))
    shape = (int(rng.integers(1, 3)), cin, *(int(e + rng.integers(0, 8)) for e in eff))
    dtype = (np.float32, np.float64)[rng.integers(2)]
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((cout, cin // groups, *k)).astype(dtype)
    bias = rng.standard_normal(cout).astype(dtype) if rng.integers(2) else None
    return x, w, s, d, bias, padding_forms(rng, eff, s), groups


def torch_padding(rng, eff, s):
    form = rng.integers(4)
    if form == 0:
        return int(rng.integers(0, 3))
    if form == 1:
        return tuple(int(v) for v in rng.integers(0, 3, 2))
    return "same" if form == 2 and s == (1, 1) else "valid"


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note on its copy
def test_sweep_against_pytorch(torch_f):
    rng = np.random.default_rng(1403)
    for _ in range(SWEEP):
        x, w, s, d, bias, padding, groups = draw(rng, torch_padding)
        want = torch_run(
            torch_f.conv2d, x, w, bias, stride=s, padding=padding, dilation=d, groups=groups
        )
        got = ours(x, w, s, padding, d, bias)
        assert_close(
            got,
            want,
            int(np.prod(w.shape[1:])),
            x.dtype,
            err_msg=f"{x.shape} {w.shape} {s} {padding} {d}",
        )


def onnx_padding(rng, eff, s):
    """(padding, pads, ONNX attributes)"""
    auto_pad = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")[rng.integers(4)]
    if auto_pad != "NOTSET":
        return auto_pad, None, {"auto_pad": auto_pad}
    pads = [int(rng.integers(0, 3)) for _ in range(4)]  # [top, left, bottom, right]
    return "NOTSET", pads, {"pads": pads}


def onnx_conv(x, w, bias, s, d, attrs, groups):
    """ONNX's reference Conv of an NCHW x and OIHW w (bias optional) with these attributes."""
    inputs = {"X": x, "W": w} if bias is None else {"X": x, "W": w, "B": bias}
    return onnx_run(
        "Conv",
        inputs,
        strides=list(s),
        dilations=list(d),
        group=groups,
        kernel_shape=list(w.shape[2:]),
        **attrs,
    )


def test_sweep_against_onnx_reference():
    rng = np.random.default_rng(1404)
    for _ in range(SWEEP):
        x, w, s, d, bias, (padding, pads, attrs), groups = draw(rng, onnx_padding)
        want = onnx_conv(x, w, bias, s, d, attrs, groups)
        got = ours(x, w, s, padding, d, bias, pads=pads)
        assert_close(
            got,
            want,
            int(np.prod(w.shape[1:])),
            x.dtype,
            err_msg=f"{x.shape} {w.shape} {s} {d} {attrs}",
        )


@pytest.mark.parametrize("algorithm", ["direct", "im2col", "winograd"])
def test_oihw_is_the_hwio_filter_transposed(algorithm, rng):
    # bit-identical to the same filter given as HWIO: OIHW only changes how it is read
    x = rng.standard_normal((2, 9, 10, 8)).astype(np.float32)
    hwio = rng.standard_normal((3, 3, 8, 16)).astype(np.float32)
    oihw = np.ascontiguousarray(hwio.transpose(3, 2, 0, 1))
    want = fastconv.conv2d(x, hwio, 1, "SAME", algorithm=algorithm)
    np.testing.assert_array_equal(
        fastconv.conv2d(x, oihw, 1, "SAME", filter_format="OIHW", algorithm=algorithm), want
    )
    # a non-contiguous OIHW view too
    np.testing.assert_array_equal(
        fastconv.conv2d(
            x, hwio.transpose(3, 2, 0, 1), 1, "SAME", filter_format="OIHW", algorithm=algorithm
        ),
        want,
    )


def test_depthwise_takes_the_same_padding_spellings(rng):
    x = rng.standard_normal((1, 7, 8, 3)).astype(np.float32)
    f = rng.standard_normal((3, 2, 3, 2)).astype(np.float32)
    for padding, pads, pairs in (
        (1, None, [[1, 1], [1, 1]]),
        ((2, 0), None, [[2, 2], [0, 0]]),
        ("NOTSET", [1, 0, 2, 1], [[1, 2], [0, 1]]),
        ("SAME_LOWER", None, [[1, 1], [1, 0]]),
    ):
        want = reference.depthwise_conv2d(x, f, 1, pairs)
        for fn in (fastconv.depthwise_conv2d, reference.depthwise_conv2d):
            assert_close(fn(x, f, 1, padding, pads=pads), want, 6, np.float32)


def test_same_lower_puts_the_odd_cell_first():
    # one input row of 4, window 2, stride 1: SAME pads 1 cell, at the end (TF, ONNX
    # SAME_UPPER) or at the start (SAME_LOWER): the sums of neighbours shift by one
    x = np.array([1.0, 2.0, 4.0, 8.0]).reshape(1, 1, 4, 1)
    w = np.ones((1, 2, 1, 1))
    upper = fastconv.conv2d(x, w, 1, "SAME_UPPER")[0, 0, :, 0]
    lower = fastconv.conv2d(x, w, 1, "same_lower")[0, 0, :, 0]
    np.testing.assert_array_equal(upper, fastconv.conv2d(x, w, 1, "SAME")[0, 0, :, 0])
    np.testing.assert_array_equal(lower, reference.conv2d(x, w, 1, [[0, 0], [1, 0]])[0, 0, :, 0])
    np.testing.assert_array_equal(upper, reference.conv2d(x, w, 1, [[0, 0], [0, 1]])[0, 0, :, 0])


@pytest.mark.parametrize("module", [fastconv, reference], ids=["fast", "reference"])
def test_bad_filter_formats_and_padding_are_clear_errors(module):
    x = np.ones((1, 3, 5, 5), np.float32)
    w = np.ones((4, 3, 3, 3), np.float32)
    with pytest.raises(ValueError, match="filter_format"):
        module.conv2d(x, w, 1, "VALID", "NCHW", filter_format="IOHW")
    with pytest.raises(ValueError, match=r"filters.shape\[1\]"):
        module.conv2d(
            x, np.ones((4, 2, 3, 3), np.float32), 1, "VALID", "NCHW", filter_format="OIHW"
        )
    with pytest.raises(ValueError, match="NOTSET"):
        module.conv2d(x, w, 1, "SAME", "NCHW", filter_format="OIHW", pads=[1, 1, 1, 1])
    with pytest.raises(ValueError, match="4 ints"):
        module.conv2d(x, w, 1, [1, 1, 1, 1], "NCHW", filter_format="OIHW")


# ---------------------------------------------------------------- depthwise, OIHW


def ours_depthwise(x, w, strides, padding, dilations, bias=None, **options):
    """depthwise_conv2d's NCHW result for PyTorch's depthwise weight [C * M, 1, kh, kw]
    (filter_format="OIHW"), after checking the NHWC fast path and the reference against it
    and that it is the HWIO [kh, kw, C, M] filter's result, bit for bit."""
    before = (x.copy(), w.copy())
    c, m = x.shape[1], w.shape[0] // x.shape[1]
    got = fastconv.depthwise_conv2d(
        x, w, strides, padding, "NCHW", dilations, filter_format="OIHW", bias=bias, **options
    )
    nhwc = fastconv.depthwise_conv2d(
        np.ascontiguousarray(x.transpose(0, 2, 3, 1)),
        w,
        strides,
        padding,
        "NHWC",
        dilations,
        filter_format="oihw",
        bias=bias,
        **options,
    )
    hwio = w.transpose(2, 3, 1, 0).reshape(w.shape[2], w.shape[3], c, m)
    np.testing.assert_array_equal(
        fastconv.depthwise_conv2d(
            x, hwio, strides, padding, "NCHW", dilations, bias=bias, **options
        ),
        got,
    )
    ref = reference.depthwise_conv2d(
        x, w, strides, padding, "NCHW", dilations, filter_format="OIHW", bias=bias, **options
    )
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(w, before[1])
    reduction = int(np.prod(w.shape[2:]))
    assert_close(got, ref, reduction, got.dtype)
    assert_close(nhwc.transpose(0, 3, 1, 2), ref, reduction, got.dtype)
    return got


def draw_depthwise(rng, padding_forms):
    """x NCHW, PyTorch's depthwise w [C * M, 1, kh, kw], strides, dilations, bias, padding."""
    c, m = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    k = tuple(int(v) for v in rng.integers(1, 4, 2))
    s = tuple(int(v) for v in rng.integers(1, 3, 2))
    d = tuple(int(v) for v in rng.integers(1, 3, 2))
    eff = tuple((ki - 1) * di + 1 for ki, di in zip(k, d))
    shape = (int(rng.integers(1, 3)), c, *(int(e + rng.integers(0, 8)) for e in eff))
    dtype = (np.float32, np.float64)[rng.integers(2)]
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((c * m, 1, *k)).astype(dtype)
    bias = rng.standard_normal(c * m).astype(dtype) if rng.integers(2) else None
    return x, w, s, d, bias, padding_forms(rng, eff, s)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_depthwise_oihw_sweep_against_pytorch_groups_c(torch_f):
    rng = np.random.default_rng(1407)
    for _ in range(SWEEP):
        x, w, s, d, bias, padding = draw_depthwise(rng, torch_padding)
        want = torch_run(
            torch_f.conv2d, x, w, bias, stride=s, padding=padding, dilation=d, groups=x.shape[1]
        )
        got = ours_depthwise(x, w, s, padding, d, bias)
        assert_close(
            got,
            want,
            int(np.prod(w.shape[2:])),
            x.dtype,
            err_msg=f"{x.shape} {w.shape} {s} {padding} {d}",
        )


def test_depthwise_oihw_sweep_against_onnx_conv_group_c():
    rng = np.random.default_rng(1408)
    for _ in range(SWEEP):
        x, w, s, d, bias, (padding, pads, attrs) = draw_depthwise(rng, onnx_padding)
        want = onnx_conv(x, w, bias, s, d, attrs, groups=x.shape[1])
        got = ours_depthwise(x, w, s, padding, d, bias, pads=pads)
        assert_close(
            got,
            want,
            int(np.prod(w.shape[2:])),
            x.dtype,
            err_msg=f"{x.shape} {w.shape} {s} {d} {attrs}",
        )


@pytest.mark.parametrize("module", [fastconv, reference], ids=["fast", "reference"])
def test_bad_depthwise_oihw_filters_are_clear_errors(module):
    x = np.ones((1, 3, 5, 5), np.float32)
    for shape in ((6, 2, 3, 3), (7, 1, 3, 3), (6, 1, 3)):
        with pytest.raises(ValueError, match=r"\[in_channels \* multiplier, 1"):
            module.depthwise_conv2d(
                x, np.ones(shape, np.float32), 1, "VALID", "NCHW", filter_format="OIHW"
            )
    with pytest.raises(ValueError, match="filter_format"):
        module.depthwise_conv2d(
            x, np.ones((6, 1, 3, 3), np.float32), 1, "VALID", "NCHW", filter_format="HWOI"
        )
    assert fastconv.testing.output_shape(
        "depthwise_conv2d", x.shape, (6, 1, 3, 3), 1, "VALID", "NCHW", filter_format="OIHW"
    ) == (1, 6, 3, 3)
