"""output_shape: the result's shape of each public op (gradients included), from the same
geometry code the ops use (fastconv._geometry), without computing anything or needing the
extension."""

from __future__ import annotations

from collections.abc import Callable

from .._geometry import (
    OIHW_TO_HWIO,
    check_forward_output,
    check_out_backprop,
    conv_shape,
    depthwise_shape,
    join_shape,
    normalize_data_format,
    normalize_filter_format,
    pool_window,
    sizes_arg,
    transpose_sizes,
)


def _conv2d(
    input_shape,
    filters_shape,
    strides=1,
    padding="VALID",
    data_format="NHWC",
    dilations=1,
    *,
    filter_format="HWIO",
    pads=None,
):
    fmt = normalize_data_format(data_format)
    shape = conv_shape(
        tuple(input_shape),
        tuple(filters_shape),
        strides,
        padding,
        fmt,
        dilations,
        filter_format=normalize_filter_format(filter_format),
        pads=pads,
    )
    win = shape.win
    return join_shape(win.batch, win.out_h, win.out_w, shape.out_channels, fmt)


def _depthwise_conv2d(
    input_shape,
    filter_shape,
    strides=1,
    padding="VALID",
    data_format="NHWC",
    dilations=1,
    *,
    filter_format="HWIO",
    pads=None,
):
    fmt = normalize_data_format(data_format)
    shape = depthwise_shape(
        tuple(input_shape),
        tuple(filter_shape),
        strides,
        padding,
        fmt,
        dilations,
        pads=pads,
        filter_format=normalize_filter_format(filter_format),
    )
    win = shape.win
    return join_shape(win.batch, win.out_h, win.out_w, shape.out_channels, fmt)


def _pool2d(
    input_shape,
    ksize,
    strides,
    padding="VALID",
    data_format="NHWC",
    *,
    dilations=1,
    ceil_mode=False,
    pads=None,
    count_include_pad=False,
):
    """count_include_pad changes the divisor, not the shape: accepted as the pools take it."""
    fmt = normalize_data_format(data_format)
    win = pool_window(
        tuple(input_shape), ksize, strides, padding, fmt, dilations, pads=pads, ceil_mode=ceil_mode
    )
    return join_shape(win.batch, win.out_h, win.out_w, win.channels, fmt)


# The gradients: the same checks as the ops (the incoming gradient must have the forward
# output's shape); the result is the shape given (input_sizes, filter_sizes, output_shape).


def _backprop_input(geometry):
    def shape_of(
        input_sizes,
        filters_shape,
        out_backprop_shape,
        strides,
        padding,
        *,
        data_format="NHWC",
        dilations=1,
        filter_format="HWIO",
        pads=None,
    ):
        fmt = normalize_data_format(data_format)
        sizes = sizes_arg(input_sizes, "input_sizes")
        shape = geometry(
            sizes,
            tuple(filters_shape),
            strides,
            padding,
            fmt,
            dilations,
            pads=pads,
            filter_format=normalize_filter_format(filter_format),
        )
        check_out_backprop(shape, tuple(out_backprop_shape), fmt)
        return sizes

    return shape_of


def _backprop_filter(geometry):
    def shape_of(
        input_shape,
        filter_sizes,
        out_backprop_shape,
        strides,
        padding,
        *,
        data_format="NHWC",
        dilations=1,
        filter_format="HWIO",
        pads=None,
    ):
        fmt = normalize_data_format(data_format)
        sizes = sizes_arg(filter_sizes, "filter_sizes")
        shape = geometry(
            tuple(input_shape),
            sizes,
            strides,
            padding,
            fmt,
            dilations,
            pads=pads,
            filter_format=normalize_filter_format(filter_format),
        )
        check_out_backprop(shape, tuple(out_backprop_shape), fmt)
        return sizes

    return shape_of


