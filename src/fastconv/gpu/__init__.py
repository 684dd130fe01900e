"""fastconv on the GPU: conv2d, depthwise_conv2d, max_pool2d and avg_pool2d on CuPy arrays.

The public functions (`fastconv.conv2d`, ...) come here when their input is a CuPy array;
the result is a CuPy array on the input's device. Arguments are resolved by the same
`_geometry` and `_arrays` code as on the CPU, so shapes, padding splits, errors and result
dtypes are identical. A NumPy (or list) filter or bias is moved to the device; float16 is
computed in float32 and returned as float16; `out=` must be a C-contiguous CuPy array.

Kernels (CuPy 14 has no cuDNN):
  conv2d "im2col"   im2col RawKernel + cuBLAS GEMM (`cupy.matmul`) + a bias/activation
                    epilogue kernel (fastconv.gpu.im2col)
  conv2d "direct"   one thread per output element; used for depthwise and for small channel
                    counts (auto: out_channels per group <= 8, or a reduction <= 16)
  pooling           one thread per output element
"winograd" (a CPU algorithm) is accepted and runs the GEMM path on the GPU.
CuPy is imported only when one of these functions runs.
"""

from __future__ import annotations

import importlib

import numpy as np

from .._arrays import (
    check_activation,
    check_algorithm,
    check_bias,
    check_out,
    compute_dtype,
    float_array,
    is_cupy,
    result_dtype,
)
from .._geometry import (
    OIHW_TO_HWIO,
    check_name,
    conv_shape,
    depthwise_shape,
    join_shape,
    nhwc_axes,
    normalize_data_format,
    normalize_filter_format,
    pool_window,
)
from . import kernels

__all__ = ["avg_pool2d", "conv2d", "depthwise_conv2d", "max_pool2d"]

# auto picks the direct kernel when a GEMM would be too thin to pay for im2col: few output
# channels per group (the GEMM's N) or a short reduction (its K). To be tuned on a GPU.
DIRECT_MAX_OUT_PER_GROUP = 8
DIRECT_MAX_REDUCTION = 16

_BLOCK = 256
_MAX_GRID = 1 << 22  # grid-stride loops beyond; keeps 32-bit indices within 2**31
# Kernels index with int when every offset and count stays below this, else long long.
INT32_LIMIT = 1 << 30


def array_module(value):
    """The CuPy module of a CuPy array: the top-level module its type comes from (`cupy` for
    cupy.ndarray), imported only now. Any module whose name starts with "cupy" and offers
    the same functions works (the tests' host emulation, tests/cupy_emulated.py)."""
    return importlib.import_module(type(value).__module__.split(".")[0])


# ------------------------------------------------------------------ public functions


def conv2d(
    input,
    filters,
    strides=1,
    padding="VALID",
    data_format="NHWC",
    dilations=1,
    name=None,
    *,
    filter_format="HWIO",
    pads=None,
    bias=None,
    activation=None,
    algorithm="auto",
    out=None,
):
    """fastconv.conv2d on a CuPy input (see its docstring). Arguments are checked in the
    CPU path's order, so that a call with several faults raises the same error."""
    check_name(name)
    cp = array_module(input)
    x = float_array(input, "input", cp)
    with x.device:
        f = _device_array(cp, filters, "filters")
        b = None if bias is None else _device_array(cp, bias, "bias")
        fmt = normalize_data_format(data_format)
        ffmt = normalize_filter_format(filter_format)
        shape = conv_shape(
            x.shape, f.shape, strides, padding, fmt, dilations, filter_format=ffmt, pads=pads
        )
        if ffmt == "OIHW":
            f = cp.ascontiguousarray(f.transpose(OIHW_TO_HWIO))
        check_algorithm(algorithm, shape)
        return _convolve(cp, x, f, b, shape, fmt, activation, algorithm, out)


def depthwise_conv2d(
    input,
    filter,
    strides=1,
    padding="VALID",
    data_format="NHWC",
    dilations=1,
    name=None,
    *,
    filter_format="HWIO",
    pads=None,
    bias=None,
    activation=None,
    out=None,
):
    """fastconv.depthwise_conv2d on a CuPy input (see its docstring)."""
    check_name(name)
    cp = array_module(input)
    x = float_array(input, "input", cp)
    with x.device:
        f = _device_array(cp, filter, "filter")
        b = None if bias is None else _device_array(cp, bias, "bias")
        fmt = normalize_data_format(data_format)
        ffmt = normalize_filter_format(filter_format)
        shape = depthwise_shape(
            x.shape, f.shape, strides, padding, fmt, dilations, pads=pads, filter_format=ffmt
        )
        if ffmt == "OIHW":  # [C * M, 1, kh, kw] -> [kh, kw, 1, C * M]
            f = cp.ascontiguousarray(f.transpose(OIHW_TO_HWIO))
        # The same memory read as a grouped HWIO filter [kh, kw, 1, C * multiplier].
        f = f.reshape(shape.win.k_h, shape.win.k_w, 1, shape.out_channels)
        return _convolve(cp, x, f, b, shape, fmt, activation, "direct", out)


