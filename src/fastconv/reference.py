"""fastconv.reference: plain-NumPy versions of the public functions, for use as a test oracle.

Same signatures, same argument forms, same errors and same result dtypes as the fast
functions (they share the geometry and argument-check modules), but written for clarity:
the padded input is materialized, every filter tap is one strided slice, and every sum is
accumulated in float64 before the result is rounded once to the result dtype. Use it in
your own tests:

    from fastconv import reference
    np.testing.assert_allclose(my_conv(x, w), reference.conv2d(x, w, 1, "SAME"), rtol=1e-5)

Slow (one NumPy pass per filter tap), deterministic, and independent of the C kernels.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._arrays import (
    check_activation, check_algorithm, check_bias, check_out, float_array, result_dtype,
)
from ._geometry import (
    check_name,
    conv_shape,
    depthwise_shape,
    join_shape,
    nhwc_axes,
    normalize_data_format,
    pool_window,
)

__all__ = ["avg_pool2d", "conv2d", "depthwise_conv2d", "max_pool2d"]

_ACTIVATIONS: dict[str | None, Callable[[np.ndarray], np.ndarray]] = {
    None: lambda v: v,
    "relu": lambda v: np.maximum(v, 0.0),
    "relu6": lambda v: np.clip(v, 0.0, 6.0),
    "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
    "tanh": np.tanh,
}


def conv2d(input, filters, strides=1, padding="VALID", data_format="NHWC", dilations=1,
           name=None, *, bias=None, activation=None, algorithm="auto", out=None):
    """Reference tf.nn.conv2d (cross-correlation, HWIO filters, groups = C / filters.shape[2]).

    `algorithm` is checked and ignored: there is one reference algorithm; so is `name`."""
    check_name(name)
    x = float_array(input, "input")
    f = float_array(filters, "filters")
    fmt = normalize_data_format(data_format)
    shape = conv_shape(x.shape, f.shape, strides, padding, fmt, dilations)
    check_algorithm(algorithm, shape)
    return _convolve(x, f, shape, fmt, bias, activation, out)


def depthwise_conv2d(input, filter, strides=1, padding="VALID", data_format="NHWC", dilations=1,
                     name=None, *, bias=None, activation=None, out=None):
    """Reference tf.nn.depthwise_conv2d: filter [kh, kw, C, multiplier], channel c*M + m."""
    check_name(name)
    x = float_array(input, "input")
    f = float_array(filter, "filter")
    fmt = normalize_data_format(data_format)
    shape = depthwise_shape(x.shape, f.shape, strides, padding, fmt, dilations)
    f = f.reshape(f.shape[0], f.shape[1], 1, shape.out_channels)
    return _convolve(x, f, shape, fmt, bias, activation, out)


def max_pool2d(input, ksize, strides, padding="VALID", data_format="NHWC", name=None, *,
               out=None):
    """Reference tf.nn.max_pool2d; padding cells never win and NaN propagates."""
    check_name(name)
    return _pool("max", input, ksize, strides, padding, data_format, out)


def avg_pool2d(input, ksize, strides, padding="VALID", data_format="NHWC", name=None, *,
               out=None):
    """Reference tf.nn.avg_pool2d; divides by the number of real (unpadded) cells."""
    check_name(name)
    return _pool("avg", input, ksize, strides, padding, data_format, out)


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
            yield ky, kx, xp[
                :,
                y0 : y0 + (win.out_h - 1) * win.stride_h + 1 : win.stride_h,
                x0 : x0 + (win.out_w - 1) * win.stride_w + 1 : win.stride_w,
                :,
            ]


def _deliver(y64, shape, dtype, fmt, out):
    result = _from_nhwc(y64, fmt).astype(dtype)
    if out is None:
        return result
    check_out(out, shape, dtype)[...] = result
    return out


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
        for ky, kx, xs in _taps(_padded(_nhwc(x, fmt), win, 0.0), win):
            for g in range(groups):
                y[..., g * og : (g + 1) * og] += (
                    xs[..., g * cg : (g + 1) * cg] @ w[ky, kx, :, g * og : (g + 1) * og]
                )
        if b is not None:
            y += b.astype(np.float64)
        y = _ACTIVATIONS[activation](y)
    return _deliver(y, out_shape, dtype, fmt, out)


def _pool(kind, input, ksize, strides, padding, data_format, out):
    x = float_array(input, "input")
    fmt = normalize_data_format(data_format)
    win = pool_window(x.shape, ksize, strides, padding, fmt)
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
            ones = np.ones(x64.shape[:3] + (1,))
            count = np.zeros((win.batch, win.out_h, win.out_w, 1))
            for (_, _, xs), (_, _, cs) in zip(
                _taps(_padded(x64, win, 0.0), win), _taps(_padded(ones, win, 0.0), win)
            ):
                y += xs
                count += cs
            y /= count
    return _deliver(y, out_shape, x.dtype, fmt, out)
