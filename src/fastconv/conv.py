"""conv2d and depthwise_conv2d: validate (once per signature), allocate, one C call.

Both compute cross-correlation, as every deep-learning framework does (no kernel flip).
"""

from __future__ import annotations

from . import gpu
from ._arrays import (  # noqa: F401  (ALGORITHMS is part of this module's interface)
    ALGORITHMS,
    check_activation,
    check_algorithm,
    check_bias,
    float_array,
    is_cupy,
    result_dtype,
)
from ._geometry import (
    OIHW_TO_HWIO,
    check_name,
    conv_shape,
    depthwise_shape,
    normalize_data_format,
    normalize_filter_format,
)
from ._plans import ConvPlan, cached


def conv2d(
    input,
    filters,
    strides=1,
    padding="VALID",
    data_format="NHWC",
    dilations=1,
    name=None,
    *,
    filter_format: str = "HWIO",
    pads=None,
    bias=None,
    activation=None,
    algorithm="auto",
    out=None,
):
    """2-D convolution with the arguments and results of ``tf.nn.conv2d``.

    input: 4-D array in ``data_format`` ("NHWC" or "NCHW"). filters: HWIO
    ``[kh, kw, in_channels / groups, out_channels]``; groups = C / filters.shape[2].
    strides, dilations: an int, (h, w), or 4 values in data_format order (dilations None:
    1). padding: "SAME", "VALID" (any case), ``[[top, bottom], [left, right]]`` or 4 pairs
    in data_format order, and the other frameworks' spellings: an int or (h, w) (PyTorch,
    symmetric), "SAME_UPPER" / "SAME_LOWER" / "NOTSET" with pads=[top, left, bottom, right]
    (ONNX auto_pad and pads; see fastconv._geometry.normalize_padding).
    data_format None: "NHWC". name: TF's op name, accepted and ignored.
    filter_format: "HWIO" (TF) or "OIHW" ``[out_channels, in_channels / groups, kh, kw]``
    (PyTorch's and ONNX's weight layout, grouped too). An OIHW filter is copied into the
    HWIO the kernels read on every call, a strided copy that costs about as much as the
    convolution itself on a 3x3x512x512 layer at 14x14 (docs/peers.md): for repeated calls,
    convert once, ``w.transpose(2, 3, 1, 0).copy()``, and pass HWIO, or use fastconv.Conv2D,
    which also packs the filters once for its algorithm.
    A window that does not fit the (padded) input is a ValueError, as in TF.
    bias: ``(out_channels,)``; activation: None, "relu", "relu6", "sigmoid", "tanh", fused.
    algorithm: "auto", "direct", "im2col" (implicit im2col + GEMM) or "winograd"
    (F(2x2,3x3): 3x3, stride 1, dilation 1, one group); all agree within rounding.
    out: a C-contiguous array of the result's shape and dtype to write into.
    A CuPy input runs on its GPU (fastconv.gpu) and gives a CuPy result.
    """
    check_name(name)
    if is_cupy(input):
        return gpu.conv2d(
            input,
            filters,
            strides,
            padding,
            data_format,
            dilations,
            filter_format=filter_format,
            pads=pads,
            bias=bias,
            activation=activation,
            algorithm=algorithm,
            out=out,
        )
    x = float_array(input, "input")
    f = float_array(filters, "filters")
    b = None if bias is None else float_array(bias, "bias")
    plan = conv2d_plan(
        x,
        f,
        b,
        strides,
        padding,
        data_format,
        dilations,
        activation,
        algorithm,
        filter_format,
        pads,
    )
    return plan(x, f, b, out)


def conv2d_plan(
    x, f, b, strides, padding, data_format, dilations, activation, algorithm, filter_format, pads
) -> ConvPlan:
    """The (cached) plan of conv2d with these checked arrays and arguments; fastconv.Conv2D
    runs the same plans."""
    arrays = (x, f, b)
    args = (strides, padding, data_format, dilations, activation, algorithm, filter_format, pads)
    # The planner closes over the two tuples the key is made of anyway, not the eleven
    # names: a closure over those made eleven cells on every call, cached or not (3,000 of
    # tiny-8x8's 47,000 instructions, valgrind).
    return cached("conv2d", arrays, args, lambda: _plan_conv2d(*arrays, *args))


