/* The filter gradient as a GEMM (template: FC_T, FC_SFX, and BF_ISA: each ISA's file
 * compiles the packing loops at its own vector width).
 *
 * Per group, dW[r][o] = sum over the pixels q of the batch's output of P[q][r] * dy[q][o],
 * with r = (ky, kx, ci) the filter rows (HWIO order) and P the patch matrix.  The GEMM is
 * computed transposed, C[o][r] = dyT[o][:] . P[:][r], so that the existing micro-kernels
 * run it as they are (gemm/ukernel_tmpl.h):
 *  - A rows are rows of dyT: a block of kc pixels of out_backprop transposed into the
 *    task's workspace, read through the indirection buffer;
 *  - B panels [kc pixels][NR filter rows] are packed from the input, pixel by pixel, straight
 *    into panel format: one run of channels per tap (never the whole patch matrix);
 *  - C = dW^T [out_C][taps x C/groups] lives in a workspace that the operator transposes
 *    into HWIO at the end.
 * A task owns a block of C -- rows of one group, a range of panels, small enough to stay
 * in L2 -- and runs through all pixels in blocks of kc: transpose the block's dyT rows,
 * then pack and multiply each of its panels, accumulating onto C.  Every value of C is
 * summed over the pixels in the same order whatever the split, so results are
 * bit-identical for any thread count.  kc is derived from the L1 size (one B panel stays
 * in L1 while the row panels of A stream past it). */
#include <string.h>

#define BF_FN(name) FC_CAT(FC_FN(name), BF_ISA)

/* The columns [r0, r0 + cols) of a B panel as runs of input values that one pixel's patch
 * holds side by side (fc_bf_run); returns their number (at most cols).  A run stays within
 * one tap, unless the input is dense NHWC with one group and no dilation along the width:
 * then a kernel row's taps lie next to each other in memory and one run covers them
 * (k_w x C values of a few-channel input: one copy instead of k_w). */
static int64_t BF_FN(bf_runs)(const fc_conv_desc *d, const fc_view *x, const FC_FN(bf_dims) * s,
                              int64_t r0, int64_t cols, fc_bf_run *runs) {
    const fc_window *win = &d->win;
    const int merge = d->groups == 1 && x->sc == 1 && x->sw == x->c && win->dil_w == 1;
    int64_t count = 0;
    for (int64_t j = 0; j < cols;) {
        const int64_t r = r0 + j, t = r / s->cg, ci = r % s->cg;
        const int64_t len = s->cg - ci < cols - j ? s->cg - ci : cols - j;
        fc_bf_run *last = count ? &runs[count - 1] : NULL;
        if (merge && last && last->ky == t / win->k_w && ci == 0) {
            last->kx_last = (int32_t)(t % win->k_w); /* the next tap of the same row */
            last->len += (int32_t)len;
        } else {
            runs[count++] = (fc_bf_run){(int32_t)(t / win->k_w), (int32_t)(t % win->k_w),
                                        (int32_t)(t % win->k_w), (int32_t)ci, (int32_t)len};
        }
        j += len;
    }
    return count;
}

/* The patches of kc pixels from (n, oy, ox), group g, the columns of the runs: value
 * (pixel i, column c) at out[i * ps + c] -- a B panel [kc][NR] with ps = NR -- zero where a
 * tap falls in the padding (bf_pack_patches_t writes them transposed).  Columns past the runs are left as they are (the caller keeps them zero). */
