"""How close two convolution results must be: a tolerance that grows with the reduction.

A float sum of n products carries a rounding error that grows with n: about
eps * sqrt(n) * (size of the terms) for random data (the errors of the n additions are
independent, so they add like a random walk), eps * n in the worst case. Two correct
implementations that sum in different orders (fastconv's algorithms, TF/oneDNN, PyTorch,
the float64 reference rounded once) therefore differ by a few eps * sqrt(n) times the
largest value. The rule, relative to the largest |desired| value:

    tolerance(dtype, n) = 8 * eps(dtype) * (sqrt(n) + 1)

The measurements behind the factor 8 (the largest error of every fastconv algorithm, TF and
PyTorch against the float64 reference, over reduction lengths 9 to 4608) are in
docs/testing.md: the worst observed is about a quarter of the bound.
"""

from __future__ import annotations

import math

import numpy as np

from .._geometry import normalize_hw, split_shape

# Headroom over the random-data estimate eps * sqrt(n) (docs/testing.md has the table).
SAFETY = 8.0


def _float_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"dtype must be a float dtype (float16, float32, float64), got {dt}")
    return dt


def tolerance(dtype, reduction_length: int) -> float:
    """The relative tolerance (to the largest |desired| value) for results that are sums of
    `reduction_length` products computed in `dtype`: 8 * eps * (sqrt(n) + 1)."""
    if isinstance(reduction_length, bool) or not isinstance(reduction_length, (int, np.integer)):
        raise TypeError(f"reduction_length must be an integer, got {reduction_length!r}")
    if reduction_length < 1:
        raise ValueError(f"reduction_length must be at least 1, got {int(reduction_length)}")
    eps = float(np.finfo(_float_dtype(dtype)).eps)
    return SAFETY * eps * (math.sqrt(int(reduction_length)) + 1.0)


# How many products each output value sums, per op; an op added to the package adds its
# rule here. `shape` is the filter's (convolutions), out_backprop's (filter gradients) or
# None (pools); `groups` is 1 unless the caller says (then an upper bound for the input
# gradients of grouped filters).
def _conv2d_length(shape, ksize, data_format, filter_format, groups):
    if filter_format == "OIHW":  # [out_channels, in_channels / groups, kh, kw]
        return int(np.prod(shape[1:]))
    return int(np.prod(shape[:3]))  # HWIO [kh, kw, in_channels / groups, out_channels]


def _depthwise_length(shape, ksize, data_format, filter_format, groups):
    if filter_format == "OIHW":  # PyTorch's depthwise weight [C * multiplier, 1, kh, kw]
        return int(shape[2] * shape[3])
    return int(shape[0] * shape[1])  # [kh, kw, in_channels, multiplier]


