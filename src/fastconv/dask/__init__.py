"""fastconv on Dask arrays: the forward ops (conv2d, depthwise_conv2d, max_pool2d,
avg_pool2d) and their gradients (conv2d_backprop_input, conv2d_backprop_filter,
conv2d_transpose, the depthwise ones, max_pool2d_grad, avg_pool2d_grad) over arrays chunked
along the batch, height, width and channels, larger than memory or spread over a cluster
(``pip install "fastconv[dask]"``; ``import fastconv`` does not import Dask).

Each function takes the arguments of the NumPy function of the same name (every convention
keyword: filter_format, pads, each padding spelling, dilations, groups, NCHW, bias and
activation; out= is an error, the result being lazy) and returns a lazy Dask array with
known chunks; nothing is computed until you compute it. Filters and biases are NumPy arrays.

- Chunks along the batch (and, for the pools and their gradients, the channels) are
  computed independently (``map_blocks``).
- Chunks along height and width are tiled the way the window walks (fastconv._tiling):
  boundaries move to the nearest window start, each tile reads a halo from its neighbours
  (``map_overlap``), and chunks smaller than the halo are merged with their neighbour.
  A forward op's tile reads ``(k - 1) * dilation + 1 - stride`` cells of the next one; an
  input gradient's tile (conv2d_transpose, the pooling gradients too) reads the
  ``((k - 1) * dilation) // stride`` gradient cells before its own, whose windows cover
  its first cells.
- Convolutions and their gradients mix all channels: their channels are rechunked to one
  chunk. ``algorithm="auto"`` is resolved once, for the whole array.
- Each result chunk equals the same part of the whole-array result bit for bit, except:
  ``algorithm="winograd"`` (its rounding depends on where its 2x2 tiles fall), the filter
  gradients (a sum of per-tile gradients, added by Dask's tree reduction) and the
  convolutions' input gradients (each tile's call picks its kernel for its own size), all
  within the usual float tolerance.
- On Dask's threaded scheduler each task uses ``cpus // Dask threads`` OpenMP threads (at
  least 1) instead of all of them; Dask's distributed workers are started with ``spawn``
  and their nanny sets OMP_NUM_THREADS=1 (one thread per task, no fork hazard).
"""

from __future__ import annotations

from ._forward import avg_pool2d, conv2d, depthwise_conv2d, max_pool2d
from ._gradients import (
    avg_pool2d_grad,
    conv2d_backprop_filter,
    conv2d_backprop_input,
    conv2d_transpose,
    depthwise_conv2d_backprop_filter,
    depthwise_conv2d_backprop_input,
    max_pool2d_grad,
)

__all__ = [
    "avg_pool2d",
    "avg_pool2d_grad",
    "conv2d",
    "conv2d_backprop_filter",
    "conv2d_backprop_input",
    "conv2d_transpose",
    "depthwise_conv2d",
    "depthwise_conv2d_backprop_filter",
    "depthwise_conv2d_backprop_input",
    "max_pool2d",
    "max_pool2d_grad",
]
