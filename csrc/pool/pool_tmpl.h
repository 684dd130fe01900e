/* Max and average pooling kernel (template: FC_T, FC_SFX, and per ISA file PL_ISA and
 * PL_VBYTES, the vector width in bytes).  Written with GCC vector extensions, as the GEMM
 * micro-kernels are: the same source compiles to zmm, ymm or xmm code.
 *
 * A plane is what one window slides over: an image with its C channels as the elements of
 * each pixel (channels mode, NHWC), or one channel of one image with single-value elements
 * (width mode, NCHW: its rows are contiguous).  Each output row is computed in two passes:
 *   1. vertical: input columns are reduced over the window's rows into a small buffer
 *      [column][element] that stays in L1 (channels mode: a block of output columns at a
 *      time; width mode: a batch of whole rows).  This pass reads the input rows with
 *      contiguous vector loads whatever the layout and stride, each row once per output
 *      row it feeds, the later times from cache;
 *   2. horizontal: each output column reduces k_w neighbouring buffer columns: vectors of
 *      channels (channels mode), or vectors of output columns (width mode: plain loads at
 *      stride 1, pairs of loads de-interleaved by one shuffle at stride 2, scalar code at
 *      larger strides).
 * Padding cells are never read: the buffer's columns outside the input hold the identity
 * (-inf or 0) instead, and the window's rows outside it are not visited; average pooling
 * divides by the operator's per-call divisor tables (the real cells, or the caller's).
 * A window is reduced column by column, each column top to bottom, in both modes and at every vector
 * width: results are bit-identical across layouts, ISAs and thread counts.  Max pooling
 * propagates NaN. */
#include <math.h>

#define PL_FN(name) FC_CAT(FC_FN(name), PL_ISA)
#define PL_LANES (PL_VBYTES / (FC_T_IS_DOUBLE ? 8 : 4)) /* #if can read it */
#define PL_VEC FC_CAT(FC_CAT(plvec, PL_ISA), FC_SFX)
#define PL_MASK FC_CAT(PL_VEC, mask)

/* aligned(sizeof(FC_T)): every load and store may be unaligned */
typedef FC_T PL_VEC __attribute__((vector_size(PL_VBYTES), aligned(sizeof(FC_T))));
#if FC_T_IS_DOUBLE
typedef int64_t PL_MASK __attribute__((vector_size(PL_VBYTES)));
#else
typedef int32_t PL_MASK __attribute__((vector_size(PL_VBYTES)));
#endif

/* The even lanes of a pair of vectors (stride-2 windows).  __builtin_shufflevector is
 * Clang's and GCC's (from GCC 12); older GCCs have only their own __builtin_shuffle. */
#define FC_LANES_N PL_LANES
#include "fc_lanes_tmpl.h"
#define PL_EVEN FC_EVEN_LANES
#if defined(__clang__) || __GNUC__ >= 12
#define PL_EVEN_LANES(a, b) __builtin_shufflevector(a, b, PL_EVEN)
#else
#define PL_EVEN_LANES(a, b) __builtin_shuffle(a, b, (PL_MASK){PL_EVEN})
#endif

#define PL_AI static inline __attribute__((always_inline))
#define PL_LOAD(p) (*(const PL_VEC *)(p))
#define PL_STORE(p, v) (*(PL_VEC *)(p) = (v))

/* max(acc, v) that propagates NaN: v where v is NaN, else v > acc ? v : acc (maxps), which
 * keeps a NaN acc.  With AVX-512 that is one masked vmaxps, its mask (v is not NaN) off the
 * dependency chain through acc; AVX has vmaxps and a blend, SSE2 maxps and a bitwise select;
 * other targets the portable form. */
#if PL_VBYTES == 64 && defined(__AVX512F__)
#include <immintrin.h>
#if FC_T_IS_DOUBLE
#define PL_VMAX_X86(acc, v)                                                                        \
    (PL_VEC) _mm512_mask_max_pd((__m512d)(v),                                                      \
                                _mm512_cmp_pd_mask((__m512d)(v), (__m512d)(v), _CMP_ORD_Q),        \
                                (__m512d)(v), (__m512d)(acc))
#else
#define PL_VMAX_X86(acc, v)                                                                        \
    (PL_VEC)                                                                                       \
        _mm512_mask_max_ps((__m512)(v), _mm512_cmp_ps_mask((__m512)(v), (__m512)(v), _CMP_ORD_Q),  \
                           (__m512)(v), (__m512)(acc))
