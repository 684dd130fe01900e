"""The arguments fastconv.dask adds checks for: a Dask array with known chunks, filters and
biases as NumPy arrays, no out=. Everything else is checked by the NumPy functions' own plans
(one copy of each check and message)."""

from __future__ import annotations

import math

import dask.array as da
import numpy as np

from .._arrays import float_array


def dask_input(value, name: str) -> da.Array:
    """`value` as a Dask array of known chunk sizes and an accepted float dtype (a NumPy
    array becomes one chunk)."""
    x = value if isinstance(value, da.Array) else da.asarray(value)
    float_array(np.empty(0, x.dtype), name)  # the NumPy functions' dtype check and message
    if any(math.isnan(s) for s in x.shape):
        raise ValueError(
            f"{name} has unknown chunk sizes (shape {x.shape}): call "
            f"{name}.compute_chunk_sizes() first, the result's chunks are planned from them"
        )
    return x


def small_array(value, name: str) -> np.ndarray:
    """A filter or bias: a NumPy array, bound into every task (a Dask array would have to be
    computed while the graph is built)."""
    if isinstance(value, da.Array):
        raise TypeError(
            f"{name} must be a NumPy array, got a Dask array: it goes into every task whole; "
            f"compute it first ({name}.compute())"
        )
    return float_array(value, name)


def no_out(out) -> None:
    if out is not None:
        raise TypeError(
            "out= is not supported on Dask arrays: the result is lazy; write it with "
            "dask.array.store (or compute it) instead"
        )
