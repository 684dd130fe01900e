"""Reference gradients with respect to the filter: conv2d_backprop_filter and
depthwise_conv2d_backprop_filter in plain NumPy (float64 accumulation, one rounding).

Written independently of the fast kernels and of the forward reference: for each filter tap,
the output pixels whose tap reads a real input cell are gathered with the cells they read,
and the tap's gradient is one einsum of the two. Taps over padding are left out, not
multiplied by a zero: an Inf or NaN in out_backprop there cannot turn into NaN (the
non-finite contract of docs/non-finite.md, and TensorFlow's result). Only the geometry and
the argument checks are shared with the fast path.
"""

from __future__ import annotations

import numpy as np

from ._arrays import check_out, float_array, result_dtype
from ._geometry import (
    check_name,
    check_out_backprop,
    conv_shape,
    depthwise_shape,
    nhwc_axes,
    normalize_data_format,
    normalize_filter_format,
    sizes_arg,
)

__all__ = ["conv2d_backprop_filter", "depthwise_conv2d_backprop_filter"]

# Inf - Inf, 0 * Inf and sums beyond the dtype's range are the IEEE results of the
# non-finite contract (docs/non-finite.md): not worth a warning, as in fastconv.reference.
_IEEE = np.errstate(invalid="ignore", over="ignore")


@_IEEE
def conv2d_backprop_filter(
    input,
    filter_sizes,
    out_backprop,
    strides,
    padding,
    *,
    data_format="NHWC",
    dilations=1,
    filter_format="HWIO",
    pads=None,
    return_bias_grad=False,
    name=None,
    out=None,
):
    """Reference tf.compat.v1.nn.conv2d_backprop_filter: the gradient of
    sum(conv2d(input, w) * out_backprop) with respect to w, of shape filter_sizes
    (HWIO, groups = C / filter_sizes[2]). With return_bias_grad, also the bias gradient
    (out_backprop summed over batch and pixels): returns (filter_grad, bias_grad).
    filter_format="OIHW": filter_sizes and the result [out, in / groups, kh, kw]."""
    x, dy, shape, x64, dy64 = _arguments(
        conv_shape,
        input,
        filter_sizes,
        out_backprop,
        strides,
        padding,
        data_format,
        dilations,
        name,
        filter_format,
        pads,
    )
    sizes = _hwio_sizes(shape)
    grad = np.zeros(sizes)
    cg, og = sizes[2], shape.out_channels // shape.groups
    for ky, kx, cells, dys in _real_taps(x64, dy64, shape.win):
        for g in range(shape.groups):
            grad[ky, kx, :, g * og : (g + 1) * og] = np.einsum(
                "nyxc,nyxo->co", cells[..., g * cg : (g + 1) * cg], dys[..., g * og : (g + 1) * og]
            )
    return _deliver(
        _oriented(grad, filter_format, filter_sizes),
        dy64,
        result_dtype(x, dy),
        out,
        return_bias_grad,
    )


@_IEEE
def depthwise_conv2d_backprop_filter(
    input,
    filter_sizes,
    out_backprop,
    strides,
    padding,
    *,
    data_format="NHWC",
    dilations=1,
    filter_format="HWIO",
    pads=None,
    return_bias_grad=False,
    name=None,
    out=None,
):
    """Reference tf.nn.depthwise_conv2d_backprop_filter: filter_sizes
    [kh, kw, in_channels, channel_multiplier], out_backprop channel c * multiplier + m;
    filter_format="OIHW": PyTorch's [in_channels * multiplier, 1, kh, kw]."""
    x, dy, shape, x64, dy64 = _arguments(
        depthwise_shape,
        input,
        filter_sizes,
        out_backprop,
        strides,
        padding,
        data_format,
        dilations,
        name,
        filter_format,
        pads,
    )
    c = shape.win.channels
    sizes = (shape.win.k_h, shape.win.k_w, c, shape.out_channels // c)
    grad = np.zeros(sizes)
    for ky, kx, cells, dys in _real_taps(x64, dy64, shape.win):
        per_channel = dys.reshape(dys.shape[:3] + (sizes[2], sizes[3]))
        grad[ky, kx] = np.einsum("nyxc,nyxcm->cm", cells, per_channel)
    grad = grad.reshape(sizes[0], sizes[1], 1, shape.out_channels)  # grouped HWIO
    return _deliver(
        _oriented(grad, filter_format, filter_sizes),
        dy64,
        result_dtype(x, dy),
        out,
        return_bias_grad,
    )


def _hwio_sizes(shape):
    """conv2d's filter shape as HWIO [kh, kw, in / groups, out]."""
    win = shape.win
    return (win.k_h, win.k_w, win.channels // shape.groups, shape.out_channels)


def _oriented(grad, filter_format, filter_sizes):
    """A (grouped) HWIO gradient in the layout and shape filter_sizes asked for."""
    if normalize_filter_format(filter_format) == "OIHW":
        grad = grad.transpose(3, 2, 0, 1)
    return grad.reshape(sizes_arg(filter_sizes, "filter_sizes"))


def _arguments(
    geometry,
    input,
    filter_sizes,
    out_backprop,
    strides,
    padding,
    data_format,
    dilations,
    name,
    filter_format,
    pads,
):
    """Checked arguments: (x, dy, geometry, x and dy as NHWC float64)."""
    check_name(name)
    x = float_array(input, "input")
    dy = float_array(out_backprop, "out_backprop")
    fmt = normalize_data_format(data_format)
    shape = geometry(
        x.shape,
        sizes_arg(filter_sizes, "filter_sizes"),
        strides,
        padding,
        fmt,
        dilations,
        pads=pads,
        filter_format=normalize_filter_format(filter_format),
    )
    check_out_backprop(shape, dy.shape, fmt)
    nhwc = nhwc_axes(fmt)
    return (
        x,
        dy,
        shape,
        np.transpose(x, nhwc).astype(np.float64),
        np.transpose(dy, nhwc).astype(np.float64),
    )


def _real_rows(out, stride, pad, offset, size):
    """The outputs along one axis whose tap at `offset` reads a real cell, and that cell."""
    cells = np.arange(out) * stride - pad + offset
    real = (cells >= 0) & (cells < size)
    return np.nonzero(real)[0], cells[real]


def _real_taps(x64, dy64, win):
    """Yield (ky, kx, cells[n, y, x, c], dy[n, y, x, o]) for each filter tap: the outputs
    whose tap reads a real input cell (not padding), and those cells."""
    for ky in range(win.k_h):
        oy, iy = _real_rows(win.out_h, win.stride_h, win.pad_top, ky * win.dil_h, win.in_h)
        for kx in range(win.k_w):
            ox, ix = _real_rows(win.out_w, win.stride_w, win.pad_left, kx * win.dil_w, win.in_w)
            yield (ky, kx, x64[:, iy][:, :, ix], dy64[:, oy][:, :, ox])


def _deliver(grad, dy64, dtype, out, return_bias_grad):
    result = grad.astype(dtype)
    if out is not None:
        check_out(out, grad.shape, dtype)[...] = result
        result = out
    if return_bias_grad:
        return result, dy64.sum(axis=(0, 1, 2)).astype(dtype)
    return result
