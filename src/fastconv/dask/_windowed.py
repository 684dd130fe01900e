"""A sliding-window op or gradient on chunked Dask arrays: each tile computes its part of the
result with one call of the NumPy function, exactly as the whole-array call would.

The tiles come from ``_tiling.tile_axis`` (the one copy of that arithmetic): along height and
width a tile starts where one of its output cells' windows starts (a multiple of the stride
in padded coordinates), reads its neighbours' cells as Dask halos (``map_overlap`` with
``boundary="none"`` and ``trim=False``), and passes the array's own padding as explicit
padding on the first and last tile. Unlike zero-padding the array first, this is exact for
the pools too (padding never wins a max, and an average counts only real cells) and makes no
padded copy. With one tile along height and width (chunks along the batch, and the channels
for the pools, only) the tiles are the chunks and ``map_blocks`` runs the op on each.

Three shapes of op run through `tiled`, by what the result is indexed by (``result=``):
- "output" (conv2d, the pools): each output cell from its window of the inputs;
- "input" (the input gradients, conv2d_transpose, the pooling gradients): each input cell
  from the windows that cover it; a tile computes the gradient of the extent it reads and
  keeps its own cells;
- "sum" (the filter gradients): one partial sum per tile, added up by a tree reduction.
"""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
from dask.base import tokenize

from .._arrays import compute_dtype
from .._geometry import Window, join_shape, nhwc_axes
from .._tiling import tile_axis
from ._sharing import task_threads


class TileCall:
    """The call for one tile: ``call(**blocks, padding=...)`` with the tile's explicit
    padding (and, where `sizes` names it, the shape of the input extent the tile reads), on
    this task's share of the CPUs. ``call`` is the NumPy function with every other argument
    bound (functools.partial), so that the graph pickles and tokenizes."""

    def __init__(self, call, names, fmt, tiles, *, sizes=None, channels=None, result="output"):
        self.call = call
        self.names = tuple(names)  # the keyword each block is passed as
        self.fmt = fmt
        self.tiles = tiles  # the height and width tiles
        self.sizes = sizes  # the keyword of the input extent's shape, if the op takes one
        self.channels = channels  # the input's channels in that shape (None: the block's)
        self.result = result

    def __call__(self, *blocks, block_id=None):
        _, h_ax, w_ax, _ = nhwc_axes(self.fmt)
        j_h, j_w = block_id[h_ax], block_id[w_ax]
        tiles_h, tiles_w = self.tiles
        kwargs: dict[str, Any] = dict(zip(self.names, blocks))
        kwargs["padding"] = [list(tiles_h.pads(j_h)), list(tiles_w.pads(j_w))]
        if self.sizes is not None:
            h = tiles_h.in_chunks[j_h] + sum(tiles_h.reach(j_h))
            w = tiles_w.in_chunks[j_w] + sum(tiles_w.reach(j_w))
            n_ax, _, _, c_ax = nhwc_axes(self.fmt)
            c = blocks[0].shape[c_ax] if self.channels is None else self.channels
            kwargs[self.sizes] = join_shape(blocks[0].shape[n_ax], h, w, c, self.fmt)
        with task_threads():
            result = self.call(**kwargs)
        if self.result == "sum":  # dW (and db): one flat vector per tile, summed over tiles
            parts = result if isinstance(result, tuple) else (result,)
            return np.concatenate([p.ravel() for p in parts]).reshape(1, 1, 1, 1, -1)
        if self.result == "input":  # the extent's gradient: keep the tile's own cells
            index = [slice(None)] * 4
            for ax, tiles, j in ((h_ax, tiles_h, j_h), (w_ax, tiles_w, j_w)):
                low = tiles.reach(j)[0]
                index[ax] = slice(low, low + tiles.in_chunks[j])
            return result[tuple(index)]
        return result

    def __dask_tokenize__(self):
        # A token string: Dask does not normalize what this returns, and would format the
        # bound filters as text (tens of ms for a 7x7x3x64 filter) instead of hashing them.
        call = self.call
        return tokenize(
            type(self).__name__,
            call.func,
            call.args,
            call.keywords,
            self.names,
            self.fmt,
            self.tiles,
            self.sizes,
            self.channels,
            self.result,
        )


