/* The filter gradient as a GEMM (template: FC_T, FC_SFX).
 *
 * Per group, dW[r][o] = sum over the pixels q of the batch's output of P[q][r] * dy[q][o],
 * with r = (ky, kx, ci) the filter rows (HWIO order) and P the patch matrix.  The GEMM is
 * computed transposed, C[o][r] = dyT[o][:] . P[:][r], so that the existing micro-kernels
 * run it as they are (gemm/ukernel_tmpl.h):
 *  - A rows are rows of dyT, out_backprop transposed once per call (the operator's first
 *    phase): contiguous runs of pixels, read in place through the indirection buffer;
 *  - B panels [kc pixels][NR filter rows] are packed from the input, pixel by pixel, straight
 *    into panel format: one run of channels per tap (never the whole patch matrix);
 *  - C = dW^T [out_C][taps x C/groups] lives in a workspace that the operator transposes
 *    into HWIO at the end.
 * The reduction over pixels runs in chunks of kc, each accumulated onto C: a task owns a
 * block of C and sums all pixels, in the same order whatever the split, so results are
 * bit-identical for any thread count.  kc is derived from the L1 size: one B panel stays in
 * L1 while every row panel of A streams past it. */
#include <string.h>

/* The GEMM's dimensions for one call (bf_dims, fc_backprop_filter.h): channels per group
 * in and out, taps, r = taps x cg, NR-wide panels of r, pixels per packed B panel. */
FC_FN(bf_dims) FC_FN(bf_gemm_dims)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                   const fc_view *dy) {
    const FC_FN(fc_ukernel) *uk = FC_UKERNEL(cx);
    FC_FN(bf_dims) s;
    s.mr = uk->mr;
    s.nr = uk->nr;
    s.cg = x->c / d->groups;
    s.og = dy->c / d->groups;
    s.taps = d->win.k_h * d->win.k_w;
    s.r = s.taps * s.cg;
    s.npanel = (s.r + s.nr - 1) / s.nr;
    /* Half of L1 for the B panel, the rest for the MR rows of A and the C tile. */
    s.kc = (int64_t)(fc_cache_bytes(1) / 2 / sizeof(FC_T)) / s.nr;
    if (s.kc < 16) s.kc = 16;
    s.kc = s.kc / 8 * 8;
    return s;
}

/* dyt[o * ldt + q - q0] = dy at pixel q, channel o, for pixels [q0, q1) of the batch and all
 * channels, in tiles of 16 channels so that both sides are walked in cache lines. */
void FC_FN(bf_transpose_dy)(const fc_view *dy, int64_t qbase, int64_t q0, int64_t q1,
                            FC_T *dyt, int64_t ldt) {
    enum { TB = 16 };
    const int64_t hw = dy->h * dy->w;
    for (int64_t c0 = 0; c0 < dy->c; c0 += TB) {
        const int64_t c1 = c0 + TB < dy->c ? c0 + TB : dy->c;
        int64_t n = q0 / hw, oy = q0 % hw / dy->w, ox = q0 % dy->w;
        for (int64_t q = q0; q < q1; q++) {
            const FC_T *src = (const FC_T *)dy->data + n * dy->sn + oy * dy->sh + ox * dy->sw;
            FC_T *dst = dyt + (q - qbase);
            for (int64_t c = c0; c < c1; c++) dst[c * ldt] = src[c * dy->sc];
            if (++ox == dy->w) {
                ox = 0;
                if (++oy == dy->h) {
                    oy = 0;
                    n++;
                }
            }
        }
    }
}

/* B panel [kc][NR]: row i holds filter rows [r0, r0 + cols) of group g's patch of pixel
 * q0 + i (zero where a tap falls in the padding, and past cols).  The columns are cut into
 * runs of channels that share a tap; each is one contiguous copy when the channels are. */
