"""The gradient ops in PyTorch's and ONNX's conventions: OIHW filters (grouped and
depthwise), PyTorch's int / (h, w) padding, ONNX's padding="NOTSET" with pads, and
conv2d_transpose with PyTorch's conv_transpose2d weight and output_padding. Compared with
torch.nn.grad.conv2d_input / conv2d_weight, torch.nn.functional.conv_transpose2d and ONNX's
reference evaluator (ConvTranspose) over seeded sweeps; each result also against the
reference, and the NHWC fast path against the NCHW one."""

from __future__ import annotations

import numpy as np
import pytest

import fastconv
from fastconv import reference, testing
from peer_ops import onnx_run, torch_f, torch_run  # noqa: F401 (fixture)

SWEEP = 100  # cases per sweep


def draw(rng, depthwise=False):
    """x NCHW, an OIHW weight (grouped, or depthwise [C * M, 1, kh, kw]), strides,
    dilations, symmetric (h, w) padding (PyTorch's), groups."""
    if depthwise:
        groups = cin = int(rng.integers(1, 6))
        cout = cin * int(rng.integers(1, 4))
    else:
        groups = int(rng.integers(1, 4))
        cin, cout = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    k = tuple(int(v) for v in rng.integers(1, 4, 2))
    s = tuple(int(v) for v in rng.integers(1, 3, 2))
    d = tuple(int(v) for v in rng.integers(1, 3, 2))
    p = tuple(int(v) for v in rng.integers(0, 3, 2))
    eff = tuple((ki - 1) * di + 1 for ki, di in zip(k, d))
    shape = (
        int(rng.integers(1, 3)),
        cin,
        *(int(max(e - 2 * pi, 1) + rng.integers(0, 7)) for e, pi in zip(eff, p)),
    )
    dtype = (np.float32, np.float64)[rng.integers(2)]
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((cout, cin // groups, *k)).astype(dtype)
    return x, w, s, d, p, groups


def _pads(p):
    """PyTorch's symmetric (h, w) as ONNX's pads [top, left, bottom, right]."""
    return [p[0], p[1], p[0], p[1]]


def ours(name, args, padding, **options):
    """fastconv's NCHW result of gradient op `name` (the reference's within the tolerance,
    the NHWC fast path's the same, and ONNX's pads= spelling the same)."""
    fast, ref = getattr(fastconv, name), getattr(reference, name)
    options = dict(options, data_format="NCHW", filter_format="OIHW")
    got = fast(*args, padding, **options)
    testing.assert_allclose(got, ref(*args, padding, **options), reduction=REDUCTION[name](args))
    pads = fast(*args, "NOTSET", pads=_pads(padding), **options)
    np.testing.assert_array_equal(pads, got)
    return got


REDUCTION = {
    "conv2d_backprop_input": lambda a: a[1].shape[0] * a[1].shape[2] * a[1].shape[3],
    "depthwise_conv2d_backprop_input": lambda a: a[1].shape[0] * a[1].shape[2] * a[1].shape[3],
    "conv2d_backprop_filter": lambda a: a[2].shape[0] * a[2].shape[2] * a[2].shape[3],
    "depthwise_conv2d_backprop_filter": lambda a: a[2].shape[0] * a[2].shape[2] * a[2].shape[3],
}


@pytest.mark.parametrize("depthwise", [False, True], ids=["grouped", "depthwise"])
def test_gradients_against_torch_nn_grad(torch_f, depthwise):
    import torch

    rng = np.random.default_rng(1411 + depthwise)
    prefix = "depthwise_" if depthwise else ""
    for _ in range(SWEEP):
        x, w, s, d, p, groups = draw(rng, depthwise)
        y = torch_run(torch_f.conv2d, x, w, stride=s, padding=p, dilation=d, groups=groups)
        dy = rng.standard_normal(y.shape).astype(x.dtype)
        kw = dict(stride=s, padding=p, dilation=d, groups=groups)
        want_dx = torch.nn.grad.conv2d_input(
            x.shape, torch.from_numpy(w), torch.from_numpy(dy), **kw
        ).numpy()
        want_dw = torch.nn.grad.conv2d_weight(
            torch.from_numpy(x), w.shape, torch.from_numpy(dy), **kw
        ).numpy()
        what = f"{x.shape} {w.shape} {s} {p} {d} {groups}"
        dx = ours(prefix + "conv2d_backprop_input", (x.shape, w, dy, s), p, dilations=d)
        testing.assert_allclose(
            dx, want_dx, reduction=REDUCTION["conv2d_backprop_input"]((x.shape, w)), err_msg=what
        )
        dw = ours(prefix + "conv2d_backprop_filter", (x, w.shape, dy, s), p, dilations=d)
        testing.assert_allclose(
            dw,
            want_dw,
            reduction=REDUCTION["conv2d_backprop_filter"]((x, w.shape, dy)),
            err_msg=what,
        )


def test_conv2d_transpose_against_torch_and_onnx(torch_f):
    """PyTorch's conv_transpose2d weight [in, out / groups, kh, kw] as it is
    (filter_format="OIHW"), its padding and output_padding; one group (conv2d_transpose
    needs output_shape for more)."""
    rng = np.random.default_rng(1413)
    compared = 0
    for _ in range(SWEEP):
        k = tuple(int(v) for v in rng.integers(1, 4, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        d = tuple(int(v) for v in rng.integers(1, 3, 2))
        p = tuple(int(rng.integers(0, (ki - 1) * di + 1)) for ki, di in zip(k, d))
        op = tuple(int(rng.integers(0, si)) for si in s)
        cin, cout = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        dtype = (np.float32, np.float64)[rng.integers(2)]
        x = rng.standard_normal(
            (int(rng.integers(1, 3)), cin, *(int(v) for v in rng.integers(1, 7, 2)))
        ).astype(dtype)
        w = rng.standard_normal((cin, cout, *k)).astype(dtype)
        b = rng.standard_normal(cout).astype(dtype)
        try:
            want = torch_run(
                torch_f.conv_transpose2d,
                x,
                w,
                b,
                stride=s,
                padding=p,
                output_padding=op,
                dilation=d,
            )
        except RuntimeError:  # a negative output size, or output_padding PyTorch refuses
            continue
        options = dict(
            data_format="NCHW", dilations=d, filter_format="OIHW", bias=b, output_padding=op
        )
        try:
            got = fastconv.conv2d_transpose(x, w, None, s, p, **options)
        except ValueError as error:  # what PyTorch takes and fastconv refuses: none here
            raise AssertionError(f"{x.shape} {w.shape} {s} {p} {op} {d}") from error
        reduction = k[0] * k[1] * cin + 1
        testing.assert_allclose(got, want, reduction=reduction)
        testing.assert_allclose(
            got, reference.conv2d_transpose(x, w, None, s, p, **options), reduction=reduction
        )
        onnx = onnx_run(
            "ConvTranspose",
            {"X": x, "W": w, "B": b},
            strides=list(s),
            dilations=list(d),
            pads=_pads(p),
            output_padding=list(op),
            kernel_shape=list(k),
        )
        testing.assert_allclose(got, onnx, reduction=reduction)
        np.testing.assert_array_equal(
            fastconv.conv2d_transpose(x, w, None, s, "NOTSET", pads=_pads(p), **options), got
        )
        compared += 1
    assert compared > SWEEP * 0.6, compared


@pytest.mark.parametrize("module", [fastconv, reference], ids=["fast", "reference"])
def test_bad_gradient_conventions_are_clear_errors(module):
    x = np.ones((1, 4, 5, 5), np.float32)
    dy = np.ones((1, 6, 3, 3), np.float32)
    with pytest.raises(ValueError, match="filter_format"):
        module.conv2d_backprop_input(
            x.shape,
            np.ones((6, 2, 3, 3), np.float32),
            dy,
            1,
            "VALID",
            data_format="NCHW",
            filter_format="IOHW",
        )
    with pytest.raises(ValueError, match="NOTSET"):
        module.conv2d_backprop_filter(
            x,
            (6, 2, 3, 3),
            dy,
            1,
            "SAME",
            data_format="NCHW",
            filter_format="OIHW",
            pads=[1, 1, 1, 1],
        )
    with pytest.raises(ValueError, match=r"\[in_channels \* multiplier, 1"):
        module.depthwise_conv2d_backprop_filter(
            x, (6, 1, 3, 3), dy, 1, "VALID", data_format="NCHW", filter_format="OIHW"
        )
    with pytest.raises(ValueError, match="out_backprop has shape"):
        module.depthwise_conv2d_backprop_input(
            x.shape,
            np.ones((8, 1, 3, 3), np.float32),
            dy,
            1,
            "VALID",
            data_format="NCHW",
            filter_format="OIHW",
        )
