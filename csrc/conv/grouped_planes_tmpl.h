/* Narrow-group convolution on NCHW planes, in place (template: FC_T, FC_SFX, and GP_ISA /
 * GP_VBYTES: each ISA's file compiles the row loops at its own vector width).
 *
 * ResNeXt's groups of 4 (as many inputs as outputs per group, 2 or 4) in NCHW: a group's
 * og output planes are computed from its og input planes, row by row, output columns in the
 * vector lanes.  Transposed into NHWC and back, resnext-3x3-56-g32 took 2.1x its NHWC time:
 * the two transposes of its 1.6 MB planes cost as much as the kernel.  Interior columns
 * (every tap inside the row, stride 1) one vector at a time: per tap, og input vectors, each
 * multiplied by og broadcast weights into og x og accumulators (AVX-512; half of the outputs
 * at a time where 16 registers cannot hold them); edge columns one at a time over their
 * valid taps, or with AVX-512 as vectors too (masked loads, GP_MASKED).  Rows and columns must be adjacent (x->sw == y->sw == 1).
 *
 * The values are the NHWC grouped kernel's (grouped_tmpl.h), bit for bit: output o of a
 * group sums, for each r, the terms of input j = (o + r) % og over its valid taps in
 * (ky, kx) order from zero with the same expression, then those og sums in r order, then
 * bias and activation as its epilogue does. */
#include "fc_epilogue_tmpl.h"

#define GP_FN(name) FC_CAT(FC_FN(name), GP_ISA)
#define GP_VEC FC_CAT(FC_CAT(gpvec, GP_ISA), FC_SFX)
#define GP_LANES (GP_VBYTES / (int)sizeof(FC_T))
#define GP_PP_LANES (GP_VBYTES / (FC_T_IS_DOUBLE ? 8 : 4)) /* the same, for #if */
/* Accumulators one pass may hold: 16 of AVX-512's 32 registers, 8 of 16 elsewhere. */
#define GP_ACCS (GP_VBYTES == 64 ? 16 : 8)

/* a + x * w as the NHWC kernel's vector loops compute it (see depthwise_planes_tmpl.h). */
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
#define GP_MADD(a, x, w) fma(x, w, a)
#else
#define GP_MADD(a, x, w) ((a) + (x) * (w))
#endif

typedef FC_T GP_VEC __attribute__((vector_size(GP_VBYTES), aligned(sizeof(FC_T))));

/* AVX-512's masked loads read a vector of columns of which some lie outside the row (in the
 * padding) as zeros, without touching those addresses: the edge columns then run as whole
 * vectors too.  One at a time over their valid taps, a vector built from 4 scalar loads and 7
 * shuffles per FMA, the two edge columns of resnext-3x3-56-g32's 56-wide rows took 29% of the
 * kernel's time (0.10 of 0.35 ms, 1 thread). */
#if GP_VBYTES == 64 && defined(__AVX512F__)
#define GP_MASKED 1
#include <immintrin.h>
/* The lanes of columns [c0, c0 + lanes) that lie in [0, x_w), as a load mask. */
static inline __attribute__((always_inline)) unsigned GP_FN(gp_inside)(int64_t c0, int64_t x_w) {
    const int64_t a = c0 < 0 ? -c0 : 0, b = x_w - c0 < GP_LANES ? x_w - c0 : GP_LANES;
    return b <= a ? 0u : ((1u << b) - 1u) & ~((1u << a) - 1u);
}
static inline __attribute__((always_inline)) GP_VEC GP_FN(gp_load)(const FC_T *p, unsigned m) {
#if FC_T_IS_DOUBLE
    return (GP_VEC)_mm512_maskz_loadu_pd((__mmask8)m, p);
#else
    return (GP_VEC)_mm512_maskz_loadu_ps((__mmask16)m, p);
#endif
}
#else
#define GP_MASKED 0
#endif

/* Output columns [ox, ox + lanes) of outputs [o0, o0 + os) of the group (compile-time og and
 * os: the accumulators in registers).  xr[j]: input plane j's row oy * stride - pad_top;
 * wk[(tap * og + j) * og + o]: the weight from input j to output o; yr[o]: output rows. */
