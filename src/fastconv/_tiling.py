"""Cutting a sliding window along one axis into tiles that can be computed apart (the chunks
of a Dask array, fastconv.dask): the one copy of that arithmetic, for the forward ops and
their gradients.

Output cell o reads padded input cells [o * stride, o * stride + eff_k). A tile owns output
cells [o_j, o_j+1) and input cells [r_j, r_j+1), r_j = o_j * stride - pad_before (a multiple
of the stride in padded coordinates). It reads:

- forward ops and filter gradients (each output cell from its window): its own input cells
  and the first ``halo = eff_k - stride`` cells of the next tile;
- input gradients (each input cell from the windows that cover it, ``back > 0``): also the
  ``back = (eff_k - 1) // stride`` windows before its first, which cover its first cells,
  so the ``back`` output cells and ``back * stride`` input cells before its own. It computes
  the gradient of that whole extent and keeps its own cells (the few halo cells computed
  twice are the price of running the NumPy function unchanged on each tile).

Each tile runs the whole-array call's windows, with the array's own padding on the first
and last tiles and none elsewhere, so every cell sums the same terms.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._geometry import effective_window


@dataclass(frozen=True)
class AxisTiles:
    """Tile j holds ``in_chunks[j]`` input cells and ``out_chunks[j]`` output cells; it reads
    ``reach(j)`` input cells before and after its own and ``back`` output cells before its
    own (when j > 0), with the explicit padding ``pads(j)``."""

    in_chunks: tuple[int, ...]
    out_chunks: tuple[int, ...]
    halo: int
    pad_before: int
    pad_after: int
    stride: int = 1
    back: int = 0

    def pads(self, j: int) -> tuple[int, int]:
        """The explicit padding of tile j: the array's own, on the first and last tiles."""
        last = len(self.in_chunks) - 1
        return (self.pad_before if j == 0 else 0, self.pad_after if j == last else 0)

    def reach(self, j: int) -> tuple[int, int]:
        """Input cells tile j reads before and after its own (none past the array's ends)."""
        last = len(self.in_chunks) - 1
        return (self.back * self.stride if j > 0 else 0, self.halo if j < last else 0)

    def depth(self, of: str) -> tuple[int, int]:
        """Dask's map_overlap depth (low, high) for the array of the inputs (of="input") or
        of the outputs (of="output"); none with one tile."""
        if len(self.in_chunks) == 1:
            return (0, 0)
        if of == "input":
            return (self.back * self.stride, self.halo)
        return (self.back, 0)


def tile_axis(
    size: int,
    chunks,
    k: int,
    stride: int,
    dilation: int,
    pad_before: int,
    pad_after: int,
    out: int,
    *,
    back: bool = False,
    chunks_of: str = "input",
) -> AxisTiles:
    """Tiles for one axis of `size` input cells (padding pad_before / pad_after, `out` output
    cells), with boundaries near those of `chunks`: the chunk sizes of the input
    (chunks_of="input") or of the output (chunks_of="output", for the input gradients, whose
    Dask array is the output's gradient). back: tiles also read the windows before their
    first (input gradients; see the module's docstring).

    A chunk boundary becomes the first window start at or after it; boundaries that would
    leave a tile smaller than what its neighbours read from it (Dask takes a halo from the
    next chunk alone), without output cells, or empty are dropped, so tiles merge instead.
    """
    eff_k = effective_window(k, dilation)
    halo = max(eff_k - stride, 0)
    windows_back = (eff_k - 1) // stride if back else 0
    # Dask's overlap takes each halo from one neighbouring chunk and checks every chunk
    # against the deepest halo, so every tile has at least that many cells on both sides.
    least = max(halo, 1, windows_back * stride)
    least_out = max(1, windows_back)
    starts = [0]  # r_j, in input cells
    owned = [0]  # o_j, in output cells
    edge = 0
    for c in list(chunks)[:-1]:
        edge += int(c)
        if chunks_of == "output":
            o = edge
        else:
            o = -(-(edge + pad_before) // stride)
        r = o * stride - pad_before
        if r - starts[-1] >= least and size - r >= least and 0 < o and out - o >= least_out:
            starts.append(r)
            owned.append(o)
    in_chunks = tuple(b - a for a, b in zip(starts, starts[1:] + [size]))
    out_chunks = tuple(b - a for a, b in zip(owned, owned[1:] + [out]))
    return AxisTiles(in_chunks, out_chunks, halo, pad_before, pad_after, stride, windows_back)
