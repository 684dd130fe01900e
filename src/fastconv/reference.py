"""fastconv.reference: plain-NumPy versions of the public functions, for use as a test oracle.

Same signatures, same argument forms, same errors and same result dtypes as the fast
functions (they share the geometry and argument-check modules), but written for clarity:
the padded input is materialized, every filter tap is one strided slice, and every sum is
accumulated in float64 before the result is rounded once to the result dtype. Use it in
your own tests with the reduction-aware tolerance of fastconv.testing:

    from fastconv import reference, testing
    testing.assert_allclose(my_conv(x, w), reference.conv2d(x, w, 1, "SAME"),
                            reduction=testing.reduction_length("conv2d", w.shape))

Non-finite values follow the contract of every fastconv algorithm (docs/non-finite.md):
padding cells contribute nothing (a filter tap over padding is skipped, so an Inf or NaN
weight there cannot turn into NaN), and Inf and NaN propagate by IEEE arithmetic over the
real cells. No floating-point warnings are raised for them.

Slow (one NumPy pass per filter tap), deterministic, needs only NumPy (not the compiled
extension), and independent of the C kernels.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._arrays import (
    check_activation,
    check_algorithm,
    check_bias,
    check_out,
    float_array,
    result_dtype,
)
from ._geometry import (
    OIHW_TO_HWIO,
    argmax_window,
    check_flag,
    check_name,
    conv_shape,
    depthwise_shape,
    join_shape,
    nhwc_axes,
    normalize_data_format,
    normalize_filter_format,
    pool_window,
)
from ._reference_backprop_filter import (
    conv2d_backprop_filter,
    depthwise_conv2d_backprop_filter,
)

__all__ = [
    "avg_pool2d",
    "avg_pool2d_grad",
    "conv2d",
    "conv2d_backprop_filter",
    "conv2d_backprop_input",
    "conv2d_transpose",
    "depthwise_conv2d",
    "depthwise_conv2d_backprop_filter",
    "depthwise_conv2d_backprop_input",
    "max_pool2d",
    "max_pool2d_grad",
    "max_pool_with_argmax",
]

_ACTIVATIONS: dict[str | None, Callable[[np.ndarray], np.ndarray]] = {
    None: lambda v: v,
    "relu": lambda v: np.maximum(v, 0.0),
    "relu6": lambda v: np.clip(v, 0.0, 6.0),
    "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
    "tanh": np.tanh,
}


# Inf - Inf, 0 * Inf and rounding a sum beyond the dtype's range to Inf are the IEEE results
# the contract promises, as in the C kernels: not worth a warning.
_IEEE = np.errstate(invalid="ignore", over="ignore")


def conv2d(
    input,
    filters,
    strides=1,
    padding="VALID",
    data_format="NHWC",
    dilations=1,
    name=None,
    *,
    filter_format="HWIO",
    pads=None,
    bias=None,
    activation=None,
    algorithm="auto",
    out=None,
):
    """Reference tf.nn.conv2d (cross-correlation, HWIO filters, groups = C / filters.shape[2]),
    or PyTorch's / ONNX's Conv with filter_format="OIHW" and their padding spellings.

    `algorithm` is checked and ignored: there is one reference algorithm; so is `name`."""
    check_name(name)
    x = float_array(input, "input")
    f = float_array(filters, "filters")
    fmt = normalize_data_format(data_format)
    ffmt = normalize_filter_format(filter_format)
    shape = conv_shape(
        x.shape, f.shape, strides, padding, fmt, dilations, filter_format=ffmt, pads=pads
    )
    check_algorithm(algorithm, shape)
    if ffmt == "OIHW":
        f = np.transpose(f, OIHW_TO_HWIO)
    return _convolve(x, f, shape, fmt, bias, activation, out)


def depthwise_conv2d(
    input,
    filter,
    strides=1,
    padding="VALID",
    data_format="NHWC",
    dilations=1,
    name=None,
    *,
    filter_format="HWIO",
    pads=None,
    bias=None,
    activation=None,
    out=None,
):
    """Reference tf.nn.depthwise_conv2d: filter [kh, kw, C, multiplier], channel c*M + m;
    filter_format="OIHW": PyTorch's depthwise weight [C * multiplier, 1, kh, kw]."""
    check_name(name)
    x = float_array(input, "input")
    f = float_array(filter, "filter")
    fmt = normalize_data_format(data_format)
    ffmt = normalize_filter_format(filter_format)
    shape = depthwise_shape(
        x.shape, f.shape, strides, padding, fmt, dilations, pads=pads, filter_format=ffmt
    )
    if ffmt == "OIHW":
        f = np.transpose(f, OIHW_TO_HWIO)
    f = f.reshape(shape.win.k_h, shape.win.k_w, 1, shape.out_channels)
    return _convolve(x, f, shape, fmt, bias, activation, out)


