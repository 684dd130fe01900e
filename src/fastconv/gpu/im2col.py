"""conv2d on the GPU as im2col + cuBLAS GEMM (`cupy.matmul`) + a bias/activation epilogue.

The GEMM is laid out so that its result already is the output in the data_format wherever
possible, and the epilogue then runs in place (or not at all):

  NHWC: cols[g][n*p][k] @ W[g][k][og] -> [g][n*p][og]; with one group that is the output
        [n*p][out_c] itself; with several, the epilogue reorders it to [n*p][g*og].
  NCHW: W^T[g][og][k] @ cols[n][g][k][p] -> [n][g][og][p], the output itself.

k = (ky * kw + kx) * c_per_group + c, the row order of the HWIO filter, so W needs no
repacking beyond a transpose for NCHW. A 1x1, stride-1, unpadded convolution of a dense
input uses the input itself as `cols` (no im2col). The batch is processed in chunks whose
`cols` fit in WORKSPACE_BYTES.
"""

from __future__ import annotations

from . import Flag, _effective_steps, element_strides, index_type, kernels, launch

# Largest im2col workspace (plus the grouped-NHWC GEMM result) per chunk of images. Batch 32
# of every suite layer up to 56x56x64 3x3 fits in one chunk.
WORKSPACE_BYTES = 512 << 20


def conv_gemm(cp, x, f, b, target, shape, act, fmt):
    win = shape.win
    groups, out_c = shape.groups, shape.out_channels
    cg, og = win.channels // groups, out_c // groups
    kg = win.k_h * win.k_w * cg
    p = win.out_h * win.out_w
    # HWIO [kh, kw, cg, out_c] is the matrix [kg][groups * og].
    w = f.reshape(kg, groups, og)
    w = cp.ascontiguousarray(w.transpose(1, 0, 2) if fmt == "NHWC" else w.transpose(1, 2, 0))
    itemsize = target.itemsize
    per_image = p * kg * groups * itemsize
    if fmt == "NHWC" and groups > 1:
        per_image += p * out_c * itemsize
    chunk = max(1, min(win.batch, WORKSPACE_BYTES // max(per_image, 1)))
    direct_cols = _input_is_cols(x, win, fmt)
    xs = element_strides(x, fmt)
    index = index_type(xs, win, target.size, chunk * p * kg * groups, f.size)
    for n0 in range(0, win.batch, chunk):
        n1 = min(win.batch, n0 + chunk)
        _chunk(cp, x[n0:n1], w, b, target[n0:n1], shape, act, fmt, direct_cols, xs, index)


def _input_is_cols(x, win, fmt) -> bool:
    """A 1x1, stride-1, unpadded window over a dense input: the input is already `cols`."""
    return (
        (win.k_h, win.k_w, win.stride_h, win.stride_w) == (1, 1, 1, 1)
        and (win.pad_top, win.pad_bottom, win.pad_left, win.pad_right) == (0, 0, 0, 0)
        and x.flags.c_contiguous
    )


def _chunk(cp, x, w, b, y, shape, act, fmt, direct_cols, xs, index):
    win = shape.win
    n = x.shape[0]
    groups, out_c = shape.groups, shape.out_channels
    cg, og = win.channels // groups, out_c // groups
    kg = win.k_h * win.k_w * cg
    p = win.out_h * win.out_w
    if direct_cols:
        cols = (
            x.reshape(n * p, groups, cg).transpose(1, 0, 2)
            if fmt == "NHWC"
            else x.reshape(n, groups, cg, p)
        )
    else:
        shape_ = (groups, n * p, kg) if fmt == "NHWC" else (n, groups, kg, p)
        cols = cp.empty(shape_, y.dtype)
        sh, sw, dh, dw = _effective_steps(win)
        launch(
            cp,
            kernels.Variant("im2col", y.dtype.name, index, fmt),
            cols.size,
            (
                x,
                cols,
                cols.size,
                n,
                win.in_h,
                win.in_w,
                win.out_h,
                win.out_w,
                *xs,
                win.k_h,
                win.k_w,
                sh,
                sw,
                dh,
                dw,
                win.pad_top,
                win.pad_left,
                cg,
                groups,
            ),
        )
    if fmt == "NHWC" and groups > 1:
        z = cp.matmul(cols, w)  # [g][n * p][og], reordered by the epilogue
        strides = (p * og, og, n * p * og, 1)  # element strides of z for (n, p, g, o)
    else:  # the GEMM writes the output itself; the epilogue, if any, runs in place
        if fmt == "NCHW":
            cp.matmul(w, cols, out=y.reshape(n, groups, og, p))
            strides = (out_c * p, 1, og * p, p)
        else:
            cp.matmul(cols.reshape(n * p, kg), w.reshape(kg, og), out=y.reshape(n * p, out_c))
            strides = (p * out_c, out_c, 0, 1)
        if b is None and not act:
            return
        z = y
    launch(
        cp,
        kernels.Variant("epilogue", y.dtype.name, index, fmt),
        y.size,
        (
            z,
            y if b is None else b,
            y,
            y.size,
            p,
            out_c,
            og,
            *strides,
            Flag(b is not None),
            Flag(act),
        ),
    )
