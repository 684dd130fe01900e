/* Depthwise convolution on NCHW planes, in place (template: FC_T, FC_SFX, and DP_ISA /
 * DP_VBYTES: each ISA's file compiles the row loops at its own vector width).
 *
 * Input channel ch of image n is one plane; output channels ch * M .. ch * M + M - 1 (M, the
 * channel multiplier) are computed from it alone, row by row, output columns in the vector
 * lanes: interior columns (every tap inside the row) DP_BLOCK vectors at a time, each tap
 * one broadcast weight shared by DP_BLOCK loads and FMAs, then the rest likewise; edge
 * columns (and every column at strides above 1) one at a time over their valid taps.  Rows and columns must be adjacent (x->sw == y->sw == 1).
 *
 * The values are the NHWC kernel's (depthwise_tmpl.h), bit for bit: each starts from the
 * bias, adds its valid taps in (ky, kx) order with the same expression, and goes through
 * the same epilogue. */
#include "fc_epilogue_tmpl.h"

#define DP_FN(name) FC_CAT(FC_FN(name), DP_ISA)
#define DP_VEC FC_CAT(FC_CAT(dpvec, DP_ISA), FC_SFX)
#define DP_LANES (DP_VBYTES / (int)sizeof(FC_T))
/* Vectors of output columns per register block: independent chains of FMAs. */
#define DP_BLOCK 4
#define DP_MAX_TAPS 64

/* a + x * w as the NHWC kernel's vector loops compute it: fused where the ISA has FMAs
 * (the compilers contract those loops), else rounded twice.  Spelled out: GCC vectorizes a
 * scalar `a += x * w` loop as products summed in order, unfused. */
#ifndef DP_MADD
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
#define DP_MADD(a, x, w) fma(x, w, a)
#else
#define DP_MADD(a, x, w) ((a) + (x) * (w))
#endif
#endif

typedef FC_T DP_VEC __attribute__((vector_size(DP_VBYTES), aligned(sizeof(FC_T))));

/* NV vectors of interior output columns: vector i from ox + i * DP_LANES on, the last from
 * `last` (a compile-time NV: acc in registers). */
static inline __attribute__((always_inline)) void
DP_FN(dp_vectors)(const fc_conv_desc *d, const fc_view *x, const FC_T *xr, const FC_T *wc,
                  int64_t wstep, FC_T b, int64_t ky0, int64_t ky1, int64_t ox, int64_t last,
                  FC_T *yr, const int nv) {
    const fc_window *win = &d->win;
    int64_t at[DP_BLOCK];
    for (int i = 0; i < nv; i++) at[i] = i == nv - 1 ? last : ox + i * DP_LANES;
    DP_VEC acc[DP_BLOCK];
    for (int i = 0; i < nv; i++) acc[i] = b - (DP_VEC){0}; /* x - 0 is x, -0 too */
    for (int64_t ky = ky0; ky < ky1; ky++) {
        const FC_T *xk = xr + ky * win->dil_h * x->sh - win->pad_left;
        for (int64_t kx = 0; kx < win->k_w; kx++) {
            const DP_VEC wv = wc[(ky * win->k_w + kx) * wstep] - (DP_VEC){0};
            const FC_T *xv = xk + kx * win->dil_w;
            for (int i = 0; i < nv; i++) acc[i] += *(const DP_VEC *)(xv + at[i]) * wv;
        }
    }
    for (int i = 0; i < nv; i++) *(DP_VEC *)(yr + at[i]) = acc[i];
}

/* Output columns [ox0, ox1) one at a time, over their valid taps. */
static void DP_FN(dp_columns)(const fc_conv_desc *d, const fc_view *x, const FC_T *xr,
                              const FC_T *wc, int64_t wstep, FC_T b, int64_t ky0, int64_t ky1,
                              int64_t ox0, int64_t ox1, FC_T *yr) {
    const fc_window *win = &d->win;
    for (int64_t ox = ox0; ox < ox1; ox++) {
        int64_t kx0, kx1;
        fc_valid_taps(ox, win->stride_w, win->pad_left, win->dil_w, win->k_w, x->w, &kx0, &kx1);
        FC_T a = b;
        for (int64_t ky = ky0; ky < ky1; ky++) {
            const FC_T *xk = xr + ky * win->dil_h * x->sh + ox * win->stride_w - win->pad_left;
            for (int64_t kx = kx0; kx < kx1; kx++)
                a = DP_MADD(a, xk[kx * win->dil_w], wc[(ky * win->k_w + kx) * wstep]);
        }
        yr[ox] = a;
    }
}

