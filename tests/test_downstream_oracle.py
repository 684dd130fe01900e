"""fastconv as another project's test oracle, written as that project would: only public API
(fastconv.reference, fastconv.testing), hypothesis drawing the calls. Two implementations
under test: a naive NumPy convolution written here, and a PyTorch layer (torch.nn.Conv2d)
with its weights converted from the HWIO filter. Both must match the reference within
fastconv.testing's tolerance on every drawn call; the same checks must fail on a naive
convolution with a classic bug. The gradients too: a naive input gradient, and a PyTorch
layer's autograd gradients, through the gradient strategies."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from fastconv import reference, testing


def naive_conv2d(x, w, strides, padding, dilations):
    """Cross-correlation of an NHWC input with an HWIO filter (groups = C / w.shape[2]),
    explicit ((top, bottom), (left, right)) or "VALID" padding: four loops, no tricks."""
    (top, bottom), (left, right) = ((0, 0), (0, 0)) if padding == "VALID" else padding
    xp = np.pad(x.astype(np.float64), ((0, 0), (top, bottom), (left, right), (0, 0)))
    kh, kw, cg, out_c = w.shape
    groups = x.shape[3] // cg
    og = out_c // groups
    oh = (xp.shape[1] - (kh - 1) * dilations[0] - 1) // strides[0] + 1
    ow = (xp.shape[2] - (kw - 1) * dilations[1] - 1) // strides[1] + 1
    y = np.zeros((x.shape[0], oh, ow, out_c))
    for oy in range(oh):
        for ox in range(ow):
            for i in range(kh):
                for j in range(kw):
                    pixel = xp[
                        :, oy * strides[0] + i * dilations[0], ox * strides[1] + j * dilations[1], :
                    ]
                    for g in range(groups):
                        y[:, oy, ox, g * og : (g + 1) * og] += (
                            pixel[:, g * cg : (g + 1) * cg] @ w[i, j, :, g * og : (g + 1) * og]
                        )
    return y.astype(x.dtype)


NHWC_CALLS = testing.conv2d_args(
    data_formats=("NHWC",), paddings=("VALID", "explicit"), max_size=8, max_batch=2
)


@settings(max_examples=60, deadline=None)
@given(NHWC_CALLS)
def test_naive_numpy_convolution(call):
    x, w, strides, padding, _, dilations = call.args
    got = naive_conv2d(x, w, strides, padding, dilations)
    assert got.shape == call.output_shape
    testing.assert_allclose(got, call.run(reference), reduction=call.reduction, scale=call.scale)


def test_a_bug_in_the_naive_convolution_is_caught():
    """The check is not vacuous: a flipped kernel (convolution instead of correlation) fails."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 6, 6, 2)).astype(np.float32)
    w = rng.standard_normal((3, 3, 2, 2)).astype(np.float32)
    flipped = naive_conv2d(x, w[::-1, ::-1], (1, 1), "VALID", (1, 1))
    with pytest.raises(AssertionError, match="differ by more than allowed"):
        testing.assert_allclose(
            flipped, reference.conv2d(x, w), reduction=testing.reduction_length("conv2d", w)
        )


def torch_layer_from_hwio(torch, w, b, strides, dilations, groups):
    """torch.nn.Conv2d holding an HWIO filter's weights ([O, I/g, kh, kw]) and bias."""
    layer = torch.nn.Conv2d(
        w.shape[2] * groups,
        w.shape[3],
        w.shape[:2],
        stride=strides,
        dilation=dilations,
        groups=groups,
        bias=True,
        dtype=torch.float64 if w.dtype == np.float64 else torch.float32,
    )
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1))))
        layer.bias.copy_(torch.from_numpy(b))
    return layer


