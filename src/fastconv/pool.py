"""max_pool2d and avg_pool2d: validate, allocate, one call into the C kernels."""

from __future__ import annotations

from . import _dispatch
from ._arrays import compute_dtype, float_array
from ._geometry import join_shape, normalize_data_format, pool_window


def max_pool2d(input, ksize, strides, padding="VALID", data_format="NHWC", *, out=None):
    """Max pooling with the arguments and results of ``tf.nn.max_pool2d``.

    Padding cells never win. NaN propagates (TF returns 0.0 there; NumPy and PyTorch
    propagate it too). Explicit padding must be smaller than the window.
    """
    return _pool("max", input, ksize, strides, padding, data_format, out)


def avg_pool2d(input, ksize, strides, padding="VALID", data_format="NHWC", *, out=None):
    """Average pooling with the arguments and results of ``tf.nn.avg_pool2d``.

    Divides by the number of real (unpadded) cells in each window, as TF does; explicit
    padding works too (TF has none for avg_pool), and its cells are not counted either.
    """
    return _pool("avg", input, ksize, strides, padding, data_format, out)


def _pool(kind, input, ksize, strides, padding, data_format, out):
    x = float_array(input, "input")
    fmt = normalize_data_format(data_format)
    win = pool_window(x.shape, ksize, strides, padding, fmt)
    y, target = _dispatch.destination(
        out, join_shape(win.batch, win.out_h, win.out_w, win.channels, fmt), x.dtype, (x,)
    )
    if y.size == 0:
        return y
    return _dispatch.run_pool(
        kind, _dispatch.kernel_input(x, compute_dtype(x.dtype)), y, target, win, fmt
    )