void DP_FN(depthwise_planes)(const fc_conv_desc *d, const fc_view *x, const FC_T *w,
                             const FC_T *bias, const fc_view *y, int64_t n, int64_t ch) {
    const fc_window *win = &d->win;
    const int64_t mult = y->c / x->c;
    const int64_t taps = win->k_h * win->k_w;
    const FC_T *xp = (const FC_T *)x->data + n * x->sn + ch * x->sc;
    int64_t lo, hi; /* interior columns: vectors where there is one (stride 1) */
    fc_interior_cols(win, x->w, y->w, &lo, &hi);
    if (win->stride_w != 1 || hi - lo < DP_LANES) lo = hi = 0;
    for (int64_t m = 0; m < mult; m++) {
        const int64_t oc = ch * mult + m;
        /* tap k's weight at wc[k * wstep]: gathered once per plane where the window is at
         * most DP_MAX_TAPS (a tap's weights are y->c apart: a cache line each) */
        FC_T wk[DP_MAX_TAPS];
        const FC_T *wc = w + oc;
        int64_t wstep = y->c;
        if (taps <= DP_MAX_TAPS) {
            for (int64_t k = 0; k < taps; k++) wk[k] = wc[k * y->c];
            wc = wk;
            wstep = 1;
        }
        const FC_T b = bias ? bias[oc] : 0;
        FC_T *yp = (FC_T *)y->data + n * y->sn + oc * y->sc;
        for (int64_t oy = 0; oy < y->h; oy++) {
            int64_t ky0, ky1;
            fc_valid_taps(oy, win->stride_h, win->pad_top, win->dil_h, win->k_h, x->h, &ky0, &ky1);
            const FC_T *xr = xp + (oy * win->stride_h - win->pad_top) * x->sh;
            FC_T *yr = yp + oy * y->sh;
            DP_FN(dp_columns)(d, x, xr, wc, wstep, b, ky0, ky1, 0, lo, yr);
            int64_t ox = lo;
            for (; ox + DP_BLOCK * DP_LANES <= hi; ox += DP_BLOCK * DP_LANES)
                DP_FN(dp_vectors)(d, x, xr, wc, wstep, b, ky0, ky1, ox,
                                  ox + (DP_BLOCK - 1) * DP_LANES, yr, DP_BLOCK);
            /* the rest as 1-4 vectors, the last one ending at hi (its overlap with the one
             * before is computed twice, to the same values) */
            const int64_t last = hi - DP_LANES;
            switch (ox < hi ? (hi - ox + DP_LANES - 1) / DP_LANES : 0) {
            case 1: DP_FN(dp_vectors)(d, x, xr, wc, wstep, b, ky0, ky1, ox, last, yr, 1); break;
            case 2: DP_FN(dp_vectors)(d, x, xr, wc, wstep, b, ky0, ky1, ox, last, yr, 2); break;
            case 3: DP_FN(dp_vectors)(d, x, xr, wc, wstep, b, ky0, ky1, ox, last, yr, 3); break;
            case 4: DP_FN(dp_vectors)(d, x, xr, wc, wstep, b, ky0, ky1, ox, last, yr, 4); break;
            }
            DP_FN(dp_columns)(d, x, xr, wc, wstep, b, ky0, ky1, hi > lo ? hi : 0, y->w, yr);
            /* the NHWC kernel's epilogue: its vector channels (multiplier 1) skip it without
             * an activation, its other channels take it (bias already in) */
            if (d->activation != FC_ACT_NONE || mult > 1)
                FC_FN(epilogue_store)(yr, y->w, NULL, d->activation, yr, 1);
        }
    }
}

#undef DP_FN
#undef DP_VEC
#undef DP_LANES
#undef DP_BLOCK
#undef DP_MAX_TAPS
