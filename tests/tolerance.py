"""The one tolerance rule of the suite.

A float sum of `reduction` products carries a rounding error that grows with its length:
about eps * sqrt(reduction) for random data, eps * reduction in the worst case. Two correct
implementations that sum in different orders (fastconv, TF/oneDNN, the float64 reference
rounded once) therefore differ by a few eps * sqrt(reduction) times the size of the values.
Every comparison in the suite goes through `assert_close`; nothing else picks a tolerance.
"""

from __future__ import annotations

import math

import numpy as np

# Headroom over the random-data estimate eps * sqrt(reduction): oneDNN and Eigen alone
# differ by ~5e-6 relative on a 576-long float32 reduction (docs/peers.md), i.e. ~1.7 eps*sqrt(n).
SAFETY = 8.0


def tolerance(reduction: int, dtype) -> float:
    """Relative tolerance (to the largest |expected|) for a sum of `reduction` terms."""
    eps = float(np.finfo(np.dtype(dtype)).eps)
    return SAFETY * eps * (math.sqrt(max(int(reduction), 1)) + 1.0)


def assert_close(actual, expected, reduction: int, dtype, err_msg: str = "") -> None:
    """assert actual ~= expected for results of `reduction`-long sums computed in `dtype`.

    Shapes must match exactly; NaN and +-Inf must sit at the same places with the same sign;
    finite values may differ by tolerance(reduction, dtype) * max|expected| (plus the same
    relative amount of each value).
    """
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, (
        f"shape {actual.shape} != expected {expected.shape} {err_msg}"
    )
    if expected.size == 0:
        return
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    finite = np.isfinite(e)
    scale = float(np.max(np.abs(e[finite]))) if finite.any() else 0.0
    tol = tolerance(reduction, dtype)
    np.testing.assert_allclose(
        a, e, rtol=tol, atol=tol * max(scale, float(np.finfo(np.dtype(dtype)).tiny)),
        equal_nan=True, err_msg=f"reduction={reduction} dtype={np.dtype(dtype)} {err_msg}",
    )
