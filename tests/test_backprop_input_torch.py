"""The input gradients where TensorFlow's CPU ops cannot go, against PyTorch: NCHW,
dilation together with stride, grouped convolutions (torch.nn.grad.conv2d_input), and
conv2d_transpose with PyTorch's output_padding (torch.nn.functional.conv_transpose2d).
PyTorch is not in the test extra (its PyPI wheels pull in CUDA): without it this file is
skipped, and test_backprop_input_props.py still checks the same geometry against the
reference."""

from __future__ import annotations

import numpy as np
import pytest

import fastconv
from _cases import covering
from tolerance import assert_close

torch = pytest.importorskip("torch")


def _torch_pad(p):
    """A symmetric explicit padding as fastconv's pairs."""
    return [[p[0], p[0]], [p[1], p[1]]]


CASES = covering(
    40,
    seed=21,
    kernel=[(1, 1), (2, 2), (3, 3), (5, 5), (7, 7), (3, 1), (2, 4)],
    stride=[(1, 1), (2, 2), (3, 3), (2, 1), (4, 4)],
    dilation=[(1, 1), (2, 2), (3, 3), (1, 2)],
    pad=[(0, 0), (1, 1), (2, 2), (3, 1)],
    size=[(11, 11), (14, 9), (17, 20), (24, 24)],
    groups=[1, 1, 2, 3, 4],
    cpg=[1, 2, 5, 8],
    opg=[1, 3, 4],
    batch=[1, 2],
    data_format=["NCHW", "NHWC"],
    dtype=["float32", "float64"],
)


def _torch_problem(rng, case):
    """(x shape NCHW, torch weight [O, C/g, kh, kw], dy NCHW) for the case."""
    g, (kh, kw) = case["groups"], case["kernel"]
    c, o = case["cpg"] * g, case["opg"] * g
    size = [
        max(n, (k - 1) * d + 1 - 2 * p)  # grown until the window fits
        for n, k, d, p in zip(case["size"], case["kernel"], case["dilation"], case["pad"])
    ]
    x = torch.zeros((case["batch"], c, *size), dtype=getattr(torch, case["dtype"]))
    w = torch.tensor(rng.standard_normal((o, c // g, kh, kw)).astype(case["dtype"]))
    y = torch.nn.functional.conv2d(
        x, w, stride=case["stride"], padding=case["pad"], dilation=case["dilation"], groups=g
    )
    dy = torch.tensor(rng.standard_normal(tuple(y.shape)).astype(case["dtype"]))
    return tuple(x.shape), w, dy


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv2d_backprop_input_matches_torch(rng, case):
    x_shape, w, dy = _torch_problem(rng, case)
    expected = torch.nn.grad.conv2d_input(
        x_shape,
        w,
        dy,
        stride=case["stride"],
        padding=case["pad"],
        dilation=case["dilation"],
        groups=case["groups"],
    ).numpy()
    f = w.numpy().transpose(2, 3, 1, 0)  # OIHW -> HWIO
    dyn, sizes = dy.numpy(), list(x_shape)
    if case["data_format"] == "NHWC":
        dyn, sizes = dyn.transpose(0, 2, 3, 1), [sizes[0], sizes[2], sizes[3], sizes[1]]
    got = fastconv.conv2d_backprop_input(
        sizes,
        f,
        dyn,
        case["stride"],
        _torch_pad(case["pad"]),
        data_format=case["data_format"],
        dilations=case["dilation"],
    )
    if case["data_format"] == "NHWC":
        got = got.transpose(0, 3, 1, 2)
    assert_close(got, expected, f.shape[0] * f.shape[1] * case["opg"], f.dtype, str(case))


@pytest.mark.parametrize("case", CASES[:20], ids=str)
def test_conv2d_transpose_output_padding_matches_torch(rng, case):
    """PyTorch's recipe: filters w.permute(2, 3, 1, 0), padding [[p, p], [p, p]],
    output_shape None, output_padding op (the largest value below the stride)."""
    g, (kh, kw) = case["groups"], case["kernel"]
    cin, cout = case["opg"] * g, case["cpg"]  # one group: output_shape=None infers none
    x = torch.tensor(rng.standard_normal((case["batch"], cin, 5, 6)).astype(case["dtype"]))
    w = torch.tensor(rng.standard_normal((cin, cout, kh, kw)).astype(case["dtype"]))
    op = tuple(s - 1 for s in case["stride"])
    p = case["pad"]
    b = torch.tensor(rng.standard_normal(cout).astype(case["dtype"]))
    expected = torch.nn.functional.conv_transpose2d(
        x, w, b, stride=case["stride"], padding=p, output_padding=op, dilation=case["dilation"]
    ).numpy()
    got = fastconv.conv2d_transpose(
        x.numpy(),
        w.numpy().transpose(2, 3, 1, 0),
        None,
        case["stride"],
        _torch_pad(p),
        data_format="NCHW",
        dilations=case["dilation"],
        bias=b.numpy(),
        output_padding=op,
    )
    assert_close(got, expected, kh * kw * cin, got.dtype, str(case))


def test_grouped_conv2d_transpose_with_output_shape(rng):
    """A grouped transposed convolution: output_shape gives the groups (channels 6 over
    filters.shape[2] 2: three groups), as PyTorch's groups=3."""
    x = rng.standard_normal((2, 9, 5, 5)).astype(np.float32)
    w = rng.standard_normal((9, 2, 3, 3)).astype(np.float32)  # [in, out / groups, kh, kw]
    expected = torch.nn.functional.conv_transpose2d(
        torch.tensor(x), torch.tensor(w), stride=2, padding=1, output_padding=1, groups=3
    )
    got = fastconv.conv2d_transpose(
        x, w.transpose(2, 3, 1, 0), expected.shape, 2, [[1, 1], [1, 1]], data_format="NCHW"
    )
    assert_close(got, expected.numpy(), 9 * 3, np.float32)
