"""fastconv on Dask arrays: conv2d, depthwise_conv2d, max_pool2d and avg_pool2d over arrays
chunked along the batch, height, width and channels, larger than memory or spread over a
cluster (``pip install "fastconv[dask]"``; ``import fastconv`` does not import Dask).

Each function takes the arguments of the NumPy function of the same name and returns a lazy
Dask array with known chunks; nothing is computed until you compute it. Each chunk of the
result equals the same part of the whole-array result (bit for bit, except with
``algorithm="winograd"``, whose rounding depends on where its 2x2 output tiles fall).

- Chunks along the batch (and, for the pools, the channels) are computed independently.
- Chunks along height and width read a halo of ``(k - 1) * dilation + 1 - stride`` cells
  from the next chunk; boundaries are moved to the nearest window start, and chunks smaller
  than the halo are merged with their neighbour.
- Convolutions sum over all input channels: their channels are rechunked to one chunk.
- ``algorithm="auto"`` is resolved once, for the whole array, so that every chunk runs the
  same algorithm.
- On Dask's threaded scheduler each task uses ``cpus // Dask threads`` OpenMP threads (at
  least 1) instead of all of them; Dask's distributed workers are started with ``spawn`` and
  their nanny sets OMP_NUM_THREADS=1 (one thread per task, no fork hazard).
"""

from __future__ import annotations

import math
from functools import partial

import dask.array as da
import numpy as np

from .. import conv, pool
from .._arrays import float_array
from .._geometry import check_name, conv_shape, depthwise_shape, normalize_data_format, pool_window
from ._windowed import windowed

__all__ = ["avg_pool2d", "conv2d", "depthwise_conv2d", "max_pool2d"]


def conv2d(
    input,
    filters,
    strides=1,
    padding="VALID",
    data_format="NHWC",
    dilations=1,
    name=None,
    *,
    bias=None,
    activation=None,
    algorithm="auto",
    out=None,
):
    """``fastconv.conv2d`` on a Dask array `input` (a NumPy array is wrapped as one chunk);
    `filters` and `bias` are NumPy arrays. Returns a lazy Dask array."""
    check_name(name)
    _no_out(out)
    x = _dask_input(input)
    f = _small_array(filters, "filters")
    b = None if bias is None else _small_array(bias, "bias")
    # TF's conventions only here (HWIO filters, no ONNX pads=): the tiles get explicit padding
    plan = conv._plan_conv2d(
        x, f, b, strides, padding, data_format, dilations, activation, algorithm, "HWIO", None
    )
    fmt = normalize_data_format(data_format)
    shape = conv_shape(x.shape, f.shape, strides, padding, fmt, dilations)
    call = partial(
        conv.conv2d,
        filters=f,
        strides=strides,
        data_format=fmt,
        dilations=dilations,
        bias=b,
        activation=activation,
        algorithm=plan.algorithm(),
    )
    return windowed(
        x,
        shape.win,
        fmt,
        shape.out_channels,
        plan.result,
        call,
        one_channel_chunk=True,
        token="fastconv-conv2d",
    )


def depthwise_conv2d(
    input,
    filter,
    strides=1,
    padding="VALID",
    data_format="NHWC",
    dilations=1,
    name=None,
    *,
    bias=None,
    activation=None,
    out=None,
):
    """``fastconv.depthwise_conv2d`` on a Dask array `input`; `filter` and `bias` are NumPy
    arrays. Returns a lazy Dask array."""
    check_name(name)
    _no_out(out)
    x = _dask_input(input)
    f = _small_array(filter, "filter")
    b = None if bias is None else _small_array(bias, "bias")
    plan = conv._plan_depthwise(
        x, f, b, strides, padding, data_format, dilations, activation, None, "HWIO"
    )
    fmt = normalize_data_format(data_format)
    shape = depthwise_shape(x.shape, f.shape, strides, padding, fmt, dilations)
    call = partial(
        conv.depthwise_conv2d,
        filter=f,
        strides=strides,
        data_format=fmt,
        dilations=dilations,
        bias=b,
        activation=activation,
    )
    return windowed(
        x,
        shape.win,
        fmt,
        shape.out_channels,
        plan.result,
        call,
        one_channel_chunk=True,
        token="fastconv-depthwise_conv2d",
    )


def max_pool2d(input, ksize, strides, padding="VALID", data_format="NHWC", name=None, *, out=None):
    """``fastconv.max_pool2d`` on a Dask array `input`. Returns a lazy Dask array."""
    check_name(name)
    return _pool("max", pool.max_pool2d, input, ksize, strides, padding, data_format, out)


def avg_pool2d(input, ksize, strides, padding="VALID", data_format="NHWC", name=None, *, out=None):
    """``fastconv.avg_pool2d`` on a Dask array `input`. Returns a lazy Dask array."""
    check_name(name)
    return _pool("avg", pool.avg_pool2d, input, ksize, strides, padding, data_format, out)


def _pool(kind, func, input, ksize, strides, padding, data_format, out):
    _no_out(out)
    x = _dask_input(input)
    plan = pool._plan_pool(kind, x, ksize, strides, padding, data_format, 1, False, None, False)
    fmt = normalize_data_format(data_format)
    win = pool_window(x.shape, ksize, strides, padding, fmt)
    call = partial(func, ksize=ksize, strides=strides, data_format=fmt)
    return windowed(
        x,
        win,
        fmt,
        win.channels,
        plan.result,
        call,
        one_channel_chunk=False,
        token=f"fastconv-{kind}_pool2d",
    )


def _dask_input(input) -> da.Array:
    """`input` as a Dask array of known chunk sizes and an accepted float dtype."""
    x = input if isinstance(input, da.Array) else da.asarray(input)
    float_array(np.empty(0, x.dtype), "input")  # the NumPy functions' dtype check and message
    if any(math.isnan(s) for s in x.shape):
        raise ValueError(
            f"input has unknown chunk sizes (shape {x.shape}): call "
            "input.compute_chunk_sizes() first, the output's chunks are planned from them"
        )
    return x


def _small_array(value, name: str) -> np.ndarray:
    """A filter or bias: a NumPy array, bound into every task (a Dask array would have to be
    computed while the graph is built)."""
    if isinstance(value, da.Array):
        raise TypeError(
            f"{name} must be a NumPy array, got a Dask array: it goes into every task whole; "
            f"compute it first ({name}.compute())"
        )
    return float_array(value, name)


def _no_out(out) -> None:
    if out is not None:
        raise TypeError(
            "out= is not supported on Dask arrays: the result is lazy; write it with "
            "dask.array.store (or compute it) instead"
        )