def _input_grad_length(shape, ksize, data_format, filter_format, groups):
    """An input cell sums, at most, every tap of every output channel of its group."""
    hwio = tuple(shape[a] for a in (2, 3, 1, 0)) if filter_format == "OIHW" else shape
    return max(int(hwio[0] * hwio[1] * hwio[3]) // groups, 1)


def _depthwise_input_grad_length(shape, ksize, data_format, filter_format, groups):
    if filter_format == "OIHW":  # [C * multiplier, 1, kh, kw]: groups = C gives M
        return max(int(shape[0] * shape[2] * shape[3]) // groups, 1)
    return int(shape[0] * shape[1] * shape[3])  # [kh, kw, C, multiplier]


def _transpose_length(shape, ksize, data_format, filter_format, groups):
    """conv2d_transpose's filters [kh, kw, output_channels / groups, in_channels] (OIHW:
    [in_channels, output_channels / groups, kh, kw]): each value sums kh * kw * in / groups."""
    return _input_grad_length(shape, ksize, data_format, filter_format, groups)


def _filter_grad_length(shape, ksize, data_format, filter_format, groups):
    """A filter tap sums over the batch and every output pixel (out_backprop's shape)."""
    n, h, w, _ = split_shape(shape, data_format, "out_backprop")
    return max(n * h * w, 1)


def _avg_pool_length(shape, ksize, data_format, filter_format, groups):
    k_h, k_w = normalize_hw(ksize, "ksize", data_format)
    return k_h * k_w


def _max_pool_length(shape, ksize, data_format, filter_format, groups):
    normalize_hw(ksize, "ksize", data_format)
    return 1  # a maximum rounds nothing: the result is one of the inputs


REDUCTION_RULES = {
    "conv2d": (_conv2d_length, "filters"),
    "depthwise_conv2d": (_depthwise_length, "filters"),
    "avg_pool2d": (_avg_pool_length, "ksize"),
    "max_pool2d": (_max_pool_length, "ksize"),
    "conv2d_backprop_input": (_input_grad_length, "filters"),
    "depthwise_conv2d_backprop_input": (_depthwise_input_grad_length, "filters"),
    "conv2d_transpose": (_transpose_length, "filters"),
    "conv2d_backprop_filter": (_filter_grad_length, "out_backprop"),
    "depthwise_conv2d_backprop_filter": (_filter_grad_length, "out_backprop"),
    # a cell sums the shares of every window it is in (at most kh * kw of them)
    "avg_pool2d_grad": (_avg_pool_length, "ksize"),
    "max_pool2d_grad": (_avg_pool_length, "ksize"),
    "max_pool_with_argmax": (_max_pool_length, "ksize"),
}


def _shape4(value, name: str) -> tuple:
    shape = tuple(np.shape(value)) if hasattr(value, "shape") else tuple(value)
    if len(shape) != 4:
        raise ValueError(f"{name} must be 4-D (an array or its shape), got {shape}")
    return shape


def reduction_length(
    op: str,
    filters=None,
    *,
    ksize=None,
    out_backprop=None,
    groups: int = 1,
    bias: bool = False,
    data_format: str = "NHWC",
    filter_format: str = "HWIO",
) -> int:
    """How many terms each output value of `op` sums: the n of tolerance(dtype, n).

    conv2d: kh * kw * in_channels / groups, from `filters` (the filter array or its shape,
    HWIO, or OIHW with filter_format="OIHW"); depthwise_conv2d: kh * kw; avg_pool2d:
    kh * kw from `ksize` (in any form the pools take); max_pool2d: 1. bias=True adds one.
    The gradients: conv2d_backprop_input kh * kw * out_channels / groups and
    conv2d_transpose kh * kw * in_channels / groups from `filters` (pass groups= for a
    grouped filter; without it the bound is that of one group), depthwise_conv2d_backprop_
    input kh * kw * multiplier; the filter gradients batch * out_h * out_w from
    `out_backprop` (its array or shape, in data_format); avg_pool2d_grad and
    max_pool2d_grad kh * kw (a cell sums the windows it is in); max_pool_with_argmax 1.
    """
    if op not in REDUCTION_RULES:
        raise ValueError(f"op must be one of {sorted(REDUCTION_RULES)}, got {op!r}")
    rule, needs = REDUCTION_RULES[op]
    if filter_format not in ("HWIO", "OIHW"):
        raise ValueError(f"filter_format must be 'HWIO' or 'OIHW', got {filter_format!r}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"groups must be a positive integer, got {groups!r}")
    shape = None
    if needs == "filters":
        if filters is None:
            raise TypeError(f"reduction_length({op!r}) needs filters (the array or its shape)")
        shape = _shape4(filters, "filters")
    elif needs == "out_backprop":
        if out_backprop is None:
            raise TypeError(f"reduction_length({op!r}) needs out_backprop (the array or its shape)")
        shape = _shape4(out_backprop, "out_backprop")
    elif ksize is None:
        raise TypeError(f"reduction_length({op!r}) needs ksize")
    return rule(shape, ksize, data_format.upper(), filter_format, int(groups)) + (1 if bias else 0)


def _compare_dtype(actual: np.ndarray, desired: np.ndarray) -> np.dtype:
    """The less precise float dtype of the two (float64 when neither is a float)."""
    floats = [a.dtype for a in (actual, desired) if a.dtype.kind == "f"]
    return max(floats, key=lambda d: np.finfo(d).eps) if floats else np.dtype(np.float64)


def _where(mask: np.ndarray) -> tuple:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def assert_allclose(
    actual,
    desired,
    *,
    reduction: int | None = None,
    scale: float | None = None,
    dtype=None,
    ulp: float | None = None,
    err_msg: str = "",
) -> None:
    """Assert that `actual` equals `desired` within the rounding error of the computation.

    Give exactly one of:
    - reduction: the number of products each value sums (reduction_length()). Finite
      values may then differ by tol * max|desired| with tol = tolerance(dtype, reduction):
      the error of a sum scales with the size of its terms, which the largest output
      stands for (a value that cancels to near 0 keeps the error of its terms).
      scale: the size of the terms where the outputs hide it, replacing max|desired|:
      a fused bias that cancels the sum, or a ReLU that zeroes the large outputs, leaves
      small outputs carrying the rounding of large terms. A strategy's Call gives it
      (call.scale).
    - ulp: a bound in units in the last place of `dtype` at each desired value
      (|actual - desired| <= ulp * spacing(desired)), for results that are rounded once
      (pooling, a float64 oracle against a float64 result).

    dtype: the precision the result was computed in; by default the less precise of the
    two arrays' dtypes. Shapes must be equal (no broadcasting). Non-finite values must
    match exactly: NaN where desired is NaN, +Inf and -Inf at the same places. The
    message names the worst element (its index, both values, the error and what was
    allowed) and how many elements failed.
    """
    if (reduction is None) == (ulp is None):
        raise TypeError("give exactly one of reduction= (a sum's length) and ulp=")
    if scale is not None and (reduction is None or not np.isfinite(scale) or scale < 0):
        raise ValueError(f"scale= must be a finite size >= 0, given with reduction=; got {scale!r}")
    a = np.asarray(actual)
    d = np.asarray(desired)
    dt = _float_dtype(dtype) if dtype is not None else _compare_dtype(a, d)
    note = f"\n{err_msg}" if err_msg else ""
    if a.shape != d.shape:
        raise AssertionError(f"shapes differ: actual {a.shape}, desired {d.shape}{note}")
    a64 = a.astype(np.float64)
    d64 = d.astype(np.float64)
    finite_d, finite_a = np.isfinite(d64), np.isfinite(a64)
    nonfinite_bad = ~(finite_d & finite_a) & ~((a64 == d64) | (np.isnan(a64) & np.isnan(d64)))
    if nonfinite_bad.any():
        i = _where(nonfinite_bad)
        raise AssertionError(
            f"non-finite values differ at {int(nonfinite_bad.sum())} of {d.size} elements; "
            f"first at index {i}: actual {a64[i]!r}, desired {d64[i]!r}{note}"
        )
    both = finite_d & finite_a
    if not both.any():
        return
    a_f, d_f = np.where(both, a64, 0.0), np.where(both, d64, 0.0)  # no Inf - Inf
    err = np.abs(a_f - d_f)
    if ulp is not None:
        top = float(np.finfo(dt).max)  # a float64 value beyond dt's range: dt's last spacing
        allowed = ulp * np.spacing(np.minimum(np.abs(d_f), top).astype(dt)).astype(np.float64)
        rule = f"ulp={ulp} in {dt}: |actual - desired| <= {ulp} * spacing(desired)"
    else:
        assert reduction is not None  # checked above: one of reduction= and ulp= is given
        tol = tolerance(dt, reduction)
        scale_name = "scale" if scale is not None else "max|desired|"
        top = float(np.max(np.abs(d64[finite_d])))  # the terms are at least this large
        scale = top if scale is None else max(float(scale), top)
        allowed = np.full(err.shape, tol * max(scale, float(np.finfo(dt).tiny)))
        rule = (
            f"reduction={int(reduction)} in {dt}: tolerance {tol:.3g} = 8 * eps * "
            f"(sqrt({int(reduction)}) + 1), allowed {tol:.3g} * {scale_name} {scale:.6g}"
        )
    bad = both & (err > allowed)
    if bad.any():
        ratio = np.where(bad, err / np.maximum(allowed, np.finfo(np.float64).tiny), 0.0)
        i = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
        i = tuple(int(v) for v in i)
        raise AssertionError(
            f"{int(bad.sum())} of {d.size} elements differ by more than allowed ({rule}).\n"
            f"worst at index {i}: actual {a64[i]!r}, desired {d64[i]!r}, error {err[i]:.6g}, "
            f"allowed {allowed[i]:.6g} ({err[i] / allowed[i]:.3g}x){note}"
        )