static void BF_FN(bf_pack_patches)(const fc_conv_desc *d, const fc_view *x, const fc_view *dy,
                                   const FC_FN(bf_dims) * s, int64_t g, const fc_bf_run *runs,
                                   int64_t nruns, int64_t n, int64_t oy, int64_t ox, int64_t kc,
                                   int64_t ps, FC_T *restrict out) {
    const fc_window *win = &d->win;
    const int64_t sc = x->sc;
    for (int64_t i = 0; i < kc; i++) {
        FC_T *restrict dst = out + i * ps;
        const FC_T *xn = (const FC_T *)x->data + n * x->sn + g * s->cg * sc;
        const int64_t iy0 = oy * win->stride_h - win->pad_top;
        const int64_t ix0 = ox * win->stride_w - win->pad_left;
        for (int64_t k = 0; k < nruns; k++) {
            const fc_bf_run *run = &runs[k];
            const int64_t iy = iy0 + run->ky * win->dil_h, ix = ix0 + run->kx * win->dil_w;
            const int64_t len = run->len;
            const FC_T *row = xn + iy * x->sh;
            if (iy < 0 || iy >= x->h) {
                for (int64_t c = 0; c < len; c++) dst[c] = 0;
            } else if (ix >= 0 && ix0 + run->kx_last * win->dil_w < x->w) {
                const FC_T *restrict src = row + ix * x->sw + run->ci * sc;
                if (sc == 1) /* the common case: one contiguous copy */
                    for (int64_t c = 0; c < len; c++) dst[c] = src[c];
                else
                    for (int64_t c = 0; c < len; c++) dst[c] = src[c * sc];
            } else { /* a run across the edge of the image: a copy or zeros per tap */
                for (int64_t c = 0, kx = run->kx, ci = run->ci; c < len; kx++, ci = 0) {
                    const int64_t m = s->cg - ci < len - c ? s->cg - ci : len - c;
                    const int64_t at = ix0 + kx * win->dil_w;
                    FC_T *restrict seg = dst + c;
                    if (at >= 0 && at < x->w) {
                        const FC_T *restrict src = row + at * x->sw + ci * sc;
                        for (int64_t e = 0; e < m; e++) seg[e] = src[e * sc];
                    } else {
                        for (int64_t e = 0; e < m; e++) seg[e] = 0;
                    }
                    c += m;
                }
            }
            dst += len;
        }
        fc_next_pixel(&n, &oy, &ox, dy->h, dy->w);
    }
}

/* The patches of len pixels from (n, oy, ox), transposed: A rows [cols][ld], value (pixel
 * i, column c) at out[c * ld + i], zero where a tap falls in the padding (the swapped GEMM's
 * A).  Written pixel by pixel, as bf_pack_patches does, each value would be one store
 * ld apart from the last; here each column is written along a run of pixels of one output row,
 * whose input values lie stride_w pixels apart (contiguous for stride 1 and one channel:
 * a first layer's patches), and the columns outside the image are found once per row. */
static void BF_FN(bf_pack_patches_t)(const fc_conv_desc *d, const fc_view *x, const fc_view *dy,
                                     const FC_FN(bf_dims) * s, int64_t g, const fc_bf_run *runs,
                                     int64_t nruns, int64_t n, int64_t oy, int64_t ox, int64_t len,
                                     int64_t ld, FC_T *restrict out) {
    const fc_window *win = &d->win;
    const int64_t sc = x->sc, step = win->stride_w * x->sw;
    for (int64_t i = 0; i < len;) {
        const int64_t seg = len - i < dy->w - ox ? len - i : dy->w - ox;
        const FC_T *xn = (const FC_T *)x->data + n * x->sn + g * s->cg * sc;
        const int64_t iy0 = oy * win->stride_h - win->pad_top;
        const int64_t ix0 = ox * win->stride_w - win->pad_left;
        FC_T *restrict col = out + i;
        for (int64_t k = 0; k < nruns; k++) {
            const fc_bf_run *run = &runs[k];
            const int64_t iy = iy0 + run->ky * win->dil_h;
            for (int64_t c = 0, kx = run->kx, ci = run->ci; c < run->len; c++, col += ld) {
                int64_t lo = seg, hi = seg; /* the pixels [lo, hi) read inside the image */
                const int64_t at = ix0 + kx * win->dil_w; /* the first pixel's column */
                if (iy >= 0 && iy < x->h) {
                    lo = at >= 0 ? 0 : (-at + win->stride_w - 1) / win->stride_w;
                    hi = at < x->w ? (x->w - at + win->stride_w - 1) / win->stride_w : 0;
                    if (lo > seg) lo = seg;
                    if (hi > seg) hi = seg;
                    if (hi < lo) hi = lo;
                }
                for (int64_t j = 0; j < lo; j++) col[j] = 0;
                if (hi > lo) {
                    const FC_T *restrict src =
                        xn + iy * x->sh + (at + lo * win->stride_w) * x->sw + ci * sc;
                    if (step == 1)
                        for (int64_t j = 0; j < hi - lo; j++) col[lo + j] = src[j];
                    else
                        for (int64_t j = 0; j < hi - lo; j++) col[lo + j] = src[j * step];
                }
                for (int64_t j = hi; j < seg; j++) col[j] = 0;
                if (++ci == s->cg) {
                    ci = 0;
                    kx++;
                }
            }
        }
        i += seg;
        ox += seg;
        if (ox == dy->w) {
            ox = 0;
            if (++oy == dy->h) {
                oy = 0;
                n++;
            }
        }
    }
}