def max_pool2d(input, ksize, strides, padding="VALID", data_format="NHWC", name=None, *, out=None):
    """fastconv.max_pool2d on a CuPy input (see its docstring)."""
    check_name(name)
    return pool2d("max", input, ksize, strides, padding, data_format, out=out)


def avg_pool2d(input, ksize, strides, padding="VALID", data_format="NHWC", name=None, *, out=None):
    """fastconv.avg_pool2d on a CuPy input (see its docstring)."""
    check_name(name)
    return pool2d("avg", input, ksize, strides, padding, data_format, out=out)


def pool2d(
    kind,
    input,
    ksize,
    strides,
    padding="VALID",
    data_format="NHWC",
    *,
    out=None,
    ceil_mode=False,
    pads=None,
):
    """max_pool2d (kind "max") or avg_pool2d (kind "avg") on a CuPy input (no pooling
    dilation or count_include_pad here: the CPU path has them)."""
    cp = array_module(input)
    x = float_array(input, "input", cp)
    with x.device:
        fmt = normalize_data_format(data_format)
        win = pool_window(x.shape, ksize, strides, padding, fmt, pads=pads, ceil_mode=ceil_mode)
        y, target = _destination(
            cp, out, join_shape(win.batch, win.out_h, win.out_w, win.channels, fmt), x.dtype, (x,)
        )
        if y.size == 0:
            return y
        x = _kernel_input(cp, x, compute_dtype(x.dtype))
        xs = element_strides(x, fmt)
        index = index_type(xs, win, target.size)
        variant = kernels.Variant(f"pool_{kind}", target.dtype.name, index, fmt)
        sh, sw, _, _ = _effective_steps(win)
        launch(
            cp,
            variant,
            target.size,
            (
                x,
                target,
                target.size,
                win.in_h,
                win.in_w,
                win.out_h,
                win.out_w,
                win.channels,
                *xs,
                win.k_h,
                win.k_w,
                sh,
                sw,
                win.pad_top,
                win.pad_left,
            ),
        )
        return _finish(y, target)


# ------------------------------------------------------------------ shared steps


def _device_array(cp, value, name):
    """A float array on the current device: CuPy arrays checked in place (copied from another
    device), anything else checked on the host exactly as the CPU path does, then moved."""
    if not is_cupy(value):
        return cp.asarray(float_array(value, name))
    arr = float_array(value, name, cp)
    return arr if arr.device.id == cp.cuda.Device().id else arr.copy()


def _destination(cp, out, shape, rtype, sources):
    """(result array, array the kernels write): a temporary when `out` needs another dtype
    than the kernels compute in, or overlaps an input (as _plans.Destination on the CPU)."""
    work = compute_dtype(rtype)
    if out is None:
        y = cp.empty(shape, rtype)
        return y, (y if work == rtype else cp.empty(shape, work))
    y = check_out(out, shape, rtype, cp)
    if y.device.id != cp.cuda.Device().id:
        raise ValueError(
            f"out must be on the input's device (GPU {cp.cuda.Device().id}), "
            f"got an array on GPU {y.device.id}"
        )
    if work != rtype or any(s is not None and cp.may_share_memory(y, s) for s in sources):
        return y, cp.empty(shape, work)
    return y, y


def _finish(y, target):
    if target is not y:
        y[...] = target
    return y


def _kernel_input(cp, a, dtype):
    """`a` in the compute dtype, readable through element strides (copied only to cast, or
    when a byte stride is not a whole number of elements)."""
    if a.dtype != dtype:
        return a.astype(dtype)
    if any(s % a.itemsize for s in a.strides):
        return cp.ascontiguousarray(a)
    return a


def element_strides(a, fmt):
    """Element strides of a 4-D array in (N, H, W, C) order (0 along an axis of length 1,
    whose stride is never used and may be anything)."""
    return tuple(
        a.strides[axis] // a.itemsize if a.shape[axis] > 1 else 0 for axis in nhwc_axes(fmt)
    )


def index_type(xs, win, *sizes):
    """ "int32" when every offset and count a kernel forms fits comfortably in 32 bits."""
    extents = (win.batch, win.in_h, win.in_w, win.channels)
    reach = 1 + sum(abs(s) * (n - 1) for s, n in zip(xs, extents) if n > 0)
    spans = (
        win.in_h + win.pad_top + win.pad_bottom + (win.k_h - 1) * win.dil_h + win.stride_h,
        win.in_w + win.pad_left + win.pad_right + (win.k_w - 1) * win.dil_w + win.stride_w,
    )
    return "int32" if max(reach, *spans, *sizes) < INT32_LIMIT else "int64"


