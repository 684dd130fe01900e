"""Reference pooling gradients and max pooling with its argmax, in plain NumPy with float64
accumulation (re-exported by fastconv.reference; written for clarity, not speed).

The winner of a max window is found by one walk over its taps in row-major order that
keeps the first NaN, else the first strictly greater value; gradients are scattered with
np.add.at onto the padded input and the padding is cut off at the end.
"""

from __future__ import annotations

import numpy as np

from ._arrays import float_array, result_dtype
from ._geometry import (
    check_forward_output,
    flat_index_strides,
    join_shape,
    normalize_data_format,
    pool_window,
    sizes_arg,
    taps_inside,
)
from .reference import _deliver, _nhwc, _padded, _taps


def max_pool2d_grad(
    input, output, grad, ksize, strides, padding, *, data_format="NHWC", pads=None, out=None
):
    """Reference tf.raw_ops.MaxPoolGrad: each window's gradient to its first NaN, else its
    first maximum (row-major); `output` is checked for shape only."""
    x = float_array(input, "input")
    y = float_array(output, "output")
    g = float_array(grad, "grad")
    fmt = normalize_data_format(data_format)
    win = pool_window(x.shape, ksize, strides, padding, fmt, pads=pads)
    check_forward_output(win, win.channels, y.shape, fmt, "output")
    check_forward_output(win, win.channels, g.shape, fmt, "grad")
    dx = _padded(np.zeros((win.batch, win.in_h, win.in_w, win.channels)), win, 0.0)
    if g.size:
        _, rows, cols = _winners(_nhwc(x, fmt), win)
        n, _, _, c = np.indices(rows.shape, sparse=True)
        np.add.at(dx, (n, rows, cols, c), _nhwc(g, fmt))
    return _deliver(_unpad(dx, win), x.shape, result_dtype(x, y, g), fmt, out)


def avg_pool2d_grad(
    input_sizes, grad, ksize, strides, padding, *, data_format="NHWC", pads=None, out=None
):
    """Reference tf.raw_ops.AvgPoolGrad: each window's gradient over its real cells to each."""
    sizes = sizes_arg(input_sizes, "input_sizes")
    g = float_array(grad, "grad")
    fmt = normalize_data_format(data_format)
    win = pool_window(sizes, ksize, strides, padding, fmt, pads=pads)
    check_forward_output(win, win.channels, g.shape, fmt, "grad")
    dx = _padded(np.zeros((win.batch, win.in_h, win.in_w, win.channels)), win, 0.0)
    if g.size:
        rows = taps_inside(win.out_h, win.stride_h, win.pad_top, win.k_h, 1, 0, win.in_h)
        cols = taps_inside(win.out_w, win.stride_w, win.pad_left, win.k_w, 1, 0, win.in_w)
        share = _nhwc(g, fmt) / (rows[:, None] * cols[None, :])[None, :, :, None]
        for _, _, cells in _taps(dx, win):  # views of dx: += writes into it
            cells += share
    return _deliver(_unpad(dx, win), tuple(sizes), g.dtype, fmt, out)


def max_pool_with_argmax(
    input, ksize, strides, padding, data_format="NHWC", *, include_batch_in_index=False, out=None
):
    """Reference tf.nn.max_pool_with_argmax: (output, int64 argmax into the flattened
    input of data_format, the batch counted only with include_batch_in_index)."""
    x = float_array(input, "input")
    if not isinstance(include_batch_in_index, bool):
        raise TypeError(
            f"include_batch_in_index must be True or False, got {include_batch_in_index!r}"
        )
    fmt = normalize_data_format(data_format)
    win = pool_window(x.shape, ksize, strides, padding, fmt)
    return pool_with_index(x, win, fmt, flat_index_strides(win, fmt, include_batch_in_index), out)


def pool_with_index(x, win, fmt, index_strides, out=None):
    """(max pooling of x, int64 index of each window's winner): the index is what each unit
    of the winner's (n, y, x, c) adds (index_strides, the convention)."""
    out_shape = join_shape(win.batch, win.out_h, win.out_w, win.channels, fmt)
    best = np.zeros((win.batch, win.out_h, win.out_w, win.channels))
    index = np.zeros(best.shape, np.int64)
    if best.size:
        best, rows, cols = _winners(_nhwc(x, fmt), win)
        n, _, _, c = np.indices(rows.shape, sparse=True)
        s_n, s_y, s_x, s_c = index_strides
        index = n * s_n + (rows - win.pad_top) * s_y + (cols - win.pad_left) * s_x + c * s_c
    index = index if fmt == "NHWC" else np.transpose(index, (0, 3, 1, 2))
    if out is None:
        return _deliver(best, out_shape, x.dtype, fmt, None), np.ascontiguousarray(index)
    y_out, arg_out = out
    _deliver(best, out_shape, x.dtype, fmt, y_out)
    arg_out[...] = index
    return y_out, arg_out


def _winners(x64, win):
    """(value, padded row, padded column) of each window's winner, NHWC [n, oy, ox, c]."""
    xp = _padded(x64, win, 0.0)
    real = _padded(np.ones(x64.shape[:3] + (1,), bool), win, False)
    shape = (win.batch, win.out_h, win.out_w, win.channels)
    best = np.full(shape, -np.inf)
    found = np.zeros(shape, bool)
    best_is_nan = np.zeros(shape, bool)
    ky_won = np.zeros(shape, np.int64)
    kx_won = np.zeros(shape, np.int64)
    for (ky, kx, cells), (_, _, is_real) in zip(_taps(xp, win), _taps(real, win)):
        is_nan = np.isnan(cells)
        take = is_real & ~best_is_nan & (~found | is_nan | (cells > best))
        best = np.where(take, cells, best)
        best_is_nan |= take & is_nan
        found |= is_real
        ky_won = np.where(take, ky, ky_won)
        kx_won = np.where(take, kx, kx_won)
    oy = np.arange(win.out_h)[None, :, None, None] * win.stride_h
    ox = np.arange(win.out_w)[None, None, :, None] * win.stride_w
    return best, oy + ky_won * win.dil_h, ox + kx_won * win.dil_w


def _unpad(xp, win):
    return xp[:, win.pad_top : win.pad_top + win.in_h, win.pad_left : win.pad_left + win.in_w, :]