static inline __attribute__((always_inline)) void
GP_FN(gp_vector)(const fc_window *win, int64_t sh, const FC_T *const *xr, const FC_T *wk,
                 int64_t ky0, int64_t ky1, int64_t ox, FC_T *const *yr, const int og, const int o0,
                 const int os, const int64_t x_w, const int masked, const int64_t kw) {
    GP_VEC acc[GP_ACCS]; /* acc[o * og + r] */
#if GP_MASKED /* per kx, the lanes inside the row: the padding's read as zeros (a term +-0) */
    unsigned mk[FC_GROUPED_PLANES_TAPS];
    if (masked)
#pragma GCC unroll 3
        for (int64_t kx = 0; kx < kw; kx++)
            mk[kx] = GP_FN(gp_inside)(ox - win->pad_left + kx * win->dil_w, x_w);
#else
    (void)x_w;
#endif
#pragma GCC unroll 16
    for (int i = 0; i < os * og; i++) acc[i] = (GP_VEC){0};
    for (int64_t ky = ky0; ky < ky1; ky++) {
        const int64_t row = ky * win->dil_h * sh + ox - win->pad_left;
#pragma GCC unroll 3
        for (int64_t kx = 0; kx < kw; kx++) {
            const FC_T *wt = wk + (ky * kw + kx) * og * og;
#if GP_MASKED
            const unsigned m = masked ? mk[kx] : 0u;
#endif
#pragma GCC unroll 4
            for (int j = 0; j < og; j++) {
#if GP_MASKED
                const GP_VEC xv = masked ? GP_FN(gp_load)(xr[j] + row + kx * win->dil_w, m)
                                         : *(const GP_VEC *)(xr[j] + row + kx * win->dil_w);
#else
                const GP_VEC xv = *(const GP_VEC *)(xr[j] + row + kx * win->dil_w);
#endif
#pragma GCC unroll 4
                for (int o = o0; o < o0 + os; o++) {
                    const int r = (j - o + og) % og;
                    acc[(o - o0) * og + r] += xv * (wt[j * og + o] - (GP_VEC){0});
                }
            }
        }
    }
#pragma GCC unroll 4
    for (int o = 0; o < os; o++) {
        GP_VEC sum = acc[o * og];
#pragma GCC unroll 4
        for (int r = 1; r < og; r++) sum += acc[o * og + r];
        *(GP_VEC *)(yr[o0 + o] + ox) = sum;
    }
}

/* One vector of columns from ox, every output of the group: interior columns, or (masked, with
 * GP_MASKED) any columns, whose taps outside the row read zeros. */
static inline __attribute__((always_inline)) void
GP_FN(gp_vectors)(const fc_window *win, int64_t sh, const FC_T *const *xr, const FC_T *wk,
                  int64_t ky0, int64_t ky1, int64_t ox, FC_T *const *yr, const int og,
                  const int64_t x_w, const int masked) {
    const int os = og * og <= GP_ACCS ? og : GP_ACCS / og;
    /* 3 wide: the kx loop unrolled (masks in registers, weight offsets constants): the loop's
     * overhead and its masks' trips through the stack took a fifth of resnext-3x3-56-g32's
     * NCHW time */
#pragma GCC unroll 4
    for (int o0 = 0; o0 < og; o0 += os)
        if (win->k_w == 3)
            GP_FN(gp_vector)(win, sh, xr, wk, ky0, ky1, ox, yr, og, o0, os, x_w, masked, 3);
        else GP_FN(gp_vector)(win, sh, xr, wk, ky0, ky1, ox, yr, og, o0, os, x_w, masked, win->k_w);
}

/* Output columns [ox0, ox1) one at a time, over their valid taps, all og x og sums at once
 * (independent chains: one at a time, their FMA latency made the two edge columns of a
 * 56-wide row take 30% of the call).  A compile-time og: s[] in registers, and the index
 * (j - o) % og without a division. */
static inline __attribute__((always_inline)) void
GP_FN(gp_columns)(const fc_window *win, int64_t x_w, int64_t sh, const FC_T *const *xr,
                  const FC_T *wk, int64_t ky0, int64_t ky1, int64_t ox0, int64_t ox1,
                  FC_T *const *yr, const int og) {
    for (int64_t ox = ox0; ox < ox1; ox++) {
        int64_t kx0, kx1;
        fc_valid_taps(ox, win->stride_w, win->pad_left, win->dil_w, win->k_w, x_w, &kx0, &kx1);
        const int64_t at = ox * win->stride_w - win->pad_left;
        FC_T s[16]; /* s[o * og + r] */
#pragma GCC unroll 16
        for (int i = 0; i < og * og; i++) s[i] = 0;
        for (int64_t ky = ky0; ky < ky1; ky++)
            for (int64_t kx = kx0; kx < kx1; kx++) {
                const FC_T *wt = wk + (ky * win->k_w + kx) * og * og;
                const int64_t off = ky * win->dil_h * sh + at + kx * win->dil_w;
#pragma GCC unroll 4
                for (int j = 0; j < og; j++) {
                    const FC_T xv = xr[j][off];
#pragma GCC unroll 4
                    for (int o = 0; o < og; o++) {
                        const int r = (j - o + og) % og;
                        s[o * og + r] = GP_MADD(s[o * og + r], xv, wt[j * og + o]);
                    }
                }
            }
#pragma GCC unroll 4
        for (int o = 0; o < og; o++) {
            FC_T sum = s[o * og];
#pragma GCC unroll 4
            for (int r = 1; r < og; r++) sum += s[o * og + r];
            yr[o][ox] = sum;
        }
    }
}