def max_pool2d(
    input,
    ksize,
    strides,
    padding="VALID",
    data_format="NHWC",
    name=None,
    *,
    dilations=1,
    ceil_mode=False,
    pads=None,
    return_argmax=False,
    index_format="tf",
    include_batch_in_index=False,
    storage_order=0,
    out=None,
):
    """Reference tf.nn.max_pool2d; padding cells never win and NaN propagates. dilations,
    ceil_mode, pads and return_argmax as PyTorch and ONNX have them (see
    fastconv.max_pool2d)."""
    check_name(name)
    if check_flag(return_argmax, "return_argmax"):
        x = float_array(input, "input")
        fmt = normalize_data_format(data_format)
        win, index = argmax_window(
            x.shape,
            ksize,
            strides,
            padding,
            fmt,
            dilations,
            pads=pads,
            ceil_mode=ceil_mode,
            index_format=index_format,
            include_batch_in_index=include_batch_in_index,
            storage_order=storage_order,
        )
        return pool_with_index(x, win, fmt, index, out)
    return _pool(
        "max", input, ksize, strides, padding, data_format, dilations, ceil_mode, pads, False, out
    )


def avg_pool2d(
    input,
    ksize,
    strides,
    padding="VALID",
    data_format="NHWC",
    name=None,
    *,
    dilations=1,
    ceil_mode=False,
    count_include_pad=False,
    pads=None,
    out=None,
):
    """Reference tf.nn.avg_pool2d; divides by the number of real (unpadded) cells, or with
    count_include_pad by the cells inside the padded input (PyTorch, ONNX)."""
    check_name(name)
    return _pool(
        "avg",
        input,
        ksize,
        strides,
        padding,
        data_format,
        dilations,
        ceil_mode,
        pads,
        check_flag(count_include_pad, "count_include_pad"),
        out,
    )


def _nhwc(x, fmt):
    return np.transpose(x, nhwc_axes(fmt)).astype(np.float64)


def _from_nhwc(y, fmt):
    return y if fmt == "NHWC" else np.transpose(y, (0, 3, 1, 2))


def _padded(x, win, value):
    """The NHWC float64 input with its padding cells materialized (SAME may pad past need)."""
    pads = ((0, 0), (win.pad_top, win.pad_bottom), (win.pad_left, win.pad_right), (0, 0))
    return np.pad(x, pads, constant_values=value)


def _taps(xp, win):
    """Yield (ky, kx, slice) with slice[n, oy, ox, c] = padded input under tap (ky, kx)."""
    for ky in range(win.k_h):
        for kx in range(win.k_w):
            y0, x0 = ky * win.dil_h, kx * win.dil_w
            yield (
                ky,
                kx,
                xp[
                    :,
                    y0 : y0 + (win.out_h - 1) * win.stride_h + 1 : win.stride_h,
                    x0 : x0 + (win.out_w - 1) * win.stride_w + 1 : win.stride_w,
                    :,
                ],
            )


def _real_cells(win):
    """(1, H + pads, W + pads, 1): 1 on the input's cells, 0 on the padding around them."""
    return _padded(np.ones((1, win.in_h, win.in_w, 1)), win, 0.0)


