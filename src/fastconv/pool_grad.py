"""Pooling gradients and max pooling with its argmax, with the arguments and results of
tf.raw_ops.MaxPoolGrad / AvgPoolGrad and tf.nn.max_pool_with_argmax: validate (once per
signature), allocate, one C call."""

from __future__ import annotations

from ._arrays import float_array, is_cupy, result_dtype
from ._geometry import (
    check_forward_output,
    flat_index_strides,
    normalize_data_format,
    pool_window,
    sizes_arg,
)
from ._plans import cached
from ._pool_grad_plans import ArgmaxPlan, PoolGradPlan


def max_pool2d_grad(
    input, output, grad, ksize, strides, padding, *, data_format="NHWC", pads=None, out=None
):
    """The gradient of ``max_pool2d`` with respect to its input, as
    ``tf.raw_ops.MaxPoolGrad(orig_input=input, orig_output=output, grad=grad, ...)``.

    Each window's gradient goes to the cell its maximum came from: the first maximum in
    row-major order where several cells tie (TF's rule), and the window's first NaN where it
    holds one (fastconv's max_pool2d propagates NaN, so that NaN is the output; TF, whose
    forward drops NaN, differs there). Cells that win several windows sum their gradients.
    `output` (the forward result) is checked for shape only: the winners are found in
    `input`, as TF's CPU kernel does. Same ksize / strides / padding forms as max_pool2d;
    the result has the input's shape and dtype numpy.result_type(input, output, grad).
    PyTorch's int / (h, w) padding and ONNX's auto_pad spellings work too, pads= with
    padding="NOTSET"; there is no dilation, ceil_mode or count_include_pad here.
    """
    x = _array(input, "input")
    y = _array(output, "output")
    g = _array(grad, "grad")
    plan = cached(
        "max_pool2d_grad",
        (x, y, g),
        (ksize, strides, padding, data_format, pads),
        lambda: _plan_grad(
            "max",
            x.shape,
            (("output", y), ("grad", g)),
            result_dtype(x, y, g),
            ksize,
            strides,
            padding,
            data_format,
            pads,
        ),
    )
    return plan(x, g, (x, y, g), out)


def avg_pool2d_grad(
    input_sizes, grad, ksize, strides, padding, *, data_format="NHWC", pads=None, out=None
):
    """The gradient of ``avg_pool2d`` with respect to its input, as
    ``tf.raw_ops.AvgPoolGrad(orig_input_shape=input_sizes, grad=grad, ...)``.

    input_sizes: the forward input's shape, 4 integers in data_format order. Each window's
    gradient is divided by the window's real (unpadded) cells, TF's divisor, and added to
    each of them. The result has that shape and grad's dtype. padding and pads as in
    max_pool2d_grad.
    """
    sizes = sizes_arg(input_sizes, "input_sizes")
    g = _array(grad, "grad")
    plan = cached(
        "avg_pool2d_grad",
        (g,),
        (sizes, ksize, strides, padding, data_format, pads),
        lambda: _plan_grad(
            "avg", sizes, (("grad", g),), g.dtype, ksize, strides, padding, data_format, pads
        ),
    )
    return plan(None, g, (g,), out)


def max_pool_with_argmax(
    input, ksize, strides, padding, data_format="NHWC", *, include_batch_in_index=False, out=None
):
    """Max pooling and where each maximum came from, as ``tf.nn.max_pool_with_argmax``.

    Returns (output, argmax): output as max_pool2d's, argmax int64 of the same shape, the
    index of the winning cell in the flattened input: ((b * H + y) * W + x) * C + c for
    NHWC, TF's formula, with b * H * W * C only where include_batch_in_index. The winner is
    the cell max_pool2d_grad gives the gradient: the window's first NaN, else its first
    maximum in row-major order. TF has NHWC only; data_format="NCHW" is accepted here and
    indexes the flattened NCHW input the same way, ((b * C + c) * H + y) * W + x, so that in
    both layouts ``input.reshape(-1)[argmax]`` (per image without the batch) is the output.
    Explicit padding works too (TF takes "SAME" / "VALID" only). out: None or a pair
    (output, argmax) of C-contiguous arrays to write.
    """
    x = _array(input, "input")
    if not isinstance(include_batch_in_index, bool):
        raise TypeError(
            f"include_batch_in_index must be True or False, got {include_batch_in_index!r}"
        )
    plan = cached(
        "max_pool_with_argmax",
        (x,),
        (ksize, strides, padding, data_format, include_batch_in_index),
        lambda: _plan_argmax(x, ksize, strides, padding, data_format, include_batch_in_index),
    )
    return plan(x, out)


def _array(value, name):
    if is_cupy(value):
        raise TypeError(
            f"{name} is a CuPy array: the pooling gradients run on the CPU only (pass a "
            f"NumPy array, e.g. {name}.get())"
        )
    return float_array(value, name)


def _plan_grad(kind, input_shape, incoming, result, ksize, strides, padding, data_format, pads):
    """incoming: (name, array) pairs that must have the forward output's shape."""
    fmt = normalize_data_format(data_format)
    win = pool_window(input_shape, ksize, strides, padding, fmt, pads=pads)
    for name, arr in incoming:
        check_forward_output(win, win.channels, arr.shape, fmt, name)
    return PoolGradPlan(kind, win, fmt, result)


def _plan_argmax(x, ksize, strides, padding, data_format, include_batch):
    fmt = normalize_data_format(data_format)
    win = pool_window(x.shape, ksize, strides, padding, fmt)
    return ArgmaxPlan(win, fmt, x.dtype, flat_index_strides(win, fmt, include_batch))
