"""Call plans: everything a call's argument signature determines, worked out once.

Validation, geometry, dtypes and the C-side descriptor depend only on the arrays' shapes
and dtypes and on the scalar arguments, so they are resolved once per signature and
cached; a repeated call costs a dictionary lookup plus the one C call (the per-call
overhead of a tiny convolution is a few microseconds, not tens).
"""

from __future__ import annotations

import numpy as np

from . import _core
from ._arrays import check_out, compute_dtype, writes_in_place
from ._geometry import join_shape, nhwc_axes

# The C enums' codes, as the binding read them from fastconv.h.
ACTIVATION_CODES = _core.ACTIVATION_CODES
ALGORITHM_CODES = _core.ALGORITHM_CODES
POOL_CODES = _core.POOL_CODES

_CACHE: dict = {}
_CACHE_LIMIT = 1024  # signatures; a program cycling through more just re-plans


# The cache key of a call: op, the arrays' shapes and dtypes, the other arguments and their
# types (built in C: see _core.plan_key).
_key = _core.plan_key


def cached(op, arrays, args, make):
    """The plan of a call of `op` (its name, or whatever else tells the ops apart) with these
    arrays (their shapes and dtypes; None for an absent one) and other arguments (their
    values and types), made by `make()` on first use (errors are raised, not cached)."""
    try:
        key = _key(op, arrays, args)
        plan = _CACHE.get(key)
    except TypeError:  # an unhashable argument (an array as strides, say): plan every time
        return make()
    if plan is None:
        plan = make()
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = plan
    return plan


# Results of 4 KiB or more start on a cache line.  NumPy's arrays start 16 bytes past one
# (glibc's malloc header; large ones are mapped pages + 16), so every 64-byte vector store
# of a kernel spans two lines: keras-mnist-c1 (3.2 MB out) took 0.256 ms against 0.234
# into an aligned array, shufflenet-1x1-28-g3 0.204 against 0.195 (1 thread, thread CPU
# time, Xeon AVX-512), and a result's alignment, so its time, varied with the heap's
# history.  Smaller ones are not worth the ~0.3 us an aligned one costs.
_LINE = 64
_ALIGN_FROM = 4096


def empty_aligned(shape, dtype) -> np.ndarray:
    """np.empty(shape, dtype), C-contiguous, its data on a 64-byte boundary where it has
    _ALIGN_FROM bytes or more (then a view of a slightly longer array)."""
    dtype = np.dtype(dtype)
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize < _ALIGN_FROM:
        return np.empty(shape, dtype)
    buf = np.empty(count + _LINE // dtype.itemsize, dtype)
    start = (-_core.data_address(buf) % _LINE) // dtype.itemsize
    return buf[start : start + count].reshape(shape)


def _destination(out, shape, result: np.dtype, work: np.dtype, sources):
    """(result array, array the kernel writes): a temporary when `out` needs another dtype
    than the kernels compute in, is misaligned, or overlaps an input."""
    if out is None:
        y = empty_aligned(shape, result)
        return y, (y if work == result else empty_aligned(shape, work))
    y = check_out(out, shape, result)
    if not writes_in_place(y, work) or any(
        s is not None and np.may_share_memory(y, s) for s in sources
    ):
        return y, empty_aligned(shape, work)
    return y, y


def _readable(a: np.ndarray, work: np.dtype) -> np.ndarray:
    """`a` as the kernels can read it in place (any strides), copying only to cast or align."""
    return a if a.dtype == work and a.flags.aligned else a.astype(work)


def _dense(a, work: np.dtype):
    return None if a is None else np.ascontiguousarray(a, dtype=work)


class ConvPlan:
    """conv2d / depthwise_conv2d for one signature."""

    __slots__ = (
        "desc",
        "out_shape",
        "result",
        "work",
        "axes",
        "hwio",
        "nhwc_shapes",
        "filter_axes",
    )

    def __init__(self, shape, data_format, result, activation, algorithm, hwio, filter_axes=None):
        win = shape.win
        self.desc = _core.ConvDesc(
            win, shape.groups, ACTIVATION_CODES[activation], ALGORITHM_CODES[algorithm]
        )
        self.out_shape = join_shape(
            win.batch, win.out_h, win.out_w, shape.out_channels, data_format
        )
        self.result = result
        self.work = compute_dtype(result)
        self.axes = None if data_format == "NHWC" else nhwc_axes(data_format)
        # depthwise filters are read as grouped HWIO [kh, kw, 1, C*M]; conv2d's as they are
        self.hwio = hwio
        # an OIHW filter's axes read as HWIO: the dense HWIO copy the C contract takes is
        # made by the _dense call that casts and packs filters anyway (one pass)
        self.filter_axes = filter_axes
        self.nhwc_shapes = (
            (win.batch, win.in_h, win.in_w, win.channels),
            (win.batch, win.out_h, win.out_w, shape.out_channels),
        )

    def algorithm(self) -> str:
        """The algorithm a call with this signature runs (what "auto" resolves to)."""
        code = self.algorithm_code()
        return next(name for name, c in ALGORITHM_CODES.items() if c == code)

    def algorithm_code(self, prepacked: bool = False) -> int:
        """ALGORITHM_CODES of the algorithm a call with this signature runs now (prepacked:
        what "auto" picks where the weights are packed once, fastconv.Conv2D)."""
        return self.desc.choice(*self.nhwc_shapes, self.work == np.float64, prepacked)

    def __call__(self, x, f, b, out, packed=None):
        """packed: None, or f packed by self.desc.pack (fastconv.Conv2D): f is then dense
        HWIO of the dtype the kernels compute in."""
        y, target = _destination(out, self.out_shape, self.result, self.work, (x, f, b))
        if y.size == 0:
            return y
        work, axes = self.work, self.axes
        xk = _readable(x, work)
        fk = _dense(f if self.filter_axes is None else f.transpose(self.filter_axes), work)
        self.desc.run(
            xk if axes is None else xk.transpose(axes),
            fk if self.hwio is None else fk.reshape(self.hwio),
            _dense(b, work),
            target if axes is None else target.transpose(axes),
            packed,
        )
        if target is not y:
            y[...] = target
        return y


class PoolPlan:
    """max_pool2d / avg_pool2d for one signature."""

    __slots__ = ("kernel", "out_shape", "result", "work", "axes")

    def __init__(self, kind, win, data_format, result, divisors=None):
        # divisors: None (the real cells) or the averages' (rows, columns) divisor arrays
        self.kernel = _core.PoolKernel(win, POOL_CODES[kind], *(divisors or ()))
        self.out_shape = join_shape(win.batch, win.out_h, win.out_w, win.channels, data_format)
        self.result = result
        self.work = compute_dtype(result)
        self.axes = None if data_format == "NHWC" else nhwc_axes(data_format)

    def __call__(self, x, out):
        y, target = _destination(out, self.out_shape, self.result, self.work, (x,))
        if y.size == 0:
            return y
        xk, axes = _readable(x, self.work), self.axes
        self.kernel.run(
            xk if axes is None else xk.transpose(axes),
            target if axes is None else target.transpose(axes),
        )
        if target is not y:
            y[...] = target
        return y
