"""The gradient ops on Dask arrays: conv2d_backprop_input, depthwise_conv2d_backprop_input,
conv2d_transpose, conv2d_backprop_filter, depthwise_conv2d_backprop_filter, max_pool2d_grad
and avg_pool2d_grad. As for the forward ops, the NumPy function's plan checks the arguments
and each tile runs the NumPy function (_windowed.tiled):

- input gradients, conv2d_transpose and the pooling gradients are indexed by the forward
  input: a tile of it is computed from the gradient cells whose windows cover it (a halo of
  ``(eff_k - 1) // stride`` cells on the low side of out_backprop / grad, and for
  max_pool2d_grad the input cells those windows read), and keeps its own cells;
- filter gradients are a sum over the batch and over every window: each tile of the forward
  input (with the forward halo) and its out_backprop cells give a partial dW (and db), and
  Dask's tree reduction adds them up.
"""

from __future__ import annotations

import math
from functools import partial

from .. import conv_backprop_filter as bf
from .. import conv_backprop_input as bi
from .. import pool_grad
from .._arrays import result_dtype
from .._geometry import (
    check_flag,
    check_name,
    conv_shape,
    depthwise_shape,
    normalize_data_format,
    normalize_filter_format,
    pool_window,
    sizes_arg,
)
from ._args import dask_input, no_out, small_array
from ._windowed import tiled


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
    """``fastconv.conv2d_backprop_input`` on a Dask array `out_backprop`; `filters` is a NumPy
    array. Returns a lazy Dask array of shape input_sizes."""
    return _input_gradient(
        "conv2d",
        bi.conv2d_backprop_input,
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
    """``fastconv.depthwise_conv2d_backprop_input`` on a Dask array `out_backprop`; `filter`
    is a NumPy array. Returns a lazy Dask array of shape input_sizes."""
    return _input_gradient(
        "depthwise",
        bi.depthwise_conv2d_backprop_input,
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


def _input_gradient(
    kind,
    func,
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
    no_out(out)
    dy = dask_input(out_backprop, "out_backprop")
    f = small_array(filters, filter_name)
    sizes = sizes_arg(input_sizes, "input_sizes")
    plan = bi._plan(
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
    )
    fmt, ffmt = normalize_data_format(data_format), normalize_filter_format(filter_format)
    geometry = conv_shape if kind == "conv2d" else depthwise_shape
    shape = geometry(
        sizes, f.shape, strides, padding, fmt, dilations, pads=pads, filter_format=ffmt
    )
    call = partial(
        func,
        **{filter_name: f},
        strides=strides,
        data_format=fmt,
        dilations=dilations,
        filter_format=ffmt,
    )
    return tiled(
        [("out_backprop", dy, "output")],
        shape.win,
        fmt,
        call,
        plan.result,
        result="input",
        out_channels=shape.win.channels,
        sizes="input_sizes",
        token=f"fastconv-{kind}_backprop_input",
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
    """``fastconv.conv2d_transpose`` on a Dask array `input`; `filters` and `bias` are NumPy
    arrays. Returns a lazy Dask array (of shape output_shape, or PyTorch's size from
    output_padding)."""
    no_out(out)
    x = dask_input(input, "input")
    f = small_array(filters, "filters")
    b = None if bias is None else small_array(bias, "bias")
    fmt, ffmt = normalize_data_format(data_format), normalize_filter_format(filter_format)
    sizes = bi.transpose_result_shape(
        x.shape, f.shape, output_shape, strides, padding, fmt, dilations, ffmt, output_padding, pads
    )
    plan = bi._plan(
        "conv2d", sizes, f, x, b, strides, padding, fmt, dilations, activation, "input", ffmt, pads
    )
    shape = conv_shape(
        sizes, f.shape, strides, padding, fmt, dilations, pads=pads, filter_format=ffmt
    )
    call = partial(
        bi.conv2d_transpose,
        filters=f,
        strides=strides,
        data_format=fmt,
        dilations=dilations,
        filter_format=ffmt,
        bias=b,
        activation=activation,
    )
    return tiled(
        [("input", x, "output")],
        shape.win,
        fmt,
        call,
        plan.result,
        result="input",
        out_channels=shape.win.channels,
        sizes="output_shape",
        token="fastconv-conv2d_transpose",
    )


def conv2d_backprop_filter(
    input,
    filter_sizes,
    out_backprop,
    strides,
    padding,
    *,
    data_format="NHWC",
    dilations=1,
    filter_format="HWIO",
    pads=None,
    return_bias_grad=False,
    name=None,
    out=None,
):
    """``fastconv.conv2d_backprop_filter`` on Dask arrays `input` and `out_backprop` (a
    NumPy array is one chunk). Returns a lazy Dask array of shape filter_sizes (and the
    bias gradient with return_bias_grad=True): the sum over tiles of each tile's filter
    gradient, so within the tolerance of the whole-array call rather than bit for bit."""
    return _filter_gradient(
        conv_shape,
        bf.conv2d_backprop_filter,
        input,
        filter_sizes,
        out_backprop,
        strides,
        padding,
        data_format,
        dilations,
        filter_format,
        pads,
        return_bias_grad,
        name,
        out,
    )


def depthwise_conv2d_backprop_filter(
    input,
    filter_sizes,
    out_backprop,
    strides,
    padding,
    *,
    data_format="NHWC",
    dilations=1,
    filter_format="HWIO",
    pads=None,
    return_bias_grad=False,
    name=None,
    out=None,
):
    """``fastconv.depthwise_conv2d_backprop_filter`` on Dask arrays `input` and
    `out_backprop`, as fastconv.dask.conv2d_backprop_filter."""
    return _filter_gradient(
        depthwise_shape,
        bf.depthwise_conv2d_backprop_filter,
        input,
        filter_sizes,
        out_backprop,
        strides,
        padding,
        data_format,
        dilations,
        filter_format,
        pads,
        return_bias_grad,
        name,
        out,
    )


def _filter_gradient(
    geometry,
    func,
    input,
    filter_sizes,
    out_backprop,
    strides,
    padding,
    data_format,
    dilations,
    filter_format,
    pads,
    return_bias_grad,
    name,
    out,
):
    check_name(name)
    no_out(out)
    x = dask_input(input, "input")
    dy = dask_input(out_backprop, "out_backprop")
    plan = bf._plan(
        geometry, x, dy, filter_sizes, strides, padding, data_format, dilations, filter_format, pads
    )
    return_bias_grad = check_flag(return_bias_grad, "return_bias_grad")
    fmt, ffmt = normalize_data_format(data_format), normalize_filter_format(filter_format)
    shape = geometry(
        x.shape, plan.sizes, strides, padding, fmt, dilations, pads=pads, filter_format=ffmt
    )
    call = partial(
        func,
        filter_sizes=plan.sizes,
        strides=strides,
        data_format=fmt,
        dilations=dilations,
        filter_format=ffmt,
        return_bias_grad=return_bias_grad,
    )
    size = math.prod(plan.sizes)
    total = tiled(
        [("input", x, "input"), ("out_backprop", dy, "output")],
        shape.win,
        fmt,
        call,
        plan.result,
        result="sum",
        sum_length=size + (plan.out_channels if return_bias_grad else 0),
        token=f"fastconv-{func.__name__}",
    )
    dw = total[:size].reshape(plan.sizes)
    return (dw, total[size:]) if return_bias_grad else dw


def max_pool2d_grad(
    input, output, grad, ksize, strides, padding, *, data_format="NHWC", pads=None, out=None
):
    """``fastconv.max_pool2d_grad`` on Dask arrays `input`, `output` and `grad`. Returns a
    lazy Dask array of the input's shape."""
    no_out(out)
    x = dask_input(input, "input")
    y = dask_input(output, "output")
    g = dask_input(grad, "grad")
    return _pool_gradient(
        "max",
        pool_grad.max_pool2d_grad,
        [("input", x, "input"), ("output", y, "output"), ("grad", g, "output")],
        x.shape,
        result_dtype(x, y, g),
        ksize,
        strides,
        padding,
        data_format,
        pads,
    )


def avg_pool2d_grad(
    input_sizes, grad, ksize, strides, padding, *, data_format="NHWC", pads=None, out=None
):
    """``fastconv.avg_pool2d_grad`` on a Dask array `grad`. Returns a lazy Dask array of
    shape input_sizes."""
    no_out(out)
    g = dask_input(grad, "grad")
    return _pool_gradient(
        "avg",
        pool_grad.avg_pool2d_grad,
        [("grad", g, "output")],
        sizes_arg(input_sizes, "input_sizes"),
        g.dtype,
        ksize,
        strides,
        padding,
        data_format,
        pads,
    )


def _pool_gradient(
    kind, func, arrays, input_shape, result, ksize, strides, padding, data_format, pads
):
    """arrays: (keyword, array, of) as tiled takes them; those indexed by the output must
    have the forward output's shape (checked by the NumPy function's plan)."""
    incoming = [(name, a) for name, a, of in arrays if of == "output"]
    pool_grad._plan_grad(
        kind, input_shape, incoming, result, ksize, strides, padding, data_format, pads
    )
    fmt = normalize_data_format(data_format)
    win = pool_window(input_shape, ksize, strides, padding, fmt, pads=pads)
    return tiled(
        arrays,
        win,
        fmt,
        partial(func, ksize=ksize, strides=strides, data_format=fmt),
        result,
        result="input",
        out_channels=win.channels,
        one_channel_chunk=False,
        sizes="input_sizes" if kind == "avg" else None,
        token=f"fastconv-{kind}_pool2d_grad",
    )
