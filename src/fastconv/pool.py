"""max_pool2d and avg_pool2d: validate (once per signature), allocate, one C call."""

from __future__ import annotations

from . import gpu
from ._arrays import float_array, is_cupy
from ._geometry import (
    argmax_window,
    check_flag,
    check_name,
    normalize_data_format,
    pool_divisors,
    pool_window,
)
from ._plans import PoolPlan, cached
from ._pool_grad_plans import ArgmaxPlan


# The conventions beyond TF's (keyword-only, every framework's spelling, documented in
# normalize_padding and docs/peers.md): pads (ONNX), dilations, ceil_mode (PyTorch, ONNX),
# count_include_pad (avg: PyTorch, ONNX).


def max_pool2d(
    input,
    ksize,
    strides,
    padding="VALID",
    data_format="NHWC",
    name=None,
    *,
    dilations=1,
    ceil_mode: bool = False,
    pads=None,
    return_argmax: bool = False,
    index_format: str = "tf",
    include_batch_in_index: bool = False,
    storage_order: int = 0,
    out=None,
):
    """Max pooling with the arguments and results of ``tf.nn.max_pool2d``.

    Padding cells never win. NaN propagates (TF returns 0.0 there; NumPy and PyTorch
    propagate it too). Explicit padding must be smaller than the window. data_format None:
    "NHWC"; name: TF's op name, accepted and ignored.
    padding also takes PyTorch's int / (h, w) and ONNX's auto_pad spellings, with pads=
    [top, left, bottom, right] for "NOTSET" (see fastconv._geometry.normalize_padding).
    dilations: an int, (h, w) or 4 values, PyTorch's and ONNX's pooling dilation.
    ceil_mode: round the output size up, as PyTorch and ONNX do, without a last window that
    starts past the input and its top/left padding (explicit padding or VALID only).
    return_argmax: return (output, argmax), argmax int64 of the output's shape, the index of
    each window's winner (its first NaN, else its first maximum in row-major order) in the
    index_format convention: "tf" (tf.nn.max_pool_with_argmax, with its
    include_batch_in_index), "torch" (return_indices: y * W + x in the plane) or "onnx"
    (MaxPool's Indices, flattened NCHW; storage_order=1 column-major); with dilations
    too, except where a dilated window holds padding only (it has no winner: a ValueError).
    out: with return_argmax, None or a pair (output, argmax) of C-contiguous arrays.
    """
    check_name(name)
    if check_flag(return_argmax, "return_argmax"):
        if is_cupy(input):
            raise TypeError("return_argmax runs on the CPU only (pass a NumPy array)")
        x = float_array(input, "input")
        plan = cached(
            "argmax",
            (x,),
            (
                ksize,
                strides,
                padding,
                data_format,
                dilations,
                ceil_mode,
                pads,
                index_format,
                include_batch_in_index,
                storage_order,
            ),
            lambda: _plan_argmax(
                x,
                ksize,
                strides,
                padding,
                data_format,
                dilations,
                ceil_mode,
                pads,
                index_format,
                include_batch_in_index,
                storage_order,
            ),
        )
        return plan(x, out)
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
    ceil_mode: bool = False,
    count_include_pad: bool = False,
    pads=None,
    out=None,
):
    """Average pooling with the arguments and results of ``tf.nn.avg_pool2d``.

    Divides by the number of real (unpadded) cells in each window, as TF does; explicit
    padding works too (TF has none for avg_pool), and its cells are not counted either.
    data_format None: "NHWC"; name: TF's op name, accepted and ignored.
    count_include_pad=True divides by the cells inside the padded input instead (PyTorch's
    and ONNX's option): padding cells count, cells a ceil_mode window reaches past the
    padding do not. padding, pads, dilations (ONNX AveragePool's) and ceil_mode as in
    max_pool2d.
    """
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
    if is_cupy(input):  # runs on its GPU (fastconv.gpu), a CuPy result
        if dilations not in (1, None, (1, 1), [1, 1]) or count_include_pad:
            raise ValueError(
                "dilations and count_include_pad are not supported on the GPU "
                "path (a CuPy input) yet"
            )
        return gpu.pool2d(
            kind,
            input,
            ksize,
            strides,
            padding,
            data_format,
            out=out,
            ceil_mode=ceil_mode,
            pads=pads,
        )
    x = float_array(input, "input")
    args = (ksize, strides, padding, data_format, dilations, ceil_mode, pads, count_include_pad)
    # the planner closes over the tuple, not the names (conv2d_plan says why)
    plan = cached(kind, (x,), args, lambda: _plan_pool(kind, x, *args))
    return plan(x, out)


def _plan_pool(
    kind, x, ksize, strides, padding, data_format, dilations, ceil_mode, pads, count_include_pad
):
    fmt = normalize_data_format(data_format)
    win = pool_window(
        x.shape, ksize, strides, padding, fmt, dilations, pads=pads, ceil_mode=ceil_mode
    )
    divisors = (
        pool_divisors(win, True)
        if kind == "avg" and check_flag(count_include_pad, "count_include_pad")
        else None
    )
    return PoolPlan(kind, win, fmt, x.dtype, divisors)


def _plan_argmax(
    x,
    ksize,
    strides,
    padding,
    data_format,
    dilations,
    ceil_mode,
    pads,
    index_format,
    include_batch_in_index,
    storage_order,
):
    fmt = normalize_data_format(data_format)
    win, index = argmax_window(
        x.shape,
        ksize,
        strides,
        padding,
        fmt,
        dilations,
        pads=pads,
        ceil_mode=ceil_mode,
        index_format=index_format,
        include_batch_in_index=include_batch_in_index,
        storage_order=storage_order,
    )
    return ArgmaxPlan(win, fmt, x.dtype, index)
