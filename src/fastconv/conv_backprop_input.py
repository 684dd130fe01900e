"""The input gradient of conv2d and depthwise_conv2d, and the transposed convolution:
validate (once per signature), allocate, one C call (csrc/operators/conv2d_backprop_input.c,
which runs the gradient as stride_h * stride_w forward convolutions of out_backprop with
the flipped filter, each writing its strided share of the result in place; or, for a
stride-1 gradient of few pixels, as one GEMM that reads the filter as it is)."""

from __future__ import annotations

from . import _core
from ._arrays import check_activation, check_bias, compute_dtype, float_array, result_dtype
from ._geometry import (
    OIHW_TO_HWIO,
    check_out_backprop,
    conv_shape,
    depthwise_shape,
    nhwc_axes,
    normalize_data_format,
    normalize_filter_format,
    sizes_arg,
    transpose_sizes,
)
from ._plans import ACTIVATION_CODES, ALGORITHM_CODES, ConvPlan, Destination, cached


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
    """The gradient of ``conv2d(input, filters, strides, padding, data_format, dilations)``
    with respect to its input, as ``tf.compat.v1.nn.conv2d_backprop_input``.

    input_sizes: the input's shape, 4 integers in data_format order. filters: the forward
    call's HWIO filters (groups = input channels / filters.shape[2]). out_backprop: the
    gradient of the forward result, of its shape. TF's positional ``use_cudnn_on_gpu``
    (a GPU switch) is not copied: data_format, dilations and out are keyword-only. The
    other arguments are conv2d's, its filter_format="OIHW" (PyTorch's weight, as
    ``torch.nn.grad.conv2d_input`` takes it) and padding spellings with pads= included;
    float16 is computed in float32.
    """
    return _gradient(
        "conv2d",
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
    """The gradient of ``depthwise_conv2d(input, filter, ...)`` with respect to its input,
    as ``tf.nn.depthwise_conv2d_backprop_input``; filter ``[kh, kw, C, multiplier]``, or
    with filter_format="OIHW" PyTorch's ``[C * multiplier, 1, kh, kw]``. Unlike TF,
    dilation works with any stride (TF's CPU op fails on dilation 2)."""
    return _gradient(
        "depthwise",
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


def _gradient(
    kind,
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
    sizes = sizes_arg(input_sizes, "input_sizes")
    plan = cached(
        kind + "_backprop_input",
        (f, dy),
        (sizes, strides, padding, data_format, dilations, filter_format, pads),
        lambda: _plan(
            kind,
            sizes,
            f,
            dy,
            None,
            strides,
            padding,
            data_format,
            dilations,
            None,
            "out_backprop",
            filter_format,
            pads,
        ),
    )
    return plan(dy, f, None, out)


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
    """Transposed convolution with the arguments and results of ``tf.nn.conv2d_transpose``:
    the input gradient of conv2d, with filters ``[kh, kw, output_channels / groups,
    in_channels]`` and the result of shape ``output_shape`` (4 integers, data_format order).

    bias ``(output_channels,)`` and activation (conv2d's names) are fused, as in conv2d.
    For code ported from PyTorch's ``conv_transpose2d(x, w, stride=s, padding=p,
    output_padding=op, groups=1, dilation=d)``: pass ``w.permute(2, 3, 1, 0)`` as filters,
    ``padding=[[p, p], [p, p]]``, ``output_shape=None`` and ``output_padding=op`` (an int or
    (h, w), smaller than the stride); the output size is then PyTorch's,
    ``(in - 1) * s - 2 * p + (k - 1) * d + 1 + op``. output_padding needs output_shape=None
    and VALID or explicit padding; a grouped transposed convolution needs output_shape.
    filter_format="OIHW" takes PyTorch's conv_transpose2d weight ``[in_channels,
    output_channels / groups, kh, kw]`` as it is (the forward convolution's OIHW filter),
    and pads= goes with padding="NOTSET" (ONNX), as in conv2d.
    """
    x = float_array(input, "input")
    f = float_array(filters, "filters")
    b = None if bias is None else float_array(bias, "bias")
    fmt = normalize_data_format(data_format)
    ffmt = normalize_filter_format(filter_format)
    sizes = transpose_result_shape(
        x.shape, f.shape, output_shape, strides, padding, fmt, dilations, ffmt, output_padding, pads
    )
    plan = cached(
        "conv2d_transpose",
        (x, f, b),
        (sizes, strides, padding, fmt, dilations, activation, ffmt, pads),
        lambda: _plan(
            "conv2d",
            sizes,
            f,
            x,
            b,
            strides,
            padding,
            fmt,
            dilations,
            activation,
            "input",
            ffmt,
            pads,
        ),
    )
    return plan(x, f, b, out)


def transpose_result_shape(
    input_shape,
    filter_shape,
    output_shape,
    strides,
    padding,
    data_format,
    dilations,
    filter_format,
    output_padding,
    pads,
):
    """conv2d_transpose's result shape (data_format and filter_format normalized)."""
    hwio = (
        filter_shape
        if filter_format == "HWIO" or len(filter_shape) != 4
        else tuple(filter_shape[a] for a in OIHW_TO_HWIO)
    )
    return transpose_sizes(
        output_shape,
        input_shape,
        hwio,
        strides,
        padding,
        data_format,
        dilations,
        output_padding,
        pads,
    )


def _plan(
    kind,
    sizes,
    f,
    dy,
    b,
    strides,
    padding,
    data_format,
    dilations,
    activation,
    dy_name,
    filter_format,
    pads,
):
    fmt = normalize_data_format(data_format)
    ffmt = normalize_filter_format(filter_format)
    geometry = conv_shape if kind == "conv2d" else depthwise_shape
    shape = geometry(
        sizes, f.shape, strides, padding, fmt, dilations, pads=pads, filter_format=ffmt
    )
    check_out_backprop(shape, dy.shape, fmt, dy_name)
    activation = check_activation(activation)
    check_bias(b, shape.win.channels)
    # depthwise filters are read as grouped HWIO [kh, kw, 1, C*M]
    hwio = None if kind == "conv2d" else (shape.win.k_h, shape.win.k_w, 1, shape.out_channels)
    return BackpropInputPlan(
        shape,
        fmt,
        result_dtype(f, dy, b),
        activation,
        hwio,
        sizes,
        OIHW_TO_HWIO if ffmt == "OIHW" else None,
    )


class BackpropInputPlan(ConvPlan):
    """conv2d_backprop_input / depthwise_conv2d_backprop_input / conv2d_transpose for one
    signature: conv2d's plan, called with out_backprop for the input, whose kernel computes
    the input gradient into an array of the forward input's shape."""

    __slots__ = ()

    def __init__(self, shape, data_format, result, activation, hwio, sizes, filter_axes):
        self.desc = _core.ConvDesc(
            shape.win,
            shape.groups,
            ACTIVATION_CODES[activation],
            ALGORITHM_CODES["auto"],
            input_gradient=True,
        )
        self.result = result
        self.work = compute_dtype(result)
        self.destination = Destination(sizes, result, self.work)
        self.axes = None if data_format == "NHWC" else nhwc_axes(data_format)
        self.hwio = hwio
        self.filter_axes = filter_axes  # an OIHW filter's axes read as HWIO
        self.nhwc_shapes = None  # type: ignore[assignment]  # each phase chooses its own algorithm