#if GP_PP_LANES == 16 || GP_PP_LANES == 4
/* Where a vector holds a pixel's og x og sums (AVX-512 float32, groups of 4; groups of 2 in 4
 * lanes): output columns [ox0, ox1) one at a time, lane o * og + r the sum for output o of
 * input j = (o + r) % og, one FMA per tap with the weights spread that way (we[tap]).  The
 * same chains as gp_columns in the lanes: 16 scalar FMAs per tap made the two edge columns of
 * a 56-wide row a fifth of resnext-3x3-56-g32's time. */
#define GP_OG (GP_PP_LANES == 16 ? 4 : 2)
#if GP_PP_LANES == 16
#define GP_SPREAD(v)                                                                               \
    {v[0], v[1], v[2], v[3], v[1], v[2], v[3], v[0], v[2], v[3], v[0], v[1], v[3], v[0], v[1], v[2]}
#else
#define GP_SPREAD(v) {v[0], v[1], v[1], v[0]}
#endif
static void GP_FN(gp_columns_spread)(const fc_window *win, int64_t x_w, int64_t sh,
                                     const FC_T *const *xr, const GP_VEC *we, int64_t ky0,
                                     int64_t ky1, int64_t ox0, int64_t ox1, FC_T *const *yr) {
    for (int64_t ox = ox0; ox < ox1; ox++) {
        int64_t kx0, kx1;
        fc_valid_taps(ox, win->stride_w, win->pad_left, win->dil_w, win->k_w, x_w, &kx0, &kx1);
        const int64_t at = ox * win->stride_w - win->pad_left;
        GP_VEC acc = {0};
        for (int64_t ky = ky0; ky < ky1; ky++)
            for (int64_t kx = kx0; kx < kx1; kx++) {
                const int64_t off = ky * win->dil_h * sh + at + kx * win->dil_w;
                const FC_T v[GP_OG] = {xr[0][off], xr[1][off]
#if GP_OG == 4
                                       ,
                                       xr[2][off], xr[3][off]
#endif
                };
                const GP_VEC xv = GP_SPREAD(v);
                acc += xv * we[ky * win->k_w + kx];
            }
        for (int o = 0; o < GP_OG; o++) {
            FC_T sum = acc[o * GP_OG];
            for (int r = 1; r < GP_OG; r++) sum += acc[o * GP_OG + r];
            yr[o][ox] = sum;
        }
    }
}
#endif

/* The edge columns [ox0, ox1): spread over a vector's lanes where it holds og x og sums,
 * else gp_columns with og turned into a constant. */
static void GP_FN(gp_edges)(const fc_window *win, int64_t x_w, int64_t sh, const FC_T *const *xr,
                            const FC_T *wk, const GP_VEC *we, int64_t ky0, int64_t ky1, int64_t ox0,
                            int64_t ox1, FC_T *const *yr, int og) {
#if GP_PP_LANES == 16 || GP_PP_LANES == 4
    if (og == GP_OG) {
        GP_FN(gp_columns_spread)(win, x_w, sh, xr, we, ky0, ky1, ox0, ox1, yr);
        return;
    }
#endif
    if (og == 2) GP_FN(gp_columns)(win, x_w, sh, xr, wk, ky0, ky1, ox0, ox1, yr, 2);
    else GP_FN(gp_columns)(win, x_w, sh, xr, wk, ky0, ky1, ox0, ox1, yr, 4);
}

/* Group g of image n: its og output planes from its og input planes.  brow: y->w values of
 * workspace (an output's bias along a row, for the epilogue). */