@settings(max_examples=60, deadline=None)
@given(testing.conv2d_args(data_formats=("NCHW",), paddings=("VALID", "explicit"), bias=True))
def test_pytorch_conv2d_layer(call):
    torch = pytest.importorskip("torch")
    x, w, strides, padding, _, dilations = call.args
    groups = x.shape[1] // w.shape[2]
    layer = torch_layer_from_hwio(torch, w, call.kwargs["bias"], strides, dilations, groups)
    (top, bottom), (left, right) = ((0, 0), (0, 0)) if padding == "VALID" else padding
    with torch.no_grad():  # PyTorch pads symmetrically: explicit pairs go through F.pad
        xt = torch.nn.functional.pad(torch.from_numpy(x), (left, right, top, bottom))
        got = layer(xt).numpy()
    assert got.shape == call.output_shape
    testing.assert_allclose(got, call.run(reference), reduction=call.reduction, scale=call.scale)


# The gradients: a hand-written input gradient, and a PyTorch layer's autograd gradients,
# checked through the gradient strategies.


def naive_conv2d_backprop_input(sizes, w, dy, strides, padding, dilations):
    """The input gradient of naive_conv2d: every output's dy scattered back through every
    tap, into a padded input whose padding is cut off at the end."""
    (top, bottom), (left, right) = ((0, 0), (0, 0)) if padding == "VALID" else padding
    n, h, wd, c = sizes
    kh, kw, cg, out_c = w.shape
    groups = c // cg
    og = out_c // groups
    dx = np.zeros((n, h + top + bottom, wd + left + right, c))
    for oy in range(dy.shape[1]):
        for ox in range(dy.shape[2]):
            for i in range(kh):
                for j in range(kw):
                    y, x = oy * strides[0] + i * dilations[0], ox * strides[1] + j * dilations[1]
                    for g in range(groups):
                        dx[:, y, x, g * cg : (g + 1) * cg] += (
                            dy[:, oy, ox, g * og : (g + 1) * og]
                            @ w[i, j, :, g * og : (g + 1) * og].T
                        )
    return dx[:, top : top + h, left : left + wd].astype(dy.dtype)


@settings(max_examples=40, deadline=None)
@given(
    testing.conv2d_backprop_input_args(
        data_formats=("NHWC",), paddings=("VALID", "explicit"), max_size=8
    )
)
def test_naive_numpy_input_gradient(call):
    sizes, w, dy, strides, padding = call.args
    got = naive_conv2d_backprop_input(sizes, w, dy, strides, padding, call.kwargs["dilations"])
    assert got.shape == call.output_shape
    testing.assert_allclose(got, call.run(reference), reduction=call.reduction, scale=call.scale)


@settings(max_examples=40, deadline=None)
@given(
    testing.conv2d_backprop_filter_args(
        data_formats=("NCHW",), paddings=("torch",), filter_formats=("OIHW",)
    )
)
def test_pytorch_conv2d_layer_gradients(call):
    """autograd through torch.nn.Conv2d (PyTorch's padding and OIHW weight, as drawn): its
    weight gradient is the drawn conv2d_backprop_filter call's, its input gradient the
    conv2d_backprop_input call with the same geometry."""
    torch = pytest.importorskip("torch")
    x, sizes, dy, strides, padding = call.args
    dilations = call.kwargs["dilations"]
    groups = x.shape[1] // sizes[1]
    layer = torch.nn.Conv2d(
        x.shape[1],
        sizes[0],
        sizes[2:],
        stride=strides,
        padding=padding,
        dilation=dilations,
        groups=groups,
        bias=False,
        dtype=torch.float64 if x.dtype == np.float64 else torch.float32,
    )
    xt = torch.from_numpy(x).requires_grad_()
    layer(xt).backward(torch.from_numpy(dy))
    dw = layer.weight.grad.numpy()
    assert dw.shape == call.output_shape
    testing.assert_allclose(dw, call.run(reference), reduction=call.reduction, scale=call.scale)
    w = layer.weight.detach().numpy()
    dx = reference.conv2d_backprop_input(x.shape, w, dy, strides, padding, **call.kwargs)
    testing.assert_allclose(
        xt.grad.numpy(),
        dx,
        reduction=testing.reduction_length(
            "conv2d_backprop_input", w, groups=groups, filter_format="OIHW"
        ),
    )