def axis_tiles(win: Window, chunks_h, chunks_w, *, back: bool, chunks_of: str):
    """The height and width tiles of the whole-array geometry `win`, near the given chunks.
    The padding passed on is the asked-for one: cells a ceil_mode window reaches past it
    (``overhang``) are the tile's own ceil_mode's to add."""
    return tuple(
        tile_axis(size, chunks, k, s, d, before, after - over, out, back=back, chunks_of=chunks_of)
        for size, chunks, k, s, d, before, after, over, out in (
            (
                win.in_h,
                chunks_h,
                win.k_h,
                win.stride_h,
                win.dil_h,
                win.pad_top,
                win.pad_bottom,
                win.overhang_bottom,
                win.out_h,
            ),
            (
                win.in_w,
                chunks_w,
                win.k_w,
                win.stride_w,
                win.dil_w,
                win.pad_left,
                win.pad_right,
                win.overhang_right,
                win.out_w,
            ),
        )
    )


def tiled(
    arrays,
    win: Window,
    fmt: str,
    call,
    dtype,
    *,
    token: str,
    result: str = "output",
    out_channels: int = 0,
    one_channel_chunk: bool = True,
    sizes: str | None = None,
    sum_length: int = 0,
) -> da.Array:
    """The lazy result of `call` (the NumPy function, padding left unbound) over Dask arrays.

    arrays: (keyword, array, of) triples: the keyword the op takes the array as, and whether
    it is indexed like the op's input (of="input") or output (of="output"); the first one's
    chunks place the tiles. win: the whole-array geometry. result: "output", "input" or
    "sum" (module docstring); out_channels: the result's channels ("output" and "input");
    sum_length: the length of a tile's flat partial sum ("sum"). one_channel_chunk: the op
    mixes channels (convolutions and their gradients), so they are rechunked to one chunk;
    otherwise (pools) each channel chunk is a separate task. sizes: the keyword of the input
    extent's shape, for ops that take the input's shape rather than the input."""
    n_ax, h_ax, w_ax, c_ax = nhwc_axes(fmt)
    first = arrays[0][1]
    tiles_h, tiles_w = axis_tiles(
        win,
        first.chunks[h_ax],
        first.chunks[w_ax],
        back=result == "input",
        chunks_of=arrays[0][2],
    )
    c_chunks = (win.channels,) if one_channel_chunk else first.chunks[c_ax]
    blocks, depths = [], []
    for _, x, of in arrays:
        chunks: list[Any] = [None] * 4
        chunks[n_ax] = first.chunks[n_ax]
        chunks[h_ax] = tiles_h.in_chunks if of == "input" else tiles_h.out_chunks
        chunks[w_ax] = tiles_w.in_chunks if of == "input" else tiles_w.out_chunks
        chunks[c_ax] = (x.shape[c_ax],) if one_channel_chunk else c_chunks
        blocks.append(x.rechunk(tuple(chunks)))  # a no-op where the chunks already are the tiles
        depth = {h_ax: tiles_h.depth(of), w_ax: tiles_w.depth(of)}
        # zeros, not (0, 0): with no halo anywhere map_overlap is map_blocks
        depths.append({ax: d if any(d) else 0 for ax, d in depth.items()})
    batch = first.chunks[n_ax]
    kwargs: dict[str, Any] = {}
    if result == "sum":
        ones = tuple((1,) * len(c) for c in blocks[0].chunks)
        kwargs = {"chunks": (*ones, (sum_length,)), "new_axis": [4]}
        meta = np.empty((0,) * 5, dtype)
    else:
        own = "in_chunks" if result == "input" else "out_chunks"
        channels = (out_channels,) if one_channel_chunk else c_chunks
        # join_shape only orders its four arguments (here chunk tuples, not sizes)
        order: Any = join_shape
        kwargs = {
            "chunks": order(batch, getattr(tiles_h, own), getattr(tiles_w, own), channels, fmt)
        }
        meta = np.empty((0,) * 4, dtype)
    func = TileCall(
        call,
        [name for name, _, _ in arrays],
        fmt,
        (tiles_h, tiles_w),
        sizes=sizes,
        channels=win.channels if one_channel_chunk else None,
        result=result,
    )
    y = da.map_overlap(
        func,
        *blocks,
        depth=depths,
        boundary="none",
        trim=False,
        align_arrays=False,
        allow_rechunk=False,
        dtype=dtype,
        meta=meta,
        token=token,
        **kwargs,
    )
    if result == "sum":  # float16 partials are added in float32, as the kernels compute
        return y.sum(axis=(0, 1, 2, 3), dtype=compute_dtype(dtype)).astype(dtype)
    return y
