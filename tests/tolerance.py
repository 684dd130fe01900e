"""The suite's comparison in its positional form: assert_close(actual, expected, reduction,
dtype) is fastconv.testing.assert_allclose, the one copy of the tolerance rule
(8 * eps * (sqrt(n) + 1) relative to the largest expected value; docs/testing.md has the
measurements behind it). Kept so that every test file, old and new, says it the same way.
"""

from __future__ import annotations


def assert_close(actual, expected, reduction: int, dtype, err_msg: str = "") -> None:
    """assert actual ~= expected for results of `reduction`-long sums computed in `dtype`."""
    # Imported here, not at the top: the sanitizer children import this module before they
    # choose which fastconv build to import (tests/isa_stress.py's import_fastconv).
    from fastconv.testing import assert_allclose

    assert_allclose(actual, expected, reduction=reduction, dtype=dtype, err_msg=err_msg)