def _deliver(y64, shape, dtype, fmt, out):
    result = _from_nhwc(y64, fmt).astype(dtype)
    if out is None:
        return result
    check_out(out, shape, dtype)[...] = result
    return out


@_IEEE
def _convolve(x, f, shape, fmt, bias, activation, out):
    activation = check_activation(activation)
    b = check_bias(bias, shape.out_channels)
    dtype = result_dtype(x, f, b)
    win, groups = shape.win, shape.groups
    out_shape = join_shape(win.batch, win.out_h, win.out_w, shape.out_channels, fmt)
    y = np.zeros((win.batch, win.out_h, win.out_w, shape.out_channels))
    if y.size:
        cg, og = win.channels // groups, shape.out_channels // groups
        w = f.astype(np.float64)
        x64 = _nhwc(x, fmt)
        # A tap over padding contributes nothing, even with an Inf or NaN weight (0 * Inf
        # would be NaN): its products are masked out instead of added.
        for (ky, kx, xs), (_, _, real) in zip(
            _taps(_padded(x64, win, 0.0), win), _taps(_real_cells(win), win)
        ):
            real = real > 0
            for g in range(groups):
                term = xs[..., g * cg : (g + 1) * cg] @ w[ky, kx, :, g * og : (g + 1) * og]
                y[..., g * og : (g + 1) * og] += np.where(real, term, 0.0)
        if b is not None:
            y += b.astype(np.float64)
        y = _ACTIVATIONS[activation](y)
    return _deliver(y, out_shape, dtype, fmt, out)


def _counted(win, count_include_pad):
    """[1, H', W', 1]: 1 where a cell of the padded input counts in the averages' divisor
    (the real cells; with count_include_pad also the padding asked for, not the cells a
    ceil_mode window reaches past it), 0 elsewhere."""
    if not count_include_pad:
        return _real_cells(win)
    ones = np.ones((1, win.in_h, win.in_w, 1))
    asked = (
        (0, 0),
        (win.pad_top, win.pad_bottom - win.overhang_bottom),
        (win.pad_left, win.pad_right - win.overhang_right),
        (0, 0),
    )
    overhang = ((0, 0), (0, win.overhang_bottom), (0, win.overhang_right), (0, 0))
    return np.pad(np.pad(ones, asked, constant_values=1.0), overhang, constant_values=0.0)


@_IEEE
def _pool(
    kind,
    input,
    ksize,
    strides,
    padding,
    data_format,
    dilations,
    ceil_mode,
    pads,
    count_include_pad,
    out,
):
    x = float_array(input, "input")
    fmt = normalize_data_format(data_format)
    win = pool_window(
        x.shape, ksize, strides, padding, fmt, dilations, pads=pads, ceil_mode=ceil_mode
    )
    out_shape = join_shape(win.batch, win.out_h, win.out_w, win.channels, fmt)
    y = np.zeros((win.batch, win.out_h, win.out_w, win.channels))
    if y.size:
        x64 = _nhwc(x, fmt)
        if kind == "max":
            # np.maximum propagates NaN; -inf padding never wins against a real cell.
            y[...] = -np.inf
            for _, _, xs in _taps(_padded(x64, win, -np.inf), win):
                y = np.maximum(y, xs)
        else:
            count = np.zeros((1, win.out_h, win.out_w, 1))
            for (_, _, xs), (_, _, cs) in zip(
                _taps(_padded(x64, win, 0.0), win), _taps(_counted(win, count_include_pad), win)
            ):
                y += xs
                count += cs
            with np.errstate(invalid="ignore"):  # 0 / 0: a dilated window of padding only
                y /= count
    return _deliver(y, out_shape, x.dtype, fmt, out)


# Last: the gradient modules reuse this module's helpers (_taps, _deliver).
from ._reference_backprop_input import (  # noqa: E402
    conv2d_backprop_input,
    conv2d_transpose,
    depthwise_conv2d_backprop_input,
)
from ._reference_pool_grad import (  # noqa: E402
    avg_pool2d_grad,
    max_pool2d_grad,
    max_pool_with_argmax,
    pool_with_index,
)
