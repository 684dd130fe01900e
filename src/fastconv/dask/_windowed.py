"""A sliding-window op on a chunked Dask array: each chunk computes its part of the output
with one call of the NumPy function, exactly as the whole-array call would.

The tiles come from ``_geometry.tile_axis`` (the one copy of the window arithmetic): along
height and width a tile starts where one of its output cells' windows starts (a multiple of
the stride in padded coordinates), reads the first ``eff_k - stride`` cells of the next tile
(a halo on the high side only, ``map_overlap`` with ``boundary="none"`` and ``trim=False``),
and passes the array's own padding as explicit padding on the first and last tile. Unlike
zero-padding the array first, this is exact for the pools too (padding never wins a max, and
an average counts only real cells) and makes no padded copy. With one tile along height and width
(chunks along the batch, and the channels for the pools, only) the tiles are the chunks and
``map_blocks`` runs the op on each.

Extension point for the gradient ops: any op whose output cell o reads input cells
[o * stride, o * stride + eff_k) of the padded input runs through `windowed` with its own
per-tile call (a partial of its NumPy function, padding left unbound) and its Window. An op
of another shape brings its own tiling to `_geometry` next to `tile_axis`:
``conv2d_backprop_input`` reads, for input cell i, the gradient cells whose windows cover i
(a halo on the low side, in gradient cells); a filter gradient is one call per tile summed
over tiles (``dask.array.reduction``).
"""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
from dask.base import tokenize

from .._geometry import AxisTiles, Window, join_shape, nhwc_axes, tile_axis
from ._sharing import task_threads


class TileCall:
    """The call for one tile: ``call(block, padding=...)`` with the tile's explicit padding,
    on this task's share of the CPUs. ``call`` is the NumPy function with every other
    argument bound (functools.partial), so that the graph pickles and tokenizes."""

    def __init__(self, call, axes: tuple[int, int], tiles: tuple[AxisTiles, AxisTiles]):
        self.call = call
        self.axes = axes  # the height and width axes of the array
        self.tiles = tiles  # the height and width tiles

    def __call__(self, block, block_id=None):
        (h_ax, w_ax), (tiles_h, tiles_w) = self.axes, self.tiles
        padding = [list(tiles_h.pads(block_id[h_ax])), list(tiles_w.pads(block_id[w_ax]))]
        with task_threads():
            return self.call(block, padding=padding)

    def __dask_tokenize__(self):
        # A token string: Dask does not normalize what this returns, and would format the
        # bound filters as text (tens of ms for a 7x7x3x64 filter) instead of hashing them.
        call = self.call
        return tokenize(
            type(self).__name__, call.func, call.args, call.keywords, self.axes, self.tiles
        )


def windowed(
    x: da.Array,
    win: Window,
    data_format: str,
    out_channels: int,
    dtype,
    call,
    *,
    one_channel_chunk: bool,
    token: str,
) -> da.Array:
    """The lazy result of `call` (the NumPy function, padding left unbound) over the Dask
    array `x`, whose whole-array geometry is `win`. one_channel_chunk: the op reduces over
    channels (convolutions), so they are rechunked to one chunk; otherwise (pools) each
    channel chunk is a separate task."""
    n_ax, h_ax, w_ax, c_ax = nhwc_axes(data_format)
    tiles_h = tile_axis(
        win.in_h,
        x.chunks[h_ax],
        win.k_h,
        win.stride_h,
        win.dil_h,
        win.pad_top,
        win.pad_bottom,
        win.out_h,
    )
    tiles_w = tile_axis(
        win.in_w,
        x.chunks[w_ax],
        win.k_w,
        win.stride_w,
        win.dil_w,
        win.pad_left,
        win.pad_right,
        win.out_w,
    )
    in_chunks = list(x.chunks)
    in_chunks[h_ax], in_chunks[w_ax] = tiles_h.in_chunks, tiles_w.in_chunks
    if one_channel_chunk:
        in_chunks[c_ax] = (win.channels,)
    x = x.rechunk(tuple(in_chunks))  # a no-op where the chunks already are the tiles
    c_chunks = (out_channels,) if one_channel_chunk else x.chunks[c_ax]
    # join_shape only orders its four arguments (here chunk tuples, not sizes)
    order: Any = join_shape
    out_chunks = order(
        x.chunks[n_ax], tiles_h.out_chunks, tiles_w.out_chunks, c_chunks, data_format
    )
    func = TileCall(call, (h_ax, w_ax), (tiles_h, tiles_w))
    meta = np.empty((0, 0, 0, 0), dtype)
    # A halo is only needed between tiles: along an axis of one tile there is no neighbour.
    depth = {
        h_ax: (0, tiles_h.halo if len(tiles_h.in_chunks) > 1 else 0),
        w_ax: (0, tiles_w.halo if len(tiles_w.in_chunks) > 1 else 0),
    }
    if not any(d[1] for d in depth.values()):
        return da.map_blocks(func, x, chunks=out_chunks, dtype=dtype, meta=meta, token=token)
    return da.map_overlap(
        func,
        x,
        depth=depth,
        boundary="none",
        trim=False,
        allow_rechunk=False,
        chunks=out_chunks,
        dtype=dtype,
        meta=meta,
        token=token,
    )