static void FC_FN(bf_pack_panel)(const fc_conv_desc *d, const fc_view *x, const fc_view *dy,
                                 const FC_FN(bf_dims) *s, int64_t g, int64_t r0, int64_t cols,
                                 int64_t q0, int64_t kc, FC_T *panel) {
    const fc_window *win = &d->win;
    const int64_t hw = dy->h * dy->w, nr = s->nr;
    int64_t n = q0 / hw, oy = q0 % hw / dy->w, ox = q0 % dy->w;
    for (int64_t i = 0; i < kc; i++) {
        FC_T *dst = panel + i * nr;
        const FC_T *xn = (const FC_T *)x->data + n * x->sn + g * s->cg * x->sc;
        const int64_t iy0 = oy * win->stride_h - win->pad_top;
        const int64_t ix0 = ox * win->stride_w - win->pad_left;
        for (int64_t j = 0; j < cols;) {
            const int64_t r = r0 + j, t = r / s->cg, ci = r % s->cg;
            const int64_t len = s->cg - ci < cols - j ? s->cg - ci : cols - j;
            const int64_t iy = iy0 + t / win->k_w * win->dil_h;
            const int64_t ix = ix0 + t % win->k_w * win->dil_w;
            if (iy < 0 || iy >= x->h || ix < 0 || ix >= x->w) {
                for (int64_t c = 0; c < len; c++) dst[j + c] = 0;
            } else {
                const FC_T *src = xn + iy * x->sh + ix * x->sw + ci * x->sc;
                if (x->sc == 1)
                    for (int64_t c = 0; c < len; c++) dst[j + c] = src[c];
                else
                    for (int64_t c = 0; c < len; c++) dst[j + c] = src[c * x->sc];
            }
            j += len;
        }
        for (int64_t c = cols; c < nr; c++) dst[c] = 0;
        if (++ox == dy->w) {
            ox = 0;
            if (++oy == dy->h) {
                oy = 0;
                n++;
            }
        }
    }
}

/* Bytes per thread: one B panel and the indirection buffer of out_C rows. */
size_t FC_FN(bf_gemm_workspace)(const FC_FN(bf_dims) *s, int64_t rows) {
    const int64_t ptrs = (rows + s->mr - 1) / s->mr * s->mr;
    return fc_align_up(sizeof(FC_T) * (size_t)(s->kc * s->nr)) + sizeof(FC_T *) * (size_t)ptrs;
}

/* C[o][r] (+)= sum over pixels [q0, q1) of dyT[o][q] * P[q][r] for rows o in [o0, o1) of
 * group g and the filter rows of panel p; ct is C of all groups, [out_C][r], and dyt holds
 * the pixels from qbase on, ldt apart.  accumulate: add to C (later pixel chunks). */
void FC_FN(bf_gemm_block)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                          const fc_view *dy, const FC_FN(bf_dims) *s, const FC_T *dyt,
                          int64_t ldt, int64_t qbase, int64_t q0, int64_t q1, int64_t g,
                          int64_t p, int64_t o0, int64_t o1, int accumulate, FC_T *ct,
                          void *ws) {
    const FC_FN(fc_ukernel) *uk = FC_UKERNEL(cx);
    const int64_t rows = o1 - o0, ptrs = (rows + s->mr - 1) / s->mr * s->mr;
    const int64_t r0 = p * s->nr, cols = s->r - r0 < s->nr ? s->r - r0 : s->nr;
    FC_T *panel = ws;
    const FC_T **ind = (const FC_T **)((char *)ws +
                                       fc_align_up(sizeof(FC_T) * (size_t)(s->kc * s->nr)));
    const int64_t first = g * s->og + o0;
    /* rows past o1 repeat the block's first row: the macro-kernel computes them into a
     * local tile and never stores them */
    for (int64_t i = 0; i < ptrs; i++) ind[i] = dyt + (first + (i < rows ? i : 0)) * ldt;
    FC_T *c = ct + first * s->r + r0;
    for (int64_t q = q0; q < q1; q += s->kc) {
        const int64_t kc = q1 - q < s->kc ? q1 - q : s->kc;
        FC_FN(bf_pack_panel)(d, x, dy, s, g, r0, cols, q, kc, panel);
        FC_FN(gemm_macro)(uk, rows, cols, 1, kc, ind, q - qbase, panel, 0, c, s->r,
                          accumulate || q > q0, 0, NULL, FC_ACT_NONE);
    }
}
