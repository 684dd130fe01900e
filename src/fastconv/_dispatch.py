"""From validated NumPy arrays to one C call: dtype casts, layout views, `out=` handling."""

from __future__ import annotations

import numpy as np

from . import _core
from ._arrays import check_out, compute_dtype
from ._geometry import nhwc_axes

ACTIVATION_CODES = {None: 0, "relu": 1, "relu6": 2, "sigmoid": 3, "tanh": 4}
ALGORITHM_CODES = {"auto": 0, "direct": 1, "im2col": 2, "winograd": 3}
ALGORITHM_NAMES = {code: name for name, code in ALGORITHM_CODES.items()}
POOL_CODES = {"max": 0, "avg": 1}


def kernel_input(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """`a` as the kernels can read it in place (any strides), copying only to cast or align."""
    if a.dtype != dtype or not a.flags.aligned:
        return a.astype(dtype)
    return a


def dense(a, dtype: np.dtype):
    return None if a is None else np.ascontiguousarray(a, dtype=dtype)


def destination(out, shape, result_dtype: np.dtype, sources):
    """(result array, array the kernel writes): the kernel writes a temporary when `out`
    needs another dtype than the kernels compute in, or overlaps an input."""
    work = compute_dtype(result_dtype)
    if out is None:
        y = np.empty(shape, result_dtype)
        return y, (y if work == result_dtype else np.empty(shape, work))
    y = check_out(out, shape, result_dtype)
    if work != result_dtype or any(s is not None and np.may_share_memory(y, s) for s in sources):
        return y, np.empty(shape, work)
    return y, y


def finish(y: np.ndarray, target: np.ndarray) -> np.ndarray:
    if target is not y:
        y[...] = target
    return y


def run_conv(x, filters, bias, y, target, win, groups, activation, algorithm, data_format):
    axes = nhwc_axes(data_format)
    _core.conv2d(
        x.transpose(axes), filters, bias, target.transpose(axes), win, groups,
        ACTIVATION_CODES[activation], ALGORITHM_CODES[algorithm],
    )
    return finish(y, target)


def run_pool(kind, x, y, target, win, data_format):
    axes = nhwc_axes(data_format)
    _core.pool2d(x.transpose(axes), target.transpose(axes), win, POOL_CODES[kind])
    return finish(y, target)
