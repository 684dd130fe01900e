"""Reference gradients with respect to the filter: conv2d_backprop_filter and
depthwise_conv2d_backprop_filter in plain NumPy (float64 accumulation, one rounding).

Written independently of the fast kernels and of the forward reference: every output
pixel's receptive field is a strided view of the zero-padded input (NumPy's
sliding_window_view), and the gradient is one einsum of those patches with out_backprop.
Only the geometry and the argument checks are shared with the fast path.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._arrays import check_out, float_array, result_dtype
from ._geometry import (
    check_name, check_out_backprop, conv_shape, depthwise_shape, nhwc_axes,
    normalize_data_format, normalize_filter_format, sizes_arg,
)

__all__ = ["conv2d_backprop_filter", "depthwise_conv2d_backprop_filter"]


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding, *,
                           data_format="NHWC", dilations=1, filter_format="HWIO", pads=None,
                           return_bias_grad=False, name=None, out=None):
    """Reference tf.compat.v1.nn.conv2d_backprop_filter: the gradient of
    sum(conv2d(input, w) * out_backprop) with respect to w, of shape filter_sizes
    (HWIO, groups = C / filter_sizes[2]). With return_bias_grad, also the bias gradient
    (out_backprop summed over batch and pixels): returns (filter_grad, bias_grad).
    filter_format="OIHW": filter_sizes and the result [out, in / groups, kh, kw]."""
    x, dy, shape, patches, dy64 = _arguments(conv_shape, input, filter_sizes, out_backprop,
                                             strides, padding, data_format, dilations, name,
                                             filter_format, pads)
    sizes = _hwio_sizes(shape)
    grad = np.zeros(sizes)
    if patches is not None:
        cg, og = sizes[2], shape.out_channels // shape.groups
        for g in range(shape.groups):
            grad[..., g * og:(g + 1) * og] = np.einsum(
                "nyxckl,nyxo->klco", patches[:, :, :, g * cg:(g + 1) * cg],
                dy64[..., g * og:(g + 1) * og], optimize=True)
    return _deliver(_oriented(grad, filter_format, filter_sizes), dy64, result_dtype(x, dy),
                    out, return_bias_grad)


def depthwise_conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding, *,
                                     data_format="NHWC", dilations=1, filter_format="HWIO",
                                     pads=None, return_bias_grad=False, name=None, out=None):
    """Reference tf.nn.depthwise_conv2d_backprop_filter: filter_sizes
    [kh, kw, in_channels, channel_multiplier], out_backprop channel c * multiplier + m;
    filter_format="OIHW": PyTorch's [in_channels * multiplier, 1, kh, kw]."""
    x, dy, shape, patches, dy64 = _arguments(depthwise_shape, input, filter_sizes, out_backprop,
                                             strides, padding, data_format, dilations, name,
                                             filter_format, pads)
    c = shape.win.channels
    sizes = (shape.win.k_h, shape.win.k_w, c, shape.out_channels // c)
    grad = np.zeros(sizes)
    if patches is not None:
        per_channel = dy64.reshape(dy64.shape[:3] + (sizes[2], sizes[3]))
        grad[...] = np.einsum("nyxckl,nyxcm->klcm", patches, per_channel, optimize=True)
    grad = grad.reshape(sizes[0], sizes[1], 1, shape.out_channels)  # grouped HWIO
    return _deliver(_oriented(grad, filter_format, filter_sizes), dy64, result_dtype(x, dy),
                    out, return_bias_grad)


def _hwio_sizes(shape):
    """conv2d's filter shape as HWIO [kh, kw, in / groups, out]."""
    win = shape.win
    return (win.k_h, win.k_w, win.channels // shape.groups, shape.out_channels)


def _oriented(grad, filter_format, filter_sizes):
    """A (grouped) HWIO gradient in the layout and shape filter_sizes asked for."""
    if normalize_filter_format(filter_format) == "OIHW":
        grad = grad.transpose(3, 2, 0, 1)
    return grad.reshape(sizes_arg(filter_sizes, "filter_sizes"))


def _arguments(geometry, input, filter_sizes, out_backprop, strides, padding, data_format,
               dilations, name, filter_format, pads):
    """Checked arguments: (x, dy, geometry, patches, dy as NHWC float64) (see _patches)."""
    check_name(name)
    x = float_array(input, "input")
    dy = float_array(out_backprop, "out_backprop")
    fmt = normalize_data_format(data_format)
    shape = geometry(x.shape, sizes_arg(filter_sizes, "filter_sizes"), strides, padding, fmt,
                     dilations, pads=pads, filter_format=normalize_filter_format(filter_format))
    check_out_backprop(shape, dy.shape, fmt)
    return (x, dy, shape) + _patches(x, dy, shape, fmt)


def _patches(x, dy, shape, fmt):
    """(patches[n, oy, ox, c, ky, kx] in float64, out_backprop as NHWC float64); patches is
    None when the gradient is all zeros (no output pixel, or an input of padding only)."""
    win = shape.win
    dy64 = np.transpose(dy, nhwc_axes(fmt)).astype(np.float64)
    if dy64.size == 0 or x.size == 0:
        return None, dy64
    x64 = np.transpose(x, nhwc_axes(fmt)).astype(np.float64)
    padded = np.pad(x64, ((0, 0), (win.pad_top, win.pad_bottom),
                          (win.pad_left, win.pad_right), (0, 0)))
    eff_h, eff_w = (win.k_h - 1) * win.dil_h + 1, (win.k_w - 1) * win.dil_w + 1
    views = sliding_window_view(padded, (eff_h, eff_w), axis=(1, 2))
    patches = views[:, :(win.out_h - 1) * win.stride_h + 1:win.stride_h,
                    :(win.out_w - 1) * win.stride_w + 1:win.stride_w, :,
                    ::win.dil_h, ::win.dil_w]
    return patches, dy64


def _deliver(grad, dy64, dtype, out, return_bias_grad):
    result = grad.astype(dtype)
    if out is not None:
        check_out(out, grad.shape, dtype)[...] = result
        result = out
    if return_bias_grad:
        return result, dy64.sum(axis=(0, 1, 2)).astype(dtype)
    return result
