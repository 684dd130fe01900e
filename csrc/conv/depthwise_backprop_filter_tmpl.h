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

/* The pixels [0, len) of a row whose every tap is inside the image, for ny filter rows of
 * kw = 3 taps (constants at the call site): the ny x 3 accumulators (a, 3 a row) and the
 * bias sum held in registers along the row instead of read and written per pixel.  x: the
 * first pixel's first tap; xy, xp, xt: the steps to the next filter row, pixel and tap. */
static inline __attribute__((always_inline)) void
BD_FN(bd_row3)(const int ny, BD_VEC *a, BD_VEC *bsum, const FC_T *x, int64_t xy, int64_t xp,
               int64_t xt, const FC_T *g, int64_t gp, int64_t len) {
    BD_VEC acc[3][3], bs = *bsum;
#pragma GCC unroll 3
    for (int y = 0; y < ny; y++)
#pragma GCC unroll 3
        for (int t = 0; t < 3; t++) acc[y][t] = a[y * 3 + t];
    for (int64_t k = 0; k < len; k++, x += xp, g += gp) {
        const BD_VEC gv = *(const BD_VEC *)g;
        bs += gv;
#pragma GCC unroll 3
        for (int y = 0; y < ny; y++)
#pragma GCC unroll 3
            for (int t = 0; t < 3; t++) acc[y][t] += *(const BD_VEC *)(x + y * xy + t * xt) * gv;
    }
#pragma GCC unroll 3
    for (int y = 0; y < ny; y++)
#pragma GCC unroll 3
        for (int t = 0; t < 3; t++) a[y * 3 + t] = acc[y][t];
    *bsum = bs;
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
    const int fast = kw == 3 && ky1 - ky0 <= 3 && lanes == BD_LANES && x->sc == 1 && dy->sc == 1;
    for (int64_t t = 0; t < taps; t++) a[t] = (BD_VEC){0};
    for (int64_t n = 0; n < dy->n; n++)
        for (int64_t oy = 0; oy < dy->h; oy++) {
            int64_t vy0, vy1;
            fc_valid_taps(oy, win->stride_h, win->pad_top, win->dil_h, win->k_h, x->h, &vy0, &vy1);
            if (vy0 < ky0) vy0 = ky0;
            if (vy1 > ky1) vy1 = ky1;
            const FC_T *dyr = (const FC_T *)dy->data + n * dy->sn + oy * dy->sh + c0 * dy->sc;
            const FC_T *xn = (const FC_T *)x->data + n * x->sn + c0 * x->sc;
            /* 3 taps wide, a full vector of contiguous channels: the row's pixels whose taps
             * are all inside, [oxa, oxb), in registers (bd_row3) -- MobileNet's 3x3 layers,
             * whose accumulators in memory cost 2 loads and a store per product */
            int64_t oxa = dy->w, oxb = dy->w;
            if (fast && vy1 > vy0) {
                const int64_t last = (kw - 1) * win->dil_w; /* the last tap's column, from ix0 */
                oxa = (win->pad_left + win->stride_w - 1) / win->stride_w;
                oxb = x->w - 1 - last + win->pad_left < 0
                          ? 0
                          : (x->w - 1 - last + win->pad_left) / win->stride_w + 1;
                if (oxb > dy->w) oxb = dy->w;
                if (oxa > oxb) oxa = oxb;
            }
            for (int64_t ox = 0; ox < dy->w; ox++) {
                if (ox == oxa && oxb > oxa) {
                    const FC_T *xr =
                        xn + (oy * win->stride_h - win->pad_top + vy0 * win->dil_h) * x->sh +
                        (ox * win->stride_w - win->pad_left) * x->sw;
                    BD_VEC *ar = a + (vy0 - ky0) * kw;
                    const int64_t xy = win->dil_h * x->sh, xp = win->stride_w * x->sw;
                    const int64_t xt = win->dil_w * x->sw, len = oxb - oxa;
                    const FC_T *g = dyr + ox * dy->sw;
                    switch (vy1 - vy0) {
                    case 1: BD_FN(bd_row3)(1, ar, &bsum, xr, xy, xp, xt, g, dy->sw, len); break;
                    case 2: BD_FN(bd_row3)(2, ar, &bsum, xr, xy, xp, xt, g, dy->sw, len); break;
                    default: BD_FN(bd_row3)(3, ar, &bsum, xr, xy, xp, xt, g, dy->sw, len); break;
                    }
                    ox = oxb - 1;
                    continue;
                }
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