def _effective_steps(win):
    """(stride_h, stride_w, dil_h, dil_w) as the kernels see them: a stride that never moves
    (one output) or a dilation that never applies (one tap) is 1, so any int is accepted."""
    return (
        win.stride_h if win.out_h > 1 else 1,
        win.stride_w if win.out_w > 1 else 1,
        win.dil_h if win.k_h > 1 else 1,
        win.dil_w if win.k_w > 1 else 1,
    )


def launch(cp, variant, total, args):
    """Run a kernel variant over `total` elements; ints go in as the variant's index type,
    except the flags (has_bias, act), which the kernels take as `int`."""
    kernel = kernels.raw_kernel(variant, cp)
    grid = min(-(-total // _BLOCK), _MAX_GRID)
    itype = np.int32 if variant.index == "int32" else np.int64
    kernel((grid,), (_BLOCK,), tuple(_scalar(a, itype) for a in args))


class Flag(int):
    """An `int` kernel argument (has_bias, act) among index-typed ones."""


def _scalar(a, itype):
    if isinstance(a, Flag):
        return np.int32(a)
    if isinstance(a, (int, np.integer)):
        return itype(a)
    return a


def _convolve(cp, x, f, b, shape, fmt, activation, algorithm, out):
    from . import im2col

    activation = check_activation(activation)
    check_bias(b, shape.out_channels, cp)
    rtype = result_dtype(x, f, b)
    win = shape.win
    y, target = _destination(
        cp,
        out,
        join_shape(win.batch, win.out_h, win.out_w, shape.out_channels, fmt),
        rtype,
        (x, f, b),
    )
    if y.size == 0:
        return y
    work = compute_dtype(rtype)
    x = _kernel_input(cp, x, work)
    f = cp.ascontiguousarray(f, dtype=work)
    b = None if b is None else cp.ascontiguousarray(b, dtype=work)
    act = kernels.ACTIVATION_CODES[activation]
    # im2col writes padding cells as zeros, which the GEMM multiplies by every weight: an Inf
    # or NaN weight would give 0 * Inf = NaN over padding, where the contract (docs/non-
    # finite.md) skips the tap, as the direct kernel does. Such filters run the direct
    # kernel (one check of the filter, a device sync, on padded windows only).
    padded = max(win.pad_top, win.pad_bottom, win.pad_left, win.pad_right) > 0
    if choose_algorithm(algorithm, shape) == "direct" or (
        padded and not bool(cp.isfinite(f).all())
    ):
        conv_direct(cp, x, f, b, target, shape, act, fmt)
    else:
        im2col.conv_gemm(cp, x, f, b, target, shape, act, fmt)
    return _finish(y, target)


def choose_algorithm(algorithm, shape) -> str:
    """ "direct" or "im2col" (the GPU's two conv2d algorithms) for a requested algorithm."""
    if algorithm == "direct":
        return "direct"
    if algorithm != "auto":  # "im2col", and "winograd", which has no GPU kernel of its own
        return "im2col"
    win = shape.win
    c_per_group = win.channels // shape.groups
    out_per_group = shape.out_channels // shape.groups
    reduction = win.k_h * win.k_w * c_per_group
    if out_per_group <= DIRECT_MAX_OUT_PER_GROUP or reduction <= DIRECT_MAX_REDUCTION:
        return "direct"
    return "im2col"


def conv_direct(cp, x, f, b, target, shape, act, fmt):
    """The direct kernel (depthwise when each group has one input channel)."""
    win = shape.win
    cg = win.channels // shape.groups
    xs = element_strides(x, fmt)
    kh, kw = kernels.direct_window(win.k_h, win.k_w)
    index = index_type(xs, win, target.size, f.size)
    variant = kernels.Variant(
        "conv_direct", target.dtype.name, index, fmt, kh, kw, 1 if cg == 1 else 0
    )
    sh, sw, dh, dw = _effective_steps(win)
    launch(
        cp,
        variant,
        target.size,
        (
            x,
            f,
            f if b is None else b,
            target,
            target.size,
            win.in_h,
            win.in_w,
            win.out_h,
            win.out_w,
            shape.out_channels,
            *xs,
            win.k_h,
            win.k_w,
            sh,
            sw,
            dh,
            dw,
            win.pad_top,
            win.pad_left,
            cg,
            shape.out_channels // shape.groups,
            Flag(b is not None),
            Flag(act),
        ),
    )
