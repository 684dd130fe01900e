"""Call plans: everything a call's argument signature determines, worked out once.

Validation, geometry, dtypes and the C-side descriptor depend only on the arrays' shapes
and dtypes and on the scalar arguments, so they are resolved once per signature and
cached; a repeated call costs a dictionary lookup plus the one C call (the per-call
overhead of a tiny convolution is a few microseconds, not tens).
"""

from __future__ import annotations

import math
from functools import partial

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
# history.  Smaller ones were not worth the ~0.3 us an aligned one cost when it was made in
# Python; made in C (_core.empty_aligned) it costs 700 instructions more than np.empty, and
# the threshold has not been measured again since.
_LINE = 64
_ALIGN_FROM = 4096


def _aligned_from(shape, dtype: np.dtype) -> bool:
    """Whether a result of this shape and dtype starts on a cache line (_ALIGN_FROM)."""
    return math.prod(shape) * dtype.itemsize >= _ALIGN_FROM


def empty_aligned(shape, dtype) -> np.ndarray:
    """np.empty(shape, dtype), C-contiguous, its data on a 64-byte boundary where it has
    _ALIGN_FROM bytes or more (then a view of a slightly longer buffer)."""
    dtype = np.dtype(dtype)
    if not _aligned_from(shape, dtype):
        return np.empty(shape, dtype)
    return _core.empty_aligned(tuple(shape), dtype, _LINE)


class Destination:
    """Where a plan's kernel writes a result of one shape and dtype, computed in dtype
    `work`: fresh arrays, or the caller's out= (with a temporary where the kernel cannot
    write into it). Worked out once per plan: a fresh tiny-8x8 result took 5,400
    instructions through empty_aligned on every call, and takes 2,000 from np.empty bound
    to its arguments here (valgrind)."""

    __slots__ = ("shape", "result", "work", "empty", "_fresh_result", "_fresh_work")

    def __init__(self, shape, result: np.dtype, work: np.dtype):
        self.shape, self.result, self.work = tuple(shape), result, work
        self.empty = math.prod(shape) == 0  # nothing to compute
        self._fresh_result = self._allocator(result)
        self._fresh_work = None if work == result else self._allocator(work)

    def _allocator(self, dtype: np.dtype):
        """empty_aligned(self.shape, dtype) as a call without arguments."""
        if _aligned_from(self.shape, dtype):
            return partial(_core.empty_aligned, self.shape, dtype, _LINE)
        return partial(np.empty, self.shape, dtype)

    def arrays(self, out, sources):
        """(result array, array the kernel writes): a temporary when `out` needs another
        dtype than the kernels compute in, is misaligned, or overlaps one of `sources`."""
        if out is None:
            y = self._fresh_result()
            return y, (y if self._fresh_work is None else self._fresh_work())
        y = check_out(out, self.shape, self.result)
        if not writes_in_place(y, self.work) or any(
            s is not None and np.may_share_memory(y, s) for s in sources
        ):
            return y, empty_aligned(self.shape, self.work)
        return y, y


def _readable(a: np.ndarray, work: np.dtype) -> np.ndarray:
    """`a` (from float_array: aligned) as the kernels can read it in place (any strides),
    copying only to cast. Its alignment is not checked again: the flags object that check
    builds cost 1,000 instructions per array, and the binding refuses a misaligned array."""
    return a if a.dtype == work else a.astype(work)


def _dense(a: np.ndarray, work: np.dtype) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=work)


class ConvPlan:
    """conv2d / depthwise_conv2d for one signature."""

    __slots__ = (
        "desc",
        "destination",
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
        self.result = result
        self.work = compute_dtype(result)
        self.destination = Destination(
            join_shape(win.batch, win.out_h, win.out_w, shape.out_channels, data_format),
            result,
            self.work,
        )
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
        destination = self.destination
        y, target = destination.arrays(out, (x, f, b))
        if destination.empty:
            return y
        work, axes = self.work, self.axes
        xk = _readable(x, work)
        fk = _dense(f if self.filter_axes is None else f.transpose(self.filter_axes), work)
        self.desc.run(
            xk if axes is None else xk.transpose(axes),
            fk if self.hwio is None else fk.reshape(self.hwio),
            None if b is None else _dense(b, work),
            target if axes is None else target.transpose(axes),
            packed,
        )
        if target is not y:
            y[...] = target
        return y


class PoolPlan:
    """max_pool2d / avg_pool2d for one signature."""

    __slots__ = ("kernel", "destination", "result", "work", "axes")

    def __init__(self, kind, win, data_format, result, divisors=None):
        # divisors: None (the real cells) or the averages' (rows, columns) divisor arrays
        self.kernel = _core.PoolKernel(win, POOL_CODES[kind], *(divisors or ()))
        self.result = result
        self.work = compute_dtype(result)
        self.destination = Destination(
            join_shape(win.batch, win.out_h, win.out_w, win.channels, data_format),
            result,
            self.work,
        )
        self.axes = None if data_format == "NHWC" else nhwc_axes(data_format)

    def __call__(self, x, out):
        destination = self.destination
        y, target = destination.arrays(out, (x,))
        if destination.empty:
            return y
        xk, axes = _readable(x, self.work), self.axes
        self.kernel.run(
            xk if axes is None else xk.transpose(axes),
            target if axes is None else target.transpose(axes),
        )
        if target is not y:
            y[...] = target
        return y
