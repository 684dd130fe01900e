"""output_shape: the result's shape of each public op, from the same geometry code the ops
use (fastconv._geometry), without computing anything or needing the extension."""

from __future__ import annotations

from collections.abc import Callable

from .._geometry import (
    conv_shape, depthwise_shape, join_shape, normalize_data_format, normalize_filter_format,
    pool_window,
)


def _conv2d(input_shape, filters_shape, strides=1, padding="VALID", data_format="NHWC",
            dilations=1, *, filter_format="HWIO", pads=None):
    fmt = normalize_data_format(data_format)
    shape = conv_shape(tuple(input_shape), tuple(filters_shape), strides, padding, fmt, dilations,
                       filter_format=normalize_filter_format(filter_format), pads=pads)
    win = shape.win
    return join_shape(win.batch, win.out_h, win.out_w, shape.out_channels, fmt)


def _depthwise_conv2d(input_shape, filter_shape, strides=1, padding="VALID", data_format="NHWC",
                      dilations=1, *, filter_format="HWIO", pads=None):
    fmt = normalize_data_format(data_format)
    shape = depthwise_shape(tuple(input_shape), tuple(filter_shape), strides, padding, fmt,
                            dilations, pads=pads,
                            filter_format=normalize_filter_format(filter_format))
    win = shape.win
    return join_shape(win.batch, win.out_h, win.out_w, shape.out_channels, fmt)


def _pool2d(input_shape, ksize, strides, padding="VALID", data_format="NHWC", *, dilations=1,
            ceil_mode=False, pads=None, count_include_pad=False):
    """count_include_pad changes the divisor, not the shape: accepted as the pools take it."""
    fmt = normalize_data_format(data_format)
    win = pool_window(tuple(input_shape), ksize, strides, padding, fmt, dilations, pads=pads,
                      ceil_mode=ceil_mode)
    return join_shape(win.batch, win.out_h, win.out_w, win.channels, fmt)


_SHAPES: dict[str, Callable[..., tuple[int, int, int, int]]] = {
    "conv2d": _conv2d,
    "depthwise_conv2d": _depthwise_conv2d,
    "max_pool2d": _pool2d,
    "avg_pool2d": _pool2d,
}


def output_shape(op: str, input_shape, *args, **kwargs) -> tuple[int, int, int, int]:
    """The shape `op` returns, for an input of `input_shape`; the other arguments are the op's
    own, in the same order and forms, with the filter's shape in place of the filter:

        output_shape("conv2d", (8, 56, 56, 64), (3, 3, 64, 128), 1, "SAME")  # (8, 56, 56, 128)
        output_shape("max_pool2d", (8, 56, 56, 64), 3, 2, "SAME")            # (8, 28, 28, 64)

    Arguments the op would refuse raise the same ValueError / TypeError.
    """
    if op not in _SHAPES:
        raise ValueError(f"op must be one of {sorted(_SHAPES)}, got {op!r}")
    return _SHAPES[op](input_shape, *args, **kwargs)