def conv2d_algorithm(
    input,
    filters,
    strides=1,
    padding="VALID",
    data_format="NHWC",
    dilations=1,
    *,
    filter_format: str = "HWIO",
    pads=None,
) -> str:
    """The algorithm ``conv2d(input, filters, strides, padding, data_format, dilations)`` runs
    with ``algorithm="auto"`` on this CPU: "direct", "im2col" or "winograd". Nothing is
    computed; the arguments are checked as conv2d checks them. The rule, and the measurements
    behind it, are in the README ("How it computes")."""
    x = float_array(input, "input")
    f = float_array(filters, "filters")
    return _plan_conv2d(
        x, f, None, strides, padding, data_format, dilations, None, "auto", filter_format, pads
    ).algorithm()


def depthwise_conv2d(
    input,
    filter,
    strides=1,
    padding="VALID",
    data_format="NHWC",
    dilations=1,
    name=None,
    *,
    filter_format: str = "HWIO",
    pads=None,
    bias=None,
    activation=None,
    out=None,
):
    """Depthwise 2-D convolution with the arguments and results of ``tf.nn.depthwise_conv2d``.

    filter: ``[kh, kw, in_channels, channel_multiplier]``; output channel
    ``c * channel_multiplier + m``. Unlike TF, any stride works together with dilation.
    filter_format="OIHW": PyTorch's depthwise weight ``[in_channels * multiplier, 1, kh,
    kw]`` (``torch.nn.functional.conv2d(..., groups=in_channels)``, ONNX Conv with group =
    C), the same output channels (copied into the HWIO the kernel reads on every call, as
    conv2d's OIHW filters). The other arguments are conv2d's.
    """
    check_name(name)
    if is_cupy(input):
        return gpu.depthwise_conv2d(
            input,
            filter,
            strides,
            padding,
            data_format,
            dilations,
            filter_format=filter_format,
            pads=pads,
            bias=bias,
            activation=activation,
            out=out,
        )
    x = float_array(input, "input")
    f = float_array(filter, "filter")
    b = None if bias is None else float_array(bias, "bias")
    arrays = (x, f, b)
    args = (strides, padding, data_format, dilations, activation, pads, filter_format)
    # the planner closes over the tuples, not the names (conv2d_plan says why)
    plan = cached("depthwise", arrays, args, lambda: _plan_depthwise(*arrays, *args))
    return plan(x, f, b, out)


def _plan_conv2d(
    x, f, b, strides, padding, data_format, dilations, activation, algorithm, filter_format, pads
):
    fmt = normalize_data_format(data_format)
    ffmt = normalize_filter_format(filter_format)
    shape = conv_shape(
        x.shape, f.shape, strides, padding, fmt, dilations, filter_format=ffmt, pads=pads
    )
    check_algorithm(algorithm, shape)
    activation = check_activation(activation)
    check_bias(b, shape.out_channels)
    return ConvPlan(
        shape,
        fmt,
        result_dtype(x, f, b),
        activation,
        algorithm,
        None,
        OIHW_TO_HWIO if ffmt == "OIHW" else None,
    )


def _plan_depthwise(
    x, f, b, strides, padding, data_format, dilations, activation, pads, filter_format
):
    fmt = normalize_data_format(data_format)
    ffmt = normalize_filter_format(filter_format)
    shape = depthwise_shape(
        x.shape, f.shape, strides, padding, fmt, dilations, pads=pads, filter_format=ffmt
    )
    activation = check_activation(activation)
    check_bias(b, shape.out_channels)
    # The same memory read as a grouped HWIO filter [kh, kw, 1, C * multiplier] (an OIHW
    # [C * M, 1, kh, kw] filter transposed is that array).
    hwio = (shape.win.k_h, shape.win.k_w, 1, shape.out_channels)
    return ConvPlan(
        shape,
        fmt,
        result_dtype(x, f, b),
        activation,
        "direct",
        hwio,
        OIHW_TO_HWIO if ffmt == "OIHW" else None,
    )
