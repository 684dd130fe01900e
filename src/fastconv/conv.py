"""conv2d and depthwise_conv2d: validate, allocate, one call into the C kernels.

Both compute cross-correlation, as every deep-learning framework does (no kernel flip).
"""

from __future__ import annotations

from . import _dispatch
from ._arrays import check_activation, check_bias, compute_dtype, float_array, result_dtype
from ._geometry import conv_shape, depthwise_shape, join_shape, normalize_data_format

ALGORITHMS = tuple(_dispatch.ALGORITHM_CODES)


def conv2d(input, filters, strides=1, padding="VALID", data_format="NHWC", dilations=1, *,
           bias=None, activation=None, algorithm="auto", out=None):
    """2-D convolution with the arguments and results of ``tf.nn.conv2d``.

    input: 4-D array in ``data_format`` ("NHWC" or "NCHW"). filters: HWIO
    ``[kh, kw, in_channels / groups, out_channels]``; groups = C / filters.shape[2].
    strides, dilations: an int, (h, w), or 4 values in data_format order. padding: "SAME",
    "VALID" (any case), ``[[top, bottom], [left, right]]`` or 4 pairs in data_format order.
    bias: ``(out_channels,)``; activation: None, "relu", "relu6", "sigmoid", "tanh", fused.
    algorithm: "auto", "direct", "im2col" (implicit im2col + GEMM) or "winograd"
    (F(2x2,3x3): 3x3, stride 1, dilation 1, one group); all agree within rounding.
    out: a C-contiguous array of the result's shape and dtype to write into.
    """
    x = float_array(input, "input")
    f = float_array(filters, "filters")
    fmt = normalize_data_format(data_format)
    shape = conv_shape(x.shape, f.shape, strides, padding, fmt, dilations)
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    if algorithm == "winograd":
        _check_winograd(shape)
    return _convolve(x, f, shape, fmt, bias, activation, algorithm, out)


def _check_winograd(shape):
    win = shape.win
    if (win.k_h, win.k_w, win.stride_h, win.stride_w, win.dil_h, win.dil_w, shape.groups) != (
        3, 3, 1, 1, 1, 1, 1
    ):
        raise ValueError(
            'algorithm="winograd" needs a 3x3 filter, stride 1, dilation 1 and one group; got '
            f"{win.k_h}x{win.k_w}, strides ({win.stride_h}, {win.stride_w}), dilations "
            f"({win.dil_h}, {win.dil_w}), {shape.groups} group(s)"
        )


def depthwise_conv2d(input, filter, strides=1, padding="VALID", data_format="NHWC", dilations=1,
                     *, bias=None, activation=None, out=None):
    """Depthwise 2-D convolution with the arguments and results of ``tf.nn.depthwise_conv2d``.

    filter: ``[kh, kw, in_channels, channel_multiplier]``; output channel
    ``c * channel_multiplier + m``. Unlike TF, any stride works together with dilation.
    """
    x = float_array(input, "input")
    f = float_array(filter, "filter")
    fmt = normalize_data_format(data_format)
    shape = depthwise_shape(x.shape, f.shape, strides, padding, fmt, dilations)
    # The same memory read as a grouped HWIO filter [kh, kw, 1, C * multiplier].
    f = f.reshape(f.shape[0], f.shape[1], 1, shape.out_channels)
    return _convolve(x, f, shape, fmt, bias, activation, "direct", out)


def _convolve(x, f, shape, fmt, bias, activation, algorithm, out):
    activation = check_activation(activation)
    b = check_bias(bias, shape.out_channels)
    rtype = result_dtype(x, f, b)
    win = shape.win
    y, target = _dispatch.destination(
        out, join_shape(win.batch, win.out_h, win.out_w, shape.out_channels, fmt), rtype, (x, f, b)
    )
    if y.size == 0:
        return y
    work = compute_dtype(rtype)
    return _dispatch.run_conv(
        _dispatch.kernel_input(x, work), _dispatch.dense(f, work), _dispatch.dense(b, work),
        y, target, win, shape.groups, activation, algorithm, fmt,
    )