void GP_FN(grouped_planes)(const fc_conv_desc *d, const fc_view *x, const FC_T *w, const FC_T *bias,
                           const fc_view *y, int64_t n, int64_t g, FC_T *brow) {
    const fc_window *win = &d->win;
    const int og = (int)(y->c / d->groups);
    const int64_t taps = win->k_h * win->k_w;
    /* this group's weights, [tap][j][o]: 9 x 4 x 4 for ResNeXt */
    FC_T wk[FC_GROUPED_PLANES_TAPS * 16];
    for (int64_t t = 0; t < taps; t++)
        for (int j = 0; j < og; j++)
            for (int o = 0; o < og; o++)
                wk[(t * og + j) * og + o] = w[(t * og + j) * y->c + g * og + o];
    GP_VEC we[FC_GROUPED_PLANES_TAPS]; /* the same spread for gp_columns_spread */
    if (og * og == GP_LANES)
        for (int64_t t = 0; t < taps; t++)
            for (int l = 0; l < GP_LANES; l++)
                we[t][l] = wk[(t * og + (l / og + l % og) % og) * og + l / og];
    int64_t lo, hi; /* interior columns: vectors where there are some */
    fc_interior_cols(win, x->w, y->w, &lo, &hi);
    /* Whole rows as vectors with masked loads, where a row holds one and the weights are
     * finite: a padding tap then adds x * w = +-0 to a sum that is never -0 (it starts at +0,
     * and a sum is -0 only where both terms are), so the values are those of the valid taps
     * alone, as the NHWC kernel sums them.  An infinite or NaN weight would turn that 0 into
     * a NaN: such weights keep the edge columns' loop. */
    int whole = GP_MASKED && y->w >= GP_LANES;
    for (int64_t i = 0; whole && i < taps * og * og; i++) whole = wk[i] - wk[i] == 0;
    if (hi - lo < GP_LANES) lo = hi = 0;
    const FC_T *xp[4];
    FC_T *yr[4];
    for (int64_t oy = 0; oy < y->h; oy++) {
        int64_t ky0, ky1;
        fc_valid_taps(oy, win->stride_h, win->pad_top, win->dil_h, win->k_h, x->h, &ky0, &ky1);
        for (int j = 0; j < og; j++) {
            xp[j] = (const FC_T *)x->data + n * x->sn + (g * og + j) * x->sc +
                    (oy * win->stride_h - win->pad_top) * x->sh;
            yr[j] = (FC_T *)y->data + n * y->sn + (g * og + j) * y->sc + oy * y->sh;
        }
        if (whole) /* the last vector ends at y->w, as below */
            for (int64_t ox = 0; ox < y->w; ox += GP_LANES) {
                const int64_t at = ox + GP_LANES <= y->w ? ox : y->w - GP_LANES;
                if (at >= lo && at + GP_LANES <= hi) { /* every tap inside the row */
                    if (og == 2)
                        GP_FN(gp_vectors)(win, x->sh, xp, wk, ky0, ky1, at, yr, 2, x->w, 0);
                    else GP_FN(gp_vectors)(win, x->sh, xp, wk, ky0, ky1, at, yr, 4, x->w, 0);
                } else if (og == 2)
                    GP_FN(gp_vectors)(win, x->sh, xp, wk, ky0, ky1, at, yr, 2, x->w, 1);
                else GP_FN(gp_vectors)(win, x->sh, xp, wk, ky0, ky1, at, yr, 4, x->w, 1);
            }
        else {
            GP_FN(gp_edges)(win, x->w, x->sh, xp, wk, we, ky0, ky1, 0, lo, yr, og);
            /* the last vector ends at hi (its overlap with the one before is computed twice, to
         * the same values) */
            for (int64_t ox = lo; ox < hi; ox += GP_LANES) {
                const int64_t at = ox + GP_LANES <= hi ? ox : hi - GP_LANES;
                if (og == 2) GP_FN(gp_vectors)(win, x->sh, xp, wk, ky0, ky1, at, yr, 2, x->w, 0);
                else GP_FN(gp_vectors)(win, x->sh, xp, wk, ky0, ky1, at, yr, 4, x->w, 0);
            }
            GP_FN(gp_edges)(win, x->w, x->sh, xp, wk, we, ky0, ky1, hi > lo ? hi : 0, y->w, yr, og);
        }
        /* the NHWC kernel's epilogue: sum + bias without an activation, else epilogue_store
         * (which adds 0 where there is no bias) */
        for (int o = 0; o < og; o++) {
            if (bias) /* this output's bias along the row */
                for (int64_t i = 0; i < y->w; i++) brow[i] = bias[g * og + o];
            if (d->activation != FC_ACT_NONE)
                FC_FN(epilogue_store)(yr[o], y->w, bias ? brow : NULL, d->activation, yr[o], 1);
            else if (bias)
                for (int64_t i = 0; i < y->w; i++) yr[o][i] += brow[i];
        }
    }
}

#undef GP_FN
#undef GP_VEC
#undef GP_LANES
#undef GP_PP_LANES
#undef GP_ACCS
#undef GP_MADD
#undef GP_OG
#undef GP_SPREAD
#undef GP_MASKED
