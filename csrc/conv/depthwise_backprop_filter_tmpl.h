/* The filter gradient of a depthwise convolution: a reduction per channel, channels in the
 * vector lanes (template: FC_T, FC_SFX, and BD_ISA: each ISA's file compiles the channel
 * loops at its own vector width).
 *
 *   dW[ky][kx][c] = sum over pixels (n, oy, ox) of x[n][iy][ix][c] * dy[n][oy][ox][c]
 *
 * for one channel multiplier slice m (the operator passes dy and dW as views of channel
 * c * M + m).  A call owns channels [c0, c1) and filter rows [ky0, ky1) and sums every pixel
 * in (n, oy, ox) order, skipping taps in the padding: the same order whatever the split of
 * channels and rows among tasks, so results are bit-identical for any thread count.
 * Channels [c0, c1) are one vector (loaded in one piece when they are contiguous in x and
 * dy, gathered otherwise), and the accumulators of every tap (acc: (ky1 - ky0) x k_w
 * vectors, from the thread's workspace) stay in L1. */

#define BD_FN(name) FC_CAT(FC_FN(name), BD_ISA)
#define BD_VEC FC_CAT(FC_CAT(bdvec, BD_ISA), FC_SFX)
#define BD_LANES (BD_VBYTES / (int)sizeof(FC_T))

typedef FC_T BD_VEC __attribute__((vector_size(BD_VBYTES), aligned(sizeof(FC_T))));

int BD_FN(bf_depthwise_lanes)(void) {
    return BD_LANES;
}

/* `lanes` values from p, `stride` apart, as a vector (zero past lanes): one vector load
 * for a full block of contiguous channels, a gather otherwise. */
static inline BD_VEC BD_FN(bd_load)(const FC_T *p, int64_t stride, int64_t lanes) {
    if (stride == 1 && lanes == BD_LANES) return *(const BD_VEC *)p;
    BD_VEC v = (BD_VEC){0};
    for (int64_t i = 0; i < lanes; i++) v[i] = p[i * stride];
    return v;
}

/* dW[ky][kx][c] for channels [c0, c1) (at most BD_LANES) and rows [ky0, ky1): element
 * (t, c) at dw[t * dw_st + c * dw_sc]; with db, also db[c * db_sc] = the sum of dy.
 * acc: BD_LANES x (ky1 - ky0) x k_w values, aligned: each tap's accumulators. */
void BD_FN(bf_depthwise)(const fc_conv_desc *d, const fc_view *x, const fc_view *dy, int64_t c0,
                         int64_t c1, int64_t ky0, int64_t ky1, FC_T *dw, int64_t dw_st,
                         int64_t dw_sc, FC_T *db, int64_t db_sc, FC_T *acc) {
    const fc_window *win = &d->win;
    const int64_t kw = win->k_w, taps = (ky1 - ky0) * kw, lanes = c1 - c0;
    BD_VEC *a = (BD_VEC *)acc, bsum = (BD_VEC){0};
    for (int64_t t = 0; t < taps; t++) a[t] = (BD_VEC){0};
    for (int64_t n = 0; n < dy->n; n++)
        for (int64_t oy = 0; oy < dy->h; oy++) {
            int64_t vy0, vy1;
            fc_valid_taps(oy, win->stride_h, win->pad_top, win->dil_h, win->k_h, x->h, &vy0, &vy1);
            if (vy0 < ky0) vy0 = ky0;
            if (vy1 > ky1) vy1 = ky1;
            const FC_T *dyr = (const FC_T *)dy->data + n * dy->sn + oy * dy->sh + c0 * dy->sc;
            const FC_T *xn = (const FC_T *)x->data + n * x->sn + c0 * x->sc;
            for (int64_t ox = 0; ox < dy->w; ox++) {
                const BD_VEC g = BD_FN(bd_load)(dyr + ox * dy->sw, dy->sc, lanes);
                bsum += g;
                int64_t kx0, kx1;
                fc_valid_taps(ox, win->stride_w, win->pad_left, win->dil_w, kw, x->w, &kx0, &kx1);
                const int64_t ix0 = ox * win->stride_w - win->pad_left;
                for (int64_t ky = vy0; ky < vy1; ky++) {
                    const FC_T *xr = xn +
                                     (oy * win->stride_h - win->pad_top + ky * win->dil_h) * x->sh +
                                     ix0 * x->sw;
                    BD_VEC *ar = a + (ky - ky0) * kw;
                    for (int64_t kx = kx0; kx < kx1; kx++)
                        ar[kx] += BD_FN(bd_load)(xr + kx * win->dil_w * x->sw, x->sc, lanes) * g;
                }
            }
        }
    for (int64_t t = 0; t < taps; t++)
        for (int64_t c = 0; c < lanes; c++) dw[(ky0 * kw + t) * dw_st + (c0 + c) * dw_sc] = a[t][c];
    if (db)
        for (int64_t c = 0; c < lanes; c++) db[(c0 + c) * db_sc] = bsum[c];
}

#undef BD_FN
#undef BD_VEC
#undef BD_LANES
