"""Gradients with respect to the filter: conv2d_backprop_filter and
depthwise_conv2d_backprop_filter, with TensorFlow's names, argument order and results.

The gradient is a sum of outer products over batch x output pixels (input values x
out_backprop rows, in registers); the C kernels split it across threads by blocks of the
filter, never over the reduction, so every filter value
is summed in the same order whatever the thread count: results are bit-identical for any
number of threads (neither TF nor PyTorch promises that for this op).
"""

from __future__ import annotations

import numpy as np

from . import _core, reference
from ._arrays import compute_dtype, float_array, result_dtype
from ._geometry import (
    check_flag,
    check_name,
    check_out_backprop,
    conv_shape,
    depthwise_shape,
    nhwc_axes,
    normalize_data_format,
    normalize_filter_format,
    sizes_arg,
)
from ._plans import Destination, _readable, cached

__all__ = ["conv2d_backprop_filter", "depthwise_conv2d_backprop_filter"]


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
    """The gradient of conv2d with respect to its filters, as
    ``tf.compat.v1.nn.conv2d_backprop_filter``.

    input: the forward input, 4-D in ``data_format``. filter_sizes: the filter's shape, 4
    integers HWIO ``[kh, kw, in_channels / groups, out_channels]`` (groups = C /
    filter_sizes[2], as in conv2d). out_backprop: the gradient of the loss with respect to
    conv2d's output, of that output's shape. strides, padding, dilations, data_format: as
    in conv2d (every padding form, NCHW, dilation together with stride). Returns dW, of
    shape filter_sizes: dW = d(sum(conv2d(input, W) * out_backprop)) / dW.

    return_bias_grad=True also returns the gradient of a bias added to conv2d's output
    (out_backprop summed over batch, height and width), computed in the same pass:
    ``filter_grad, bias_grad = conv2d_backprop_filter(..., return_bias_grad=True)``.
    out: a C-contiguous array of filter_sizes and the result dtype to write dW into.
    TF's positional ``use_cudnn_on_gpu`` is not copied (there is no cuDNN here); the
    arguments after padding are keyword-only. float16 is computed in float32. Results are
    bit-identical for any thread count.
    filter_format="OIHW": filter_sizes and dW in PyTorch's layout ``[out_channels,
    in_channels / groups, kh, kw]`` (``torch.nn.grad.conv2d_weight``'s); pads= with
    padding="NOTSET" (ONNX), as in conv2d.
    """
    return _filter_grad(
        conv_shape,
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
    """The gradient of depthwise_conv2d with respect to its filter, as
    ``tf.nn.depthwise_conv2d_backprop_filter``: filter_sizes
    ``[kh, kw, in_channels, channel_multiplier]``, out_backprop channel
    ``c * channel_multiplier + m``. The other arguments, return_bias_grad and out are
    conv2d_backprop_filter's; unlike TF, any stride works together with dilation.
    filter_format="OIHW": filter_sizes and the result in PyTorch's depthwise layout
    ``[in_channels * multiplier, 1, kh, kw]``."""
    return _filter_grad(
        depthwise_shape,
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


def _filter_grad(
    geometry,
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
    """Either op; `geometry` (conv_shape or depthwise_shape) reads filter_sizes."""
    check_name(name)
    return_bias_grad = check_flag(return_bias_grad, "return_bias_grad")
    x = float_array(input, "input")
    dy = float_array(out_backprop, "out_backprop")
    plan = cached(
        geometry,
        (x, dy),
        (filter_sizes, strides, padding, data_format, dilations, filter_format, pads),
        lambda: _plan(
            geometry,
            x,
            dy,
            filter_sizes,
            strides,
            padding,
            data_format,
            dilations,
            filter_format,
            pads,
        ),
    )
    result = plan(x, dy, out, return_bias_grad)
    dw = result[0] if return_bias_grad else result
    if plan.padded and _both_nonfinite(*sorted((dw, dy), key=np.size)):
        # The kernels multiply the padding's zeros by out_backprop: an Inf or NaN there
        # would give NaN, where the contract (docs/non-finite.md) and TF leave padding taps
        # out. An Inf or NaN of out_backprop at a pixel makes every filter value it is
        # summed into Inf or NaN (0 * Inf = NaN, and no later sum is finite again), so only
        # where both dW and out_backprop hold Inf or NaN is dW computed again, by the
        # reference's code (float64, one rounding), which gathers the real taps only (a
        # non-finite dW from a finite out_backprop comes from the input's real taps, as in
        # TF). The smaller of the two is checked first, the other only if it fails: dW on
        # LeNet's first layer (out_backprop 20% of its time), out_backprop on r50-3x3-7
        # (100 KB against a 9.4 MB dW whose check took 17-19% of the call).
        op = getattr(
            reference,
            "conv2d_backprop_filter"
            if geometry is conv_shape
            else "depthwise_conv2d_backprop_filter",
        )
        return op(
            x,
            filter_sizes,
            dy,
            strides,
            padding,
            data_format=data_format,
            dilations=dilations,
            filter_format=filter_format,
            pads=pads,
            return_bias_grad=return_bias_grad,
            out=out,
        )
    return result


def _both_nonfinite(first, second) -> bool:
    """Whether both arrays hold an Inf or NaN, the second looked at only if the first does."""
    return not np.isfinite(first).all() and not np.isfinite(second).all()


def _plan(
    geometry, x, dy, filter_sizes, strides, padding, data_format, dilations, filter_format, pads
):
    fmt = normalize_data_format(data_format)
    ffmt = normalize_filter_format(filter_format)
    sizes = sizes_arg(filter_sizes, "filter_sizes")
    shape = geometry(
        x.shape, sizes, strides, padding, fmt, dilations, pads=pads, filter_format=ffmt
    )
    check_out_backprop(shape, dy.shape, fmt)
    result = result_dtype(x, dy)
    return BackpropFilterPlan(shape, fmt, sizes, result, compute_dtype(result), ffmt == "OIHW")


class BackpropFilterPlan:
    """One signature of a filter-gradient call: geometry resolved, the C kernel made."""

    __slots__ = (
        "kernel",
        "sizes",
        "destination",
        "hwio",
        "out_channels",
        "result",
        "work",
        "axes",
        "oihw",
        "padded",
    )

    def __init__(self, shape, data_format, sizes, result, work, oihw):
        self.kernel = _core.BackpropFilterKernel(shape.win, shape.groups)
        self.sizes = sizes  # dW's, in the filter format (fastconv.dask's tiles read them)
        self.destination = Destination(sizes, result, work)
        # the kernel's HWIO view of dW: a depthwise [kh, kw, C, M] is [kh, kw, 1, C * M]
        self.hwio = (
            shape.win.k_h,
            shape.win.k_w,
            shape.win.channels // shape.groups,
            shape.out_channels,
        )
        # OIHW sizes: the kernel writes an HWIO buffer, transposed into dW (its axes (3, 2,
        # 0, 1) are OIHW, depthwise [C * M, 1, kh, kw] too)
        self.oihw = oihw
        win = shape.win  # whether any tap can read padding (see _filter_grad)
        self.padded = max(win.pad_top, win.pad_bottom, win.pad_left, win.pad_right) > 0
        self.out_channels = shape.out_channels
        self.result = result
        self.work = work
        self.axes = None if data_format == "NHWC" else nhwc_axes(data_format)

    def __call__(self, x, dy, out, return_bias_grad):
        dw, target = self.destination.arrays(out, (x, dy))
        if self.oihw:
            target = np.empty(self.hwio, self.work)
        db = np.empty(self.out_channels, self.work) if return_bias_grad else None
        xk, dyk, axes = _readable(x, self.work), _readable(dy, self.work), self.axes
        # The kernel writes every value (zeros where nothing is summed: empty batches).
        self.kernel.run(
            xk if axes is None else xk.transpose(axes),
            dyk if axes is None else dyk.transpose(axes),
            target.reshape(self.hwio),
            db,
        )
        if self.oihw:
            dw[...] = target.transpose(3, 2, 0, 1)
        elif target is not dw:
            dw[...] = target
        if return_bias_grad:
            assert db is not None  # allocated above when the bias gradient is asked for
            return dw, db.astype(self.result, copy=False)
        return dw
