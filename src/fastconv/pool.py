"""max_pool2d and avg_pool2d: validate (once per signature), allocate, one C call."""

from __future__ import annotations

from . import gpu
from ._arrays import float_array, is_cupy
from ._geometry import check_name, normalize_data_format, pool_window
from ._plans import PoolPlan, arg_key, cached


def max_pool2d(input, ksize, strides, padding="VALID", data_format="NHWC", name=None, *,
               out=None):
    """Max pooling with the arguments and results of ``tf.nn.max_pool2d``.

    Padding cells never win. NaN propagates (TF returns 0.0 there; NumPy and PyTorch
    propagate it too). Explicit padding must be smaller than the window. data_format None:
    "NHWC"; name: TF's op name, accepted and ignored.
    """
    check_name(name)
    return _pool("max", input, ksize, strides, padding, data_format, out)


def avg_pool2d(input, ksize, strides, padding="VALID", data_format="NHWC", name=None, *,
               out=None):
    """Average pooling with the arguments and results of ``tf.nn.avg_pool2d``.

    Divides by the number of real (unpadded) cells in each window, as TF does; explicit
    padding works too (TF has none for avg_pool), and its cells are not counted either.
    data_format None: "NHWC"; name: TF's op name, accepted and ignored.
    """
    check_name(name)
    return _pool("avg", input, ksize, strides, padding, data_format, out)


def _pool(kind, input, ksize, strides, padding, data_format, out):
    if is_cupy(input):  # runs on its GPU (fastconv.gpu), a CuPy result
        return gpu.pool2d(kind, input, ksize, strides, padding, data_format, out=out)
    x = float_array(input, "input")
    key = (kind, x.shape, x.dtype, arg_key(ksize), arg_key(strides), arg_key(padding),
           arg_key(data_format))
    plan = cached(key, lambda: _plan_pool(kind, x, ksize, strides, padding, data_format))
    return plan(x, out)


def _plan_pool(kind, x, ksize, strides, padding, data_format):
    fmt = normalize_data_format(data_format)
    win = pool_window(x.shape, ksize, strides, padding, fmt)
    return PoolPlan(kind, win, fmt, x.dtype)