/* out_backprop of len pixels from (n, oy, ox), channels [o0, o0 + rows): value (pixel j,
 * channel i) at dst[j * ps + i * cs] -- A rows [rows][kc] (ps = 1, cs = kc, a transpose,
 * in tiles of 16 channels so that both sides are walked in cache lines) or a B panel
 * [kc][NR] (ps = NR, cs = 1).  With db, db[i] += the values, in pixel order. */
static void BF_FN(bf_pack_dy)(const fc_view *dy, int64_t o0, int64_t rows, int64_t n, int64_t oy,
                              int64_t ox, int64_t len, int64_t ps, int64_t cs, FC_T *restrict dst,
                              FC_T *restrict db) {
    enum { TB = 16 };
    for (int64_t i0 = 0; i0 < rows; i0 += TB) {
        const int64_t i1 = i0 + TB < rows ? i0 + TB : rows;
        int64_t pn = n, py = oy, px = ox;
        for (int64_t j = 0; j < len; j++) {
            const FC_T *restrict src =
                (const FC_T *)dy->data + pn * dy->sn + py * dy->sh + px * dy->sw + o0 * dy->sc;
            for (int64_t i = i0; i < i1; i++) dst[j * ps + i * cs] = src[i * dy->sc];
            if (db)
                for (int64_t i = i0; i < i1; i++) db[i] += src[i * dy->sc];
            fc_next_pixel(&pn, &py, &px, dy->h, dy->w);
        }
    }
}

/* dW rows [r0, r0 + cols) x channels [first, first + rows) of the [r][out_C] filter
 * gradient from the task's block of C, [rows][ldc] (its columns from r0 on), in tiles of
 * 16 channels: 16 sequential streams on each side. */
static void BF_FN(bf_store)(const FC_T *restrict c, int64_t ldc, int64_t rows, int64_t cols,
                            FC_T *restrict dw, int64_t oc) {
    enum { TB = 16 };
    for (int64_t o0 = 0; o0 < rows; o0 += TB) {
        const int64_t o1 = o0 + TB < rows ? o0 + TB : rows;
        for (int64_t r = 0; r < cols; r++)
            for (int64_t o = o0; o < o1; o++) dw[r * oc + o] = c[o * ldc + r];
    }
}

/* The runs of every panel [p0, p1) of filter rows (w.runs, from w.run_at[p - p0]). */
static void BF_FN(bf_panel_runs)(const fc_conv_desc *d, const fc_view *x, const FC_FN(bf_dims) * s,
                                 int64_t p0, int64_t p1, FC_FN(bf_ws) * w) {
    for (int64_t p = p0, at = 0; p < p1; p++) {
        const int64_t r0 = p * s->nr, cols = s->r - r0 < s->nr ? s->r - r0 : s->nr;
        w->run_at[p - p0] = at;
        at += BF_FN(bf_runs)(d, x, s, r0, cols, w->runs + at);
        w->run_at[p - p0 + 1] = at;
    }
}

/* The task's A rows (rows of them, kc apart in w->a) for the indirection buffer; rows past
 * the last repeat the first: the macro-kernel computes them into a local tile and never
 * stores them.  A partial B panel has its own buffer, whose columns past the data stay
 * zero. */
static void BF_FN(bf_prepare)(const FC_FN(bf_dims) * s, int64_t rows, FC_FN(bf_ws) * w) {
    const int64_t ptrs = (rows + s->mr - 1) / s->mr * s->mr;
    for (int64_t i = 0; i < ptrs; i++) w->ind[i] = w->a + (i < rows ? i : 0) * s->kc;
    memset(w->part, 0, sizeof(FC_T) * (size_t)(s->kc * s->nr));
}

/* Whether the B panels can be read from the input in place: with one group of exactly NR
 * dense channels and stride 1 along the width, a panel is one tap's channels (NR columns)
 * and consecutive pixels of an output row read consecutive pixels of an input row, NR
 * values apart -- the packed panel's own layout [kc][NR].  (64-channel 3x3 layers, as
 * ResNet's and VGG's first stages: packing took a quarter of their time.) */
