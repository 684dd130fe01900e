"""Reference input gradients (re-exported by fastconv.reference): conv2d_backprop_input,
depthwise_conv2d_backprop_input and conv2d_transpose in plain NumPy.

Written from the definition rather than from the fast path's phase decomposition: the
forward convolution adds dy[n, oy, ox] @ w[ky, kx].T into the padded input cells that tap
(ky, kx) read, so the gradient scatters every tap back into a zero padded input (float64)
and crops the padding. Shares only the geometry and argument checks with the fast path.
"""

from __future__ import annotations

import numpy as np

from . import reference as _ref
from ._arrays import check_activation, check_bias, float_array, result_dtype
from ._geometry import (
    OIHW_TO_HWIO,
    check_out_backprop,
    conv_shape,
    depthwise_shape,
    normalize_data_format,
    normalize_filter_format,
    sizes_arg,
    transpose_sizes,
)


def conv2d_backprop_input(
    input_sizes,
    filters,
    out_backprop,
    strides,
    padding,
    *,
    data_format="NHWC",
    dilations=1,
    filter_format="HWIO",
    pads=None,
    out=None,
):
    """Reference tf.compat.v1.nn.conv2d_backprop_input (without use_cudnn_on_gpu); OIHW
    filters and pads= as in conv2d."""
    return _gradient(
        conv_shape,
        input_sizes,
        filters,
        "filters",
        out_backprop,
        strides,
        padding,
        data_format,
        dilations,
        filter_format,
        pads,
        out,
    )


def depthwise_conv2d_backprop_input(
    input_sizes,
    filter,
    out_backprop,
    strides,
    padding,
    *,
    data_format="NHWC",
    dilations=1,
    filter_format="HWIO",
    pads=None,
    out=None,
):
    """Reference tf.nn.depthwise_conv2d_backprop_input: filter [kh, kw, C, multiplier] (or
    OIHW [C * multiplier, 1, kh, kw])."""
    return _gradient(
        depthwise_shape,
        input_sizes,
        filter,
        "filter",
        out_backprop,
        strides,
        padding,
        data_format,
        dilations,
        filter_format,
        pads,
        out,
    )


def conv2d_transpose(
    input,
    filters,
    output_shape,
    strides,
    padding="SAME",
    *,
    data_format="NHWC",
    dilations=1,
    filter_format="HWIO",
    pads=None,
    bias=None,
    activation=None,
    output_padding=None,
    out=None,
):
    """Reference tf.nn.conv2d_transpose, with fastconv's bias, activation, PyTorch's
    output_padding (with output_shape=None) and weight layout (filter_format="OIHW")."""
    x = float_array(input, "input")
    f = float_array(filters, "filters")
    fmt = normalize_data_format(data_format)
    ffmt = normalize_filter_format(filter_format)
    if ffmt == "OIHW" and f.ndim == 4:
        f = np.transpose(f, OIHW_TO_HWIO)
    sizes = transpose_sizes(
        output_shape, x.shape, f.shape, strides, padding, fmt, dilations, output_padding, pads
    )
    shape = conv_shape(sizes, f.shape, strides, padding, fmt, dilations, pads=pads)
    check_out_backprop(shape, x.shape, fmt, "input")
    return _scatter(x, f, shape, fmt, sizes, bias, activation, out)


def _gradient(
    geometry,
    input_sizes,
    filters,
    filter_name,
    out_backprop,
    strides,
    padding,
    data_format,
    dilations,
    filter_format,
    pads,
    out,
):
    f = float_array(filters, filter_name)
    dy = float_array(out_backprop, "out_backprop")
    fmt = normalize_data_format(data_format)
    ffmt = normalize_filter_format(filter_format)
    sizes = sizes_arg(input_sizes, "input_sizes")
    shape = geometry(
        sizes, f.shape, strides, padding, fmt, dilations, pads=pads, filter_format=ffmt
    )
    check_out_backprop(shape, dy.shape, fmt)
    if ffmt == "OIHW":
        f = np.transpose(f, OIHW_TO_HWIO)
    # a depthwise filter [kh, kw, C, M] is the grouped HWIO filter [kh, kw, 1, C * M]
    f = f.reshape(
        shape.win.k_h, shape.win.k_w, shape.win.channels // shape.groups, shape.out_channels
    )
    return _scatter(dy, f, shape, fmt, sizes, None, None, out)


# Inf - Inf, 0 * Inf, overflow: the IEEE results the contract promises (as in reference.py)
@np.errstate(invalid="ignore", over="ignore")
def _scatter(dy, f, shape, fmt, sizes, bias, activation, out):
    activation = check_activation(activation)
    b = check_bias(bias, shape.win.channels)
    dtype = result_dtype(dy, f, b)
    win, groups = shape.win, shape.groups
    cg, og = win.channels // groups, shape.out_channels // groups
    dx = np.zeros(
        (
            win.batch,
            win.in_h + win.pad_top + win.pad_bottom,
            win.in_w + win.pad_left + win.pad_right,
            win.channels,
        )
    )
    if dx.size and dy.size:
        g64 = _ref._nhwc(dy, fmt)
        w = f.astype(np.float64)
        for ky, kx, cells in _ref._taps(dx, win):  # views of dx: += writes into it
            for g in range(groups):
                cells[..., g * cg : (g + 1) * cg] += (
                    g64[..., g * og : (g + 1) * og] @ w[ky, kx, :, g * og : (g + 1) * og].T
                )
    dx = dx[:, win.pad_top : win.pad_top + win.in_h, win.pad_left : win.pad_left + win.in_w]
    if b is not None:
        dx = dx + b.astype(np.float64)
    dx = _ref._ACTIVATIONS[activation](dx)
    return _ref._deliver(dx, tuple(sizes), dtype, fmt, out)
