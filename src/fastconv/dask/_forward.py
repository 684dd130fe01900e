"""conv2d, depthwise_conv2d, max_pool2d and avg_pool2d on Dask arrays: the NumPy function's
plan checks the arguments (the Dask array's shape and dtype stand in for the array), then
each tile runs the NumPy function with the tile's explicit padding (_windowed.tiled)."""

from __future__ import annotations

from functools import partial

from .. import conv, pool
from .._geometry import (
    check_flag,
    check_name,
    conv_shape,
    depthwise_shape,
    normalize_data_format,
    normalize_filter_format,
    pool_window,
)
from ._args import dask_input, no_out, small_array
from ._windowed import tiled


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
    """``fastconv.conv2d`` on a Dask array `input` (a NumPy array is wrapped as one chunk);
    `filters` and `bias` are NumPy arrays. Every argument is conv2d's (out= excepted).
    Returns a lazy Dask array."""
    check_name(name)
    no_out(out)
    x = dask_input(input, "input")
    f = small_array(filters, "filters")
    b = None if bias is None else small_array(bias, "bias")
    plan = conv._plan_conv2d(
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
    fmt, ffmt = normalize_data_format(data_format), normalize_filter_format(filter_format)
    shape = conv_shape(
        x.shape, f.shape, strides, padding, fmt, dilations, filter_format=ffmt, pads=pads
    )
    call = partial(
        conv.conv2d,
        filters=f,
        strides=strides,
        data_format=fmt,
        dilations=dilations,
        filter_format=ffmt,
        bias=b,
        activation=activation,
        algorithm=plan.algorithm(),  # resolved once, for the whole array
    )
    return tiled(
        [("input", x, "input")],
        shape.win,
        fmt,
        call,
        plan.result,
        out_channels=shape.out_channels,
        token="fastconv-conv2d",
    )


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
    """``fastconv.depthwise_conv2d`` on a Dask array `input`; `filter` and `bias` are NumPy
    arrays. Returns a lazy Dask array."""
    check_name(name)
    no_out(out)
    x = dask_input(input, "input")
    f = small_array(filter, "filter")
    b = None if bias is None else small_array(bias, "bias")
    plan = conv._plan_depthwise(
        x, f, b, strides, padding, data_format, dilations, activation, pads, filter_format
    )
    fmt, ffmt = normalize_data_format(data_format), normalize_filter_format(filter_format)
    shape = depthwise_shape(
        x.shape, f.shape, strides, padding, fmt, dilations, pads=pads, filter_format=ffmt
    )
    call = partial(
        conv.depthwise_conv2d,
        filter=f,
        strides=strides,
        data_format=fmt,
        dilations=dilations,
        filter_format=ffmt,
        bias=b,
        activation=activation,
    )
    return tiled(
        [("input", x, "input")],
        shape.win,
        fmt,
        call,
        plan.result,
        out_channels=shape.out_channels,
        token="fastconv-depthwise_conv2d",
    )


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
    """``fastconv.max_pool2d`` on a Dask array `input`. Returns a lazy Dask array.
    return_argmax=True is refused: its indices count cells of the whole flattened array
    (and, for "tf", of every image), which no chunk knows; for the gradient use
    ``fastconv.dask.max_pool2d_grad``."""
    check_name(name)
    if check_flag(return_argmax, "return_argmax"):
        raise NotImplementedError(
            "return_argmax=True is not supported on Dask arrays: the indices are positions in "
            "the whole flattened input, which no chunk knows; fastconv.dask.max_pool2d_grad "
            "gives the gradient without them"
        )
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
    """``fastconv.avg_pool2d`` on a Dask array `input`. Returns a lazy Dask array."""
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
        count_include_pad,
        out,
    )


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
    no_out(out)
    x = dask_input(input, "input")
    plan = pool._plan_pool(
        kind, x, ksize, strides, padding, data_format, dilations, ceil_mode, pads, count_include_pad
    )
    fmt = normalize_data_format(data_format)
    win = pool_window(
        x.shape, ksize, strides, padding, fmt, dilations, pads=pads, ceil_mode=ceil_mode
    )
    options = {"count_include_pad": count_include_pad} if kind == "avg" else {}
    call = partial(
        pool.max_pool2d if kind == "max" else pool.avg_pool2d,
        ksize=ksize,
        strides=strides,
        data_format=fmt,
        dilations=dilations,
        # each tile rounds its own output size up as the whole array does: only the last
        # tile's windows can reach past the input (the others' spans are whole strides)
        ceil_mode=ceil_mode,
        **options,
    )
    return tiled(
        [("input", x, "input")],
        win,
        fmt,
        call,
        plan.result,
        out_channels=win.channels,
        one_channel_chunk=False,
        token=f"fastconv-{kind}_pool2d",
    )