static int BF_FN(bf_in_place)(const fc_conv_desc *d, const fc_view *x, const FC_FN(bf_dims) * s) {
    return d->groups == 1 && x->sc == 1 && x->sw == s->nr && s->cg == s->nr && d->win.stride_w == 1;
}

/* bf_gemm_block's sum for bf_in_place: the pixels in segments of at most kc of one output
 * row, out_backprop transposed once per segment; for each panel (tap) only the pixels whose
 * tap lies inside the image are summed (those in the padding would add zeros: they are
 * skipped, as the forward kernels skip padding taps), A read from the segment's offset
 * and B straight from the input row.  C starts at zero and is accumulated in pixel order,
 * whatever the split. */
static void BF_FN(bf_gemm_rows_in_place)(const FC_FN(fc_ukernel) * uk, const fc_conv_desc *d,
                                         const fc_view *x, const fc_view *dy,
                                         const FC_FN(bf_dims) * s, int64_t first, int64_t rows,
                                         int64_t p0, int64_t p1, FC_FN(bf_ws) * w, FC_T *db) {
    const fc_window *win = &d->win;
    const int64_t kc = s->kc, nr = s->nr, ldc = (p1 - p0) * nr;
    memset(w->c, 0, sizeof(FC_T) * (size_t)(rows * ldc));
    for (int64_t n = 0; n < dy->n; n++)
        for (int64_t oy = 0; oy < dy->h; oy++)
            for (int64_t ox0 = 0; ox0 < dy->w; ox0 += kc) {
                const int64_t len = dy->w - ox0 < kc ? dy->w - ox0 : kc;
                BF_FN(bf_pack_dy)(dy, first, rows, n, oy, ox0, len, 1, kc, w->a,
                                  db ? db + first : NULL);
                for (int64_t p = p0; p < p1; p++) { /* panel p is tap p */
                    const int64_t ky = p / win->k_w, kx = p % win->k_w;
                    const int64_t iy = oy * win->stride_h - win->pad_top + ky * win->dil_h;
                    if (iy < 0 || iy >= x->h) continue;
                    const int64_t shift = kx * win->dil_w - win->pad_left; /* ix - ox */
                    int64_t lo = -shift > ox0 ? -shift : ox0;
                    int64_t hi = x->w - shift < ox0 + len ? x->w - shift : ox0 + len;
                    if (hi <= lo) continue;
                    const FC_T *b =
                        (const FC_T *)x->data + n * x->sn + iy * x->sh + (lo + shift) * x->sw;
                    FC_FN(gemm_macro)(uk, rows, nr, 1, hi - lo, w->ind, lo - ox0, b, 0,
                                      w->c + (p - p0) * nr, ldc, 1, 0, NULL, FC_ACT_NONE);
                }
            }
}

/* dW for rows o in [o0, o1) of group g and the filter rows of panels [p0, p1):
 * C[o][r] = sum over every pixel q of dyT[o][q] * P[q][r] is accumulated in the task's
 * workspace (the split keeps it in L2) pixel block by pixel block, then stored
 * transposed into dw, dense HWIO [r][out_C].  With db, also db[o] = the sum of
 * out_backprop over the pixels, for the same rows (in pixel order). */