def _conv2d_transpose(
    input_shape,
    filters_shape,
    output_shape=None,
    strides=1,
    padding="SAME",
    *,
    data_format="NHWC",
    dilations=1,
    filter_format="HWIO",
    pads=None,
    output_padding=None,
):
    fmt = normalize_data_format(data_format)
    ffmt = normalize_filter_format(filter_format)
    hwio = tuple(filters_shape)
    if ffmt == "OIHW" and len(hwio) == 4:
        hwio = tuple(hwio[a] for a in OIHW_TO_HWIO)
    sizes = transpose_sizes(
        output_shape,
        tuple(input_shape),
        hwio,
        strides,
        padding,
        fmt,
        dilations,
        output_padding,
        pads,
    )
    shape = conv_shape(sizes, hwio, strides, padding, fmt, dilations, pads=pads)
    check_out_backprop(shape, tuple(input_shape), fmt, "input")
    return sizes


def _max_pool2d_grad(
    input_shape, output_shape, grad_shape, ksize, strides, padding, *, data_format="NHWC", pads=None
):
    fmt = normalize_data_format(data_format)
    win = pool_window(tuple(input_shape), ksize, strides, padding, fmt, pads=pads)
    check_forward_output(win, win.channels, tuple(output_shape), fmt, "output")
    check_forward_output(win, win.channels, tuple(grad_shape), fmt, "grad")
    return tuple(int(v) for v in input_shape)


def _avg_pool2d_grad(
    input_sizes, grad_shape, ksize, strides, padding, *, data_format="NHWC", pads=None
):
    fmt = normalize_data_format(data_format)
    sizes = sizes_arg(input_sizes, "input_sizes")
    win = pool_window(sizes, ksize, strides, padding, fmt, pads=pads)
    check_forward_output(win, win.channels, tuple(grad_shape), fmt, "grad")
    return sizes


def _max_pool_with_argmax(
    input_shape, ksize, strides, padding, data_format="NHWC", *, include_batch_in_index=False
):
    """The shape of both results (output and argmax)."""
    return _pool2d(input_shape, ksize, strides, padding, data_format)


_SHAPES: dict[str, Callable[..., tuple[int, int, int, int]]] = {
    "conv2d": _conv2d,
    "depthwise_conv2d": _depthwise_conv2d,
    "max_pool2d": _pool2d,
    "avg_pool2d": _pool2d,
    "conv2d_backprop_input": _backprop_input(conv_shape),
    "depthwise_conv2d_backprop_input": _backprop_input(depthwise_shape),
    "conv2d_transpose": _conv2d_transpose,
    "conv2d_backprop_filter": _backprop_filter(conv_shape),
    "depthwise_conv2d_backprop_filter": _backprop_filter(depthwise_shape),
    "max_pool2d_grad": _max_pool2d_grad,
    "avg_pool2d_grad": _avg_pool2d_grad,
    "max_pool_with_argmax": _max_pool_with_argmax,
}


def output_shape(op: str, input_shape, *args, **kwargs) -> tuple[int, int, int, int]:
    """The shape `op` returns, for an input of `input_shape`; the other arguments are the op's
    own, in the same order and forms, with the filter's shape in place of the filter:

        output_shape("conv2d", (8, 56, 56, 64), (3, 3, 64, 128), 1, "SAME")  # (8, 56, 56, 128)
        output_shape("max_pool2d", (8, 56, 56, 64), 3, 2, "SAME")            # (8, 28, 28, 64)
        output_shape("conv2d_backprop_filter", (8, 56, 56, 64), (3, 3, 64, 128),
                     (8, 56, 56, 128), 1, "SAME")                            # (3, 3, 64, 128)

    The gradients return the shape their call names (input_sizes, filter_sizes,
    conv2d_transpose's output_shape or PyTorch's size from output_padding) once the
    arguments are checked, the incoming gradient's shape against the forward output's;
    max_pool_with_argmax the shape of each of its two results.

    Arguments the op would refuse raise the same ValueError / TypeError.
    """
    if op not in _SHAPES:
        raise ValueError(f"op must be one of {sorted(_SHAPES)}, got {op!r}")
    return _SHAPES[op](input_shape, *args, **kwargs)