#endif
#elif PL_VBYTES == 32 && defined(__AVX__)
#include <immintrin.h>
#if FC_T_IS_DOUBLE
#define PL_VMAX_X86(acc, v)                                                                        \
    (PL_VEC) _mm256_blendv_pd(_mm256_max_pd((__m256d)(v), (__m256d)(acc)), (__m256d)(v),           \
                              _mm256_cmp_pd((__m256d)(v), (__m256d)(v), _CMP_UNORD_Q))
#else
#define PL_VMAX_X86(acc, v)                                                                        \
    (PL_VEC) _mm256_blendv_ps(_mm256_max_ps((__m256)(v), (__m256)(acc)), (__m256)(v),              \
                              _mm256_cmp_ps((__m256)(v), (__m256)(v), _CMP_UNORD_Q))
#endif
#elif PL_VBYTES == 16 && defined(__SSE2__)
/* (GCC turns the portable form into scalar code for 64-bit lanes without SSE4.1 blends) */
#include <emmintrin.h>
#if FC_T_IS_DOUBLE
#define PL_VMAX_X86(acc, v)                                                                        \
    (PL_VEC) _mm_or_pd(_mm_and_pd(_mm_cmpunord_pd((__m128d)(v), (__m128d)(v)), (__m128d)(v)),      \
                       _mm_andnot_pd(_mm_cmpunord_pd((__m128d)(v), (__m128d)(v)),                  \
                                     _mm_max_pd((__m128d)(v), (__m128d)(acc))))
#else
#define PL_VMAX_X86(acc, v)                                                                        \
    (PL_VEC) _mm_or_ps(_mm_and_ps(_mm_cmpunord_ps((__m128)(v), (__m128)(v)), (__m128)(v)),         \
                       _mm_andnot_ps(_mm_cmpunord_ps((__m128)(v), (__m128)(v)),                    \
                                     _mm_max_ps((__m128)(v), (__m128)(acc))))
#endif
#endif
PL_AI PL_VEC PL_FN(pl_vmax)(PL_VEC acc, PL_VEC v) {
#ifdef PL_VMAX_X86
    return PL_VMAX_X86(acc, v);
#else
    const PL_MASK gt = v > acc, nan = v != v;
    return (PL_VEC)(((PL_MASK)v & (gt | nan)) | ((PL_MASK)acc & ~(gt | nan)));
#endif
}
PL_AI FC_T PL_FN(pl_smax)(FC_T acc, FC_T v) {
    const FC_T m = v > acc ? v : acc; /* maxss and a cmov: no branch to mispredict */
    return v != v ? v : m;
}

/* A store that bypasses the caches (non-temporal) where the ISA has one; p is aligned to
 * the vector's size. */
PL_AI void PL_FN(pl_store_nt)(FC_T *p, PL_VEC v) {
#if PL_VBYTES == 64 && defined(__AVX512F__) && FC_T_IS_DOUBLE
    _mm512_stream_pd(p, (__m512d)v);
#elif PL_VBYTES == 64 && defined(__AVX512F__)
    _mm512_stream_ps(p, (__m512)v);
#elif PL_VBYTES == 32 && defined(__AVX__) && FC_T_IS_DOUBLE
    _mm256_stream_pd(p, (__m256d)v);
#elif PL_VBYTES == 32 && defined(__AVX__)
    _mm256_stream_ps(p, (__m256)v);
#elif PL_VBYTES == 16 && defined(__SSE2__) && FC_T_IS_DOUBLE
    _mm_stream_pd(p, (__m128d)v);
#elif PL_VBYTES == 16 && defined(__SSE2__)
    _mm_stream_ps(p, (__m128)v);
#else
    PL_STORE(p, v);
#endif
}

/* Orders the non-temporal stores before whatever follows (the parallel layer's hand-over
 * of a finished task is a plain release, which x86 does not order them by). */
