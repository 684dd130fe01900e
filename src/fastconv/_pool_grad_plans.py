"""Call plans of the pooling gradients and of max pooling with its argmax: what a call's
argument signature determines, worked out once (as _plans.py does for the forward ops)."""

from __future__ import annotations

import numpy as np

from . import _core
from ._arrays import check_out, compute_dtype
from ._geometry import join_shape, nhwc_axes
from ._plans import POOL_CODES, Destination, _readable


class PoolGradPlan:
    """max_pool2d_grad / avg_pool2d_grad for one signature: dx of the input's shape."""

    __slots__ = ("kernel", "destination", "result", "work", "axes")

    def __init__(self, kind, win, data_format, result):
        self.kernel = _core.PoolGradKernel(win, POOL_CODES[kind])
        self.result = result
        self.work = compute_dtype(result)
        self.destination = Destination(
            join_shape(win.batch, win.in_h, win.in_w, win.channels, data_format),
            result,
            self.work,
        )
        self.axes = None if data_format == "NHWC" else nhwc_axes(data_format)

    def __call__(self, x, g, sources, out):
        """x: the forward input (max), or None (avg: only its shape matters)."""
        dx, target = self.destination.arrays(out, sources)
        if self.destination.empty:
            return dx
        work, axes = self.work, self.axes
        gk = _readable(g, work)
        xk = target if x is None else _readable(x, work)
        if axes is not None:
            xk, gk, tk = xk.transpose(axes), gk.transpose(axes), target.transpose(axes)
        else:
            tk = target
        self.kernel.run(xk, gk, tk)
        if target is not dx:
            dx[...] = target
        return dx


class ArgmaxPlan:
    """max_pool_with_argmax for one signature: (output, argmax)."""

    __slots__ = ("kernel", "destination", "result", "work", "axes")

    def __init__(self, win, data_format, result, index_strides):
        # index_strides: what each unit of n, y, x, c adds to an index (the convention)
        self.kernel = _core.ArgmaxKernel(win, index_strides)
        self.result = result
        self.work = compute_dtype(result)
        self.destination = Destination(
            join_shape(win.batch, win.out_h, win.out_w, win.channels, data_format),
            result,
            self.work,
        )
        self.axes = None if data_format == "NHWC" else nhwc_axes(data_format)

    def __call__(self, x, out):
        if out is None:
            y_out = arg_out = None
        else:
            y_out, arg_out = _pair(out)
            check_out(arg_out, self.destination.shape, np.dtype(np.int64))
        y, target = self.destination.arrays(y_out, (x,))
        argmax = np.empty(self.destination.shape, np.int64) if arg_out is None else arg_out
        if self.destination.empty:
            return y, argmax
        xk, axes = _readable(x, self.work), self.axes
        if axes is None:
            self.kernel.run(xk, target, argmax)
        else:
            self.kernel.run(xk.transpose(axes), target.transpose(axes), argmax.transpose(axes))
        if target is not y:
            y[...] = target
        return y, argmax


def _pair(out):
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(
            f"out must be None or a pair (output, argmax) of arrays, got {type(out).__name__}"
        )
    return out