void BF_FN(bf_gemm_block)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                          const fc_view *dy, const FC_FN(bf_dims) * s, int64_t g, int64_t o0,
                          int64_t o1, int64_t p0, int64_t p1, FC_T *dw, FC_T *db, void *ws) {
    const FC_FN(fc_ukernel) *uk = FC_UKERNEL(cx);
    const int64_t kc = s->kc, nr = s->nr, k = dy->n * dy->h * dy->w, rows = o1 - o0;
    const int64_t first = g * s->og + o0, ldc = (p1 - p0) * nr;
    const int64_t r_end = p1 * nr < s->r ? p1 * nr : s->r;
    FC_FN(bf_ws) w = FC_FN(bf_ws_split)(s, rows, p1 - p0, 1, ws);
    BF_FN(bf_panel_runs)(d, x, s, p0, p1, &w);
    BF_FN(bf_prepare)(s, rows, &w);
    if (db)
        for (int64_t i = 0; i < rows; i++) db[first + i] = 0;

    if (BF_FN(bf_in_place)(d, x, s)) {
        BF_FN(bf_gemm_rows_in_place)(uk, d, x, dy, s, first, rows, p0, p1, &w, db);
        BF_FN(bf_store)(w.c, ldc, rows, r_end - p0 * nr, dw + p0 * nr * dy->c + first, dy->c);
        return;
    }
    int64_t n = 0, oy = 0, ox = 0; /* the first pixel of the block */
    for (int64_t q = 0; q < k; q += kc) {
        const int64_t len = k - q < kc ? k - q : kc;
        BF_FN(bf_pack_dy)(dy, first, rows, n, oy, ox, len, 1, kc, w.a, db ? db + first : NULL);
        for (int64_t p = p0; p < p1; p++) {
            const int64_t r0 = p * nr, cols = s->r - r0 < nr ? s->r - r0 : nr;
            FC_T *panel = cols < nr ? w.part : w.full;
            BF_FN(bf_pack_patches)(d, x, dy, s, g, w.runs + w.run_at[p - p0],
                                   w.run_at[p - p0 + 1] - w.run_at[p - p0], n, oy, ox, len, nr,
                                   panel);
            FC_FN(gemm_macro)(uk, rows, cols, 1, len, w.ind, 0, panel, 0, w.c + (p - p0) * nr, ldc,
                              q > 0, 0, NULL, FC_ACT_NONE);
        }
        for (int64_t j = 0; j < len; j++) fc_next_pixel(&n, &oy, &ox, dy->h, dy->w);
    }
    BF_FN(bf_store)(w.c, ldc, rows, r_end - p0 * nr, dw + p0 * nr * dy->c + first, dy->c);
}

/* The same GEMM the other way round, for few filter rows (fewer than out_C): dW[r][o] =
 * sum over pixels of P^T[r][q] * dy[q][o] with the patches transposed into A rows and
 * out_backprop packed into B panels, accumulated straight into dw (dense HWIO [r][out_C]):
 * filter rows [r0, r1) of group g x the out-channel panels [p0, p1) of the group.  With
 * db, also db = out_backprop summed over the pixels, for those channels.  This transposes
 * r x pixels values instead of out_C x pixels, and fills the micro-kernel's wide tile
 * with out_C columns instead of a few filter rows. */
void BF_FN(bf_gemm_block_swapped)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                  const fc_view *dy, const FC_FN(bf_dims) * s, int64_t g,
                                  int64_t r0, int64_t r1, int64_t p0, int64_t p1, FC_T *dw,
                                  FC_T *db, void *ws) {
    const FC_FN(fc_ukernel) *uk = FC_UKERNEL(cx);
    const int64_t kc = s->kc, nr = s->nr, k = dy->n * dy->h * dy->w, rows = r1 - r0;
    FC_FN(bf_ws) w = FC_FN(bf_ws_split)(s, rows, 1, 0, ws);
    const int64_t nruns = BF_FN(bf_runs)(d, x, s, r0, rows, w.runs);
    BF_FN(bf_prepare)(s, rows, &w);
    if (db)
        for (int64_t o = p0 * nr; o < p1 * nr && o < s->og; o++) db[g * s->og + o] = 0;

    int64_t n = 0, oy = 0, ox = 0; /* the first pixel of the block */
    for (int64_t q = 0; q < k; q += kc) {
        const int64_t len = k - q < kc ? k - q : kc;
        BF_FN(bf_pack_patches_t)(d, x, dy, s, g, w.runs, nruns, n, oy, ox, len, kc, w.a);
        for (int64_t p = p0; p < p1; p++) {
            const int64_t o0 = g * s->og + p * nr, cols = s->og - p * nr < nr ? s->og - p * nr : nr;
            FC_T *panel = cols < nr ? w.part : w.full;
            BF_FN(bf_pack_dy)(dy, o0, cols, n, oy, ox, len, nr, 1, panel, db ? db + o0 : NULL);
            FC_FN(gemm_macro)(uk, rows, cols, 1, len, w.ind, 0, panel, 0, dw + r0 * dy->c + o0,
                              dy->c, q > 0, 0, NULL, FC_ACT_NONE);
        }
        for (int64_t j = 0; j < len; j++) fc_next_pixel(&n, &oy, &ox, dy->h, dy->w);
    }
}

#undef BF_FN