PL_AI void PL_FN(pl_store_nt_fence)(void) {
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

/* d[i] = s[i] for i < n: plain stores up to d's first vector-aligned cell and after its
 * last whole aligned vector, non-temporal ones between (whole cache lines, which other
 * tasks' plain stores at the ends of their runs never share).  d is aligned to FC_T. */
PL_AI void PL_FN(pl_copy_nt)(const FC_T *s, FC_T *d, int64_t n) {
    int64_t i = (int64_t)((0 - (uintptr_t)d) % PL_VBYTES) / (int64_t)sizeof(FC_T);
    i = i < n ? i : n;
    for (int64_t t = 0; t < i; t++) d[t] = s[t];
    for (; i + PL_LANES <= n; i += PL_LANES) PL_FN(pl_store_nt)(d + i, PL_LOAD(s + i));
    for (; i < n; i++) d[i] = s[i];
}

/* The reduction of the pooling kind: max, or a sum divided at the end. */
#define PL_VOP(avg, a, b) ((avg) ? (a) + (b) : PL_FN(pl_vmax)(a, b))
#define PL_SOP(avg, a, b) ((avg) ? (a) + (b) : PL_FN(pl_smax)(a, b))

/* Vector loops over [0, len) with len >= PL_LANES end with a vector that overlaps the one
 * before (it recomputes a few values, identically) instead of a scalar tail. */
#define PL_LAST(i, len) ((i) < (len) - PL_LANES ? (i) : (len) - PL_LANES)

/* Prefetches p into L1, or with `far` (used too late to wait in L1) into L2 only. */
#define PL_PREFETCH(p, far) ((far) ? __builtin_prefetch(p, 0, 1) : __builtin_prefetch(p, 0, 3))

/* b[v + i] = reduction over the nky rows (sh apart) of r[v + i], for one vector's i; the
 * input pf cells ahead is prefetched (the operator's choice; 0: none), into L2 if far. */
PL_AI void PL_FN(pl_rows_vec)(const FC_T *r, int64_t sh, int64_t nky, int64_t v, FC_T *b,
                              int64_t pf, int far, const int avg) {
    if (pf) PL_PREFETCH(r + v + pf, far);
    PL_VEC a = PL_LOAD(r + v);
    for (int64_t ky = 1; ky < nky; ky++) {
        if (pf) PL_PREFETCH(r + ky * sh + v + pf, far);
        a = PL_VOP(avg, a, PL_LOAD(r + ky * sh + v));
    }
    PL_STORE(b + v, a);
}

/* b[i] = reduction over the nky rows of r[i], for i < len. */
PL_AI void PL_FN(pl_rows_n)(const FC_T *r, int64_t sh, int64_t nky, int64_t len, FC_T *b,
                            int64_t pf, int far, const int align, const int avg) {
    int64_t i = 0;
    if (align && len >= 8 * PL_LANES) {
        /* Long runs (align: channels mode) load aligned vectors: NumPy's big arrays start
         * 16 bytes into a cache line, and split loads cost 10%.  One vector at 0, then on
         * from the first aligned cell; width mode's short rows lose more than they gain. */
        i = (int64_t)((0 - (uintptr_t)r) % PL_VBYTES) / (int64_t)sizeof(FC_T);
        if (i) PL_FN(pl_rows_vec)(r, sh, nky, 0, b, pf, far, avg);
    }
    for (; len >= PL_LANES && i < len; i += PL_LANES)
        PL_FN(pl_rows_vec)(r, sh, nky, PL_LAST(i, len), b, pf, far, avg);
    for (; i < len; i++) {
        FC_T a = r[i];
        for (int64_t ky = 1; ky < nky; ky++) a = PL_SOP(avg, a, r[ky * sh + i]);
        b[i] = a;
    }
}

/* Windows 2 and 3 rows tall (most pools) get copies of the loop with that trip count,
 * which the compiler unrolls; so do windows 2 and 3 columns wide below. */
PL_AI void PL_FN(pl_rows)(const FC_T *r, int64_t sh, int64_t nky, int64_t len, FC_T *b, int64_t pf,
                          int far, const int align, const int avg) {
    if (nky == 2) PL_FN(pl_rows_n)(r, sh, 2, len, b, pf, far, align, avg);
    else if (nky == 3) PL_FN(pl_rows_n)(r, sh, 3, len, b, pf, far, align, avg);
    else PL_FN(pl_rows_n)(r, sh, nky, len, b, pf, far, align, avg);
}

/* Width mode: out[o] = reduction over kx < k of h[o * s + kx], for o < count, divided by
 * nky * div[o] for an average. */
PL_AI void PL_FN(pl_cols_1_n)(const FC_T *h, int64_t count, int64_t k, int64_t s, FC_T *out,
                              const FC_T *div, FC_T nky, const int avg) {
    int64_t o = 0;
    if (s == 1) {
        for (; count >= PL_LANES && o < count; o += PL_LANES) {
            const int64_t v = PL_LAST(o, count);
            PL_VEC a = PL_LOAD(h + v);
            for (int64_t kx = 1; kx < k; kx++) a = PL_VOP(avg, a, PL_LOAD(h + v + kx));
            PL_STORE(out + v, avg ? a / (PL_LOAD(div + v) * nky) : a);
        }
    } else if (s == 2) {
        for (; count >= PL_LANES && o < count; o += PL_LANES) {
            const int64_t v = PL_LAST(o, count);
            const FC_T *hp = h + 2 * v;
            PL_VEC a = PL_EVEN_LANES(PL_LOAD(hp), PL_LOAD(hp + PL_LANES));
            for (int64_t kx = 1; kx < k; kx++)
                a = PL_VOP(avg, a, PL_EVEN_LANES(PL_LOAD(hp + kx), PL_LOAD(hp + kx + PL_LANES)));
            PL_STORE(out + v, avg ? a / (PL_LOAD(div + v) * nky) : a);
        }
    }
    for (; o < count; o++) {
        FC_T a = h[o * s];
        for (int64_t kx = 1; kx < k; kx++) a = PL_SOP(avg, a, h[o * s + kx]);
        out[o] = avg ? a / (div[o] * nky) : a;
    }
}

PL_AI void PL_FN(pl_cols_1)(const FC_T *h, int64_t count, int64_t k, int64_t s, FC_T *out,
                            const FC_T *div, FC_T nky, const int avg) {
    if (k == 2) PL_FN(pl_cols_1_n)(h, count, 2, s, out, div, nky, avg);
    else if (k == 3) PL_FN(pl_cols_1_n)(h, count, 3, s, out, div, nky, avg);
    else PL_FN(pl_cols_1_n)(h, count, k, s, out, div, nky, avg);
}

/* Channels mode: output column o's E elements (stride ye) = reduction over kx < k of the
 * buffer columns o * s + kx (E elements each), for o < count. */
PL_AI void PL_FN(pl_cols_e_n)(const FC_T *h, int64_t E, int64_t count, int64_t k, int64_t s,
                              FC_T *out, int64_t yw, int64_t ye, const FC_T *div, FC_T nky,
                              const int avg) {
    const int64_t ev = ye == 1 && E >= PL_LANES ? E : 0; /* elements in vectors */
    for (int64_t o = 0; o < count; o++) {
        const FC_T *hp = h + o * s * E;
        FC_T *q = out + o * yw;
        const FC_T d = div[o] * nky;
        int64_t e = 0;
        for (; e < ev; e += PL_LANES) {
            const int64_t v = PL_LAST(e, ev);
            PL_VEC a = PL_LOAD(hp + v);
            for (int64_t kx = 1; kx < k; kx++) a = PL_VOP(avg, a, PL_LOAD(hp + kx * E + v));
            PL_STORE(q + v, avg ? a / d : a);
        }
        for (; e < E; e++) {
            FC_T a = hp[e];
            for (int64_t kx = 1; kx < k; kx++) a = PL_SOP(avg, a, hp[kx * E + e]);
            q[e * ye] = avg ? a / d : a;
        }
    }
}

PL_AI void PL_FN(pl_cols_e)(const FC_T *h, int64_t E, int64_t count, int64_t k, int64_t s,
                            FC_T *out, int64_t yw, int64_t ye, const FC_T *div, FC_T nky,
                            const int avg) {
    if (k == 2) PL_FN(pl_cols_e_n)(h, E, count, 2, s, out, yw, ye, div, nky, avg);
    else if (k == 3) PL_FN(pl_cols_e_n)(h, E, count, 3, s, out, yw, ye, div, nky, avg);
    else PL_FN(pl_cols_e_n)(h, E, count, k, s, out, yw, ye, div, nky, avg);
}

/* The vertical pass for one output row: buf[(i - i0) * E + e] = input column i's element e
 * reduced over the nky rows from r on, for the input columns [i0, i1) of a block of output
 * columns; columns outside the input (padding) get the identity, and so do `slack` cells
 * past i1, which vector loads of the last windows may read (and drop). */
PL_AI void PL_FN(pl_vertical)(const fc_pool_job *j, const FC_T *r, int64_t nky, int64_t i0,
                              int64_t i1, int64_t E, int64_t se, FC_T *buf, int64_t slack,
                              const int avg) {
    const int64_t W = j->x->w, sw = j->x->sw, sh = j->x->sh;
    const int64_t a = i0 < 0 ? 0 : i0, b = i1 > W ? W : i1; /* the real columns */
    const PL_VEC idv = (PL_VEC){0} + (avg ? (FC_T)0 : -(FC_T)INFINITY);
    /* identity vectors first: the left one may overlap the real columns, written after it */
    for (int64_t i = 0; i < (a - i0) * E; i += PL_LANES) PL_STORE(buf + i, idv);
    for (int64_t i = (b - i0) * E; i < (i1 - i0) * E + slack; i += PL_LANES) PL_STORE(buf + i, idv);
    FC_T *h = buf + (a - i0) * E;
    if (se == 1 && (sw == E || b - a == 1)) { /* the columns are one contiguous run */
        PL_FN(pl_rows)(r + a * sw, sh, nky, (b - a) * E, h, j->prefetch, j->prefetch_l2, 1, avg);
    } else if (se == 1) {
        for (int64_t i = a; i < b; i++)
            PL_FN(pl_rows)(r + i * sw, sh, nky, E, h + (i - a) * E, j->prefetch, j->prefetch_l2, 1,
                           avg);
    } else { /* a view with strided channels: scalar */
        for (int64_t i = a; i < b; i++)
            for (int64_t e = 0; e < E; e++) {
                const FC_T *re = r + i * sw + e * se;
                FC_T v = re[0];
                for (int64_t ky = 1; ky < nky; ky++) v = PL_SOP(avg, v, re[ky * sh]);
                h[(i - a) * E + e] = v;
            }
    }
}

/* The window's real rows for output row oy: the first one's address, and how many. */
PL_AI const FC_T *PL_FN(pl_window_rows)(const fc_pool_job *j, const FC_T *xp, int64_t oy,
                                        int64_t *nky) {
    const fc_window *w = j->win;
    int64_t ky0, ky1;
    fc_valid_taps(oy, w->stride_h, w->pad_top, 1, w->k_h, j->x->h, &ky0, &ky1);
    *nky = ky1 - ky0;
    return xp + (oy * w->stride_h - w->pad_top + ky0) * j->x->sh;
}

/* Channels mode: rows [oy0, oy1) of image n, block_cols output columns at a time. */
PL_AI void PL_FN(pl_channels)(const fc_pool_job *j, int64_t n, int64_t oy0, int64_t oy1, FC_T *buf,
                              const int avg) {
    const fc_window *w = j->win;
    const fc_view *x = j->x, *y = j->y;
    const FC_T *xp = (const FC_T *)x->data + n * x->sn;
    const int64_t s = w->stride_w, k = w->k_w, E = x->c;
    for (int64_t oy = oy0; oy < oy1; oy++) {
        int64_t nky;
        const FC_T *r = PL_FN(pl_window_rows)(j, xp, oy, &nky);
        FC_T *yrow = (FC_T *)y->data + n * y->sn + oy * y->sh;
        for (int64_t o0 = 0; o0 < y->w; o0 += j->block_cols) {
            const int64_t o1 = o0 + j->block_cols < y->w ? o0 + j->block_cols : y->w;
            const int64_t i0 = o0 * s - w->pad_left;
            PL_FN(pl_vertical)(j, r, nky, i0, (o1 - 1) * s - w->pad_left + k, E, x->sc, buf,
                               j->slack, avg);
            const FC_T *col_cells = (const FC_T *)j->col_cells + o0;
            const FC_T row_cells = ((const FC_T *)j->row_cells)[oy];
            if (j->nt) { /* output pixels contiguous: E cells each */
                FC_T *stage = buf + ((j->block_cols - 1) * s + k) * E + 2 * j->slack;
                PL_FN(pl_cols_e)(buf, E, o1 - o0, k, s, stage, E, 1, col_cells, row_cells, avg);
                PL_FN(pl_copy_nt)(stage, yrow + o0 * E, (o1 - o0) * E);
            } else {
                PL_FN(pl_cols_e)(buf, E, o1 - o0, k, s, yrow + o0 * y->sw, y->sw, y->sc, col_cells,
                                 row_cells, avg);
            }
        }
    }
    if (j->nt) PL_FN(pl_store_nt_fence)();
}

/* Width mode: rows [oy0, oy1) of one channel plane, batch_rows at a time: the vertical
 * pass for a whole batch, then the horizontal one.  Reading a row's buffer right after
 * writing it would load vectors that straddle stores still in flight (stride 2 and the
 * k_w offsets are not vector-aligned), which stalls on store forwarding.  A batch's rows
 * sit row_len (P) cells apart: `pitch` (V) windows, V * stride_w cells, where flat, else
 * the row's span (its windows and margins).  With j->flat, the horizontal pass
 * runs once over the whole batch as if it were one row (short rows fill vectors too); a
 * row's windows past its Wo real ones (when V > Wo) read its margin and are dropped,
 * through a staging area unless V == Wo and the plane's output rows are contiguous. */
PL_AI void PL_FN(pl_width)(const fc_pool_job *j, int64_t plane, int64_t oy0, int64_t oy1, FC_T *buf,
                           const int avg) {
    const fc_window *w = j->win;
    const fc_view *x = j->x, *y = j->y;
    const int64_t n = plane / x->c, c = plane % x->c;
    const FC_T *xp = (const FC_T *)x->data + n * x->sn + c * x->sc;
    FC_T *yp = (FC_T *)y->data + n * y->sn + c * y->sc;
    const int64_t s = w->stride_w, k = w->k_w, wo = y->w, V = j->pitch, R = j->batch_rows;
    const int direct = !j->flat || (V == wo && y->sh == wo);
    const int64_t W = x->w, pl = w->pad_left, P = j->row_len;
    FC_T *stage = buf + R * P + 2 * j->slack; /* flat outputs; per row: each nky */
    /* a row's cells in the buffer: pl identity, the W input columns, identity to P */
    const PL_VEC idv = (PL_VEC){0} + (avg ? (FC_T)0 : -(FC_T)INFINITY);
    for (int64_t b0 = oy0; b0 < oy1; b0 += R) {
        const int64_t rows = oy1 - b0 < R ? oy1 - b0 : R;
        for (int64_t i = 0; i < rows; i++) { /* vector stores run on into the next row */
            int64_t nky;
            const FC_T *r = PL_FN(pl_window_rows)(j, xp, b0 + i, &nky);
            FC_T *bi = buf + i * P;
            for (int64_t m = 0; m < pl; m += PL_LANES) PL_STORE(bi + m, idv);
            PL_FN(pl_rows)(r, x->sh, nky, W, bi + pl, j->prefetch, 0, 0, avg);
            for (int64_t m = pl + W; m < P; m += PL_LANES) PL_STORE(bi + m, idv);
            if (!j->flat) stage[i] = ((const FC_T *)j->row_cells)[b0 + i];
        }
        for (int64_t m = rows * P; m < rows * P + j->slack; m += PL_LANES) PL_STORE(buf + m, idv);
        if (!j->flat) {
            for (int64_t i = 0; i < rows; i++)
                PL_FN(pl_cols_1)(buf + i * P, wo, k, s, yp + (b0 + i) * y->sh, j->col_cells,
                                 stage[i], avg);
            continue;
        }
        /* the per-call table holds every window's divisor, V per row */
        PL_FN(pl_cols_1)(buf, rows * V, k, s, direct ? yp + b0 * y->sh : stage,
                         (const FC_T *)j->divs + b0 * V, 1, avg);
        if (!direct)
            for (int64_t i = 0; i < rows; i++)
                for (int64_t o = 0; o < wo; o++) yp[(b0 + i) * y->sh + o] = stage[i * V + o];
    }
}

void PL_FN(pool_rows)(const fc_pool_job *j, int64_t plane, int64_t oy0, int64_t oy1, FC_T *buf) {
    const int avg = j->kind == FC_POOL_AVG;
    if (j->width && avg) PL_FN(pl_width)(j, plane, oy0, oy1, buf, 1);
    else if (j->width) PL_FN(pl_width)(j, plane, oy0, oy1, buf, 0);
    else if (avg) PL_FN(pl_channels)(j, plane, oy0, oy1, buf, 1);
    else PL_FN(pl_channels)(j, plane, oy0, oy1, buf, 0);
}

#undef PL_LANES
#undef PL_VEC
#undef PL_MASK
#undef PL_EVEN
#undef PL_LAST
#undef PL_VMAX_X86
