/* Pooling gradient and argmax kernels (template: FC_T, FC_SFX, and per ISA file PG_ISA and
 * PG_VBYTES, the vector width in bytes).  GCC vector extensions, as in pool_tmpl.h: one
 * source for zmm, ymm and xmm code.
 *
 * A task owns rows [iy0, iy1) of one image's input gradient dx, for a block of channels:
 * it zeroes them, then visits, in order, every output cell (oy, ox) whose window reaches
 * them and adds that window's share of g[oy, ox] to its own rows only.  No two tasks write
 * the same cell, and every cell of dx sums its contributions in output order (row by row,
 * left to right) whichever task, thread, ISA or layout computes it: the results are
 * bit-identical across all of them.  Only a window's real cells are visited (fc_valid_taps):
 * padding never receives a gradient, and the work does not grow with a window's padding.
 *
 * Max: a window's gradient goes to the cell its forward value came from, which fastconv
 * defines as the first NaN of the window in row-major order where it holds one (the forward
 * max propagates NaN), else its first maximum (TensorFlow's rule for ties).  Vectors read
 * each window twice: once for its maximum and whether it holds a NaN, once to find that
 * cell, lane by lane (a mask of the lanes already served), adding g where the mask first
 * turns on and +0.0 elsewhere (a no-op: dx starts at +0.0 and sums of it are never -0.0;
 * leaving the loop once every lane is served cost a horizontal test a row and was measured
 * 2x slower on 2x2 and 3x3 windows);
 * the elements that do not fill a vector find it in one pass (pg_winners) and add g there.
 * Avg: g divided by the window's real cells goes to each of them.
 * Channels with unit stride are vectors (NHWC); other layouts and the last channels that do
 * not fill a vector take the scalar path, with the same operations in the same order. */
#include <math.h>

#define PG_FN(name) FC_CAT(FC_FN(name), PG_ISA)
#define PG_LANES (PG_VBYTES / (FC_T_IS_DOUBLE ? 8 : 4))
#define PG_VEC FC_CAT(FC_CAT(pgvec, PG_ISA), FC_SFX)
#define PG_MASK FC_CAT(PG_VEC, mask)

/* aligned(sizeof(FC_T)): every load and store may be unaligned */
typedef FC_T PG_VEC __attribute__((vector_size(PG_VBYTES), aligned(sizeof(FC_T))));
#if FC_T_IS_DOUBLE
typedef int64_t PG_MASK __attribute__((vector_size(PG_VBYTES)));
#else
typedef int32_t PG_MASK __attribute__((vector_size(PG_VBYTES)));
#endif

#define PG_AI static inline __attribute__((always_inline))
#define PG_LOAD(p) (*(const PG_VEC *)(p))
#define PG_STORE(p, v) (*(PG_VEC *)(p) = (v))
/* a where the mask is set, else b */
#define PG_SELECT(m, a, b) ((PG_VEC)(((PG_MASK)(a) & (m)) | ((PG_MASK)(b) & ~(m))))

#if FC_T_IS_DOUBLE
#define PG_IDX int64_t
#else
#define PG_IDX int32_t
#endif

/* Loads and stores of the first n lanes only, for the channels that do not fill a vector,
 * where the ISA has masked moves that cannot fault on the other lanes (AVX-512, AVX2:
 * PG_PARTIAL); the other lanes load as 0 and are never stored.  Elsewhere such channels
 * take the element loops below. */
#if PG_VBYTES == 64 && defined(__AVX512F__)
#include <immintrin.h>
#define PG_PARTIAL 1
#define PG_KMASK(n) ((1u << (n)) - 1)
#if FC_T_IS_DOUBLE
#define PG_LOADN(p, n) ((PG_VEC)_mm512_maskz_loadu_pd((__mmask8)PG_KMASK(n), (p)))
#define PG_STOREN(p, v, n) _mm512_mask_storeu_pd((p), (__mmask8)PG_KMASK(n), (__m512d)(v))
#else
#define PG_LOADN(p, n) ((PG_VEC)_mm512_maskz_loadu_ps((__mmask16)PG_KMASK(n), (p)))
#define PG_STOREN(p, v, n) _mm512_mask_storeu_ps((p), (__mmask16)PG_KMASK(n), (__m512)(v))
#endif
#elif PG_VBYTES == 32 && defined(__AVX2__)
#include <immintrin.h>
#define PG_PARTIAL 1
#if FC_T_IS_DOUBLE
#define PG_LOADN(p, n) ((PG_VEC)_mm256_maskload_pd((p), (__m256i)PG_FN(pg_first)(n)))
#define PG_STOREN(p, v, n) _mm256_maskstore_pd((p), (__m256i)PG_FN(pg_first)(n), (__m256d)(v))
#else
#define PG_LOADN(p, n) ((PG_VEC)_mm256_maskload_ps((p), (__m256i)PG_FN(pg_first)(n)))
#define PG_STOREN(p, v, n) _mm256_maskstore_ps((p), (__m256i)PG_FN(pg_first)(n), (__m256)(v))
#endif
#else
#define PG_PARTIAL 0 /* never called with n < PG_LANES */
#define PG_LOADN(p, n) PG_LOAD(p)
#define PG_STOREN(p, v, n) PG_STORE(p, v)
#endif
/* n lanes (a constant PG_LANES for whole vectors, when the branch folds away) */
#define PG_LD(p, n) ((n) == PG_LANES ? PG_LOAD(p) : PG_LOADN(p, n))
#define PG_ST(p, v, n) ((n) == PG_LANES ? (void)PG_STORE(p, v) : (void)PG_STOREN(p, v, n))

/* A mask of the first n lanes. */
PG_AI PG_MASK PG_FN(pg_first)(int64_t n) {
    PG_MASK m;
    for (int i = 0; i < PG_LANES; i++) m[i] = i < n ? -1 : 0;
    return m;
}

/* One output cell's window, clipped to the real cells: its nr x nq taps are input rows
 * r0 + i * dr (i < nr) and columns q0 + l * dq (l < nq); dr, dq are the dilation, which
 * only the argmax kernel takes (the gradients' windows have dr = dq = 1: they index dx by
 * tap and own rows as consecutive). */
typedef struct {
    int64_t r0, nr, q0, nq, dr, dq;
} PG_FN(pg_cell);

PG_AI PG_FN(pg_cell)
    PG_FN(pg_window)(const fc_window *w, const fc_view *x, int64_t oy, int64_t ox) {
    int64_t k0, k1, l0, l1;
    fc_valid_taps(oy, w->stride_h, w->pad_top, w->dil_h, w->k_h, x->h, &k0, &k1);
    fc_valid_taps(ox, w->stride_w, w->pad_left, w->dil_w, w->k_w, x->w, &l0, &l1);
    PG_FN(pg_cell)
    c = {oy * w->stride_h - w->pad_top + k0 * w->dil_h,
         k1 - k0,
         ox * w->stride_w - w->pad_left + l0 * w->dil_w,
         l1 - l0,
         w->dil_h,
         w->dil_w};
    return c;
}

/* The element pointers of one window and one element (channel) offset: x and dx at the
 * window's first real cell, g at the output cell. */
typedef struct {
    const FC_T *x;
    FC_T *dx;
    const FC_T *g;
} PG_FN(pg_ptrs);

/* ---- max gradient of one output cell, for the n <= PG_LANES channels of a vector; rows
 * [own0, own1) of the window (relative to r0) are the task's. ---- */
PG_AI void PG_FN(pg_max_vec)(const fc_view *x, const fc_view *dx, PG_FN(pg_cell) c,
                             PG_FN(pg_ptrs) p, int64_t own0, int64_t own1, int64_t n) {
    PG_VEC m = (PG_VEC){0} - (FC_T)INFINITY;
    PG_MASK nan = (PG_MASK){0};
    for (int64_t r = 0; r < c.nr; r++)
        for (int64_t q = 0; q < c.nq; q++) {
            const PG_VEC v = PG_LD(p.x + r * x->sh + q * x->sw, n);
            m = PG_SELECT(v > m, v, m);
            nan |= v != v;
        }
    const PG_VEC gv = PG_LD(p.g, n), zero = (PG_VEC){0};
    PG_MASK done = (PG_MASK){0};
    for (int64_t r = 0; r < own1; r++) {
        for (int64_t q = 0; q < c.nq; q++) {
            const PG_VEC v = PG_LD(p.x + r * x->sh + q * x->sw, n);
            const PG_MASK eq = ((v == m) & ~nan) | ((v != v) & nan);
            const PG_MASK take = eq & ~done;
            done |= eq;
            if (r >= own0) {
                FC_T *d = p.dx + r * dx->sh + q * dx->sw;
                PG_ST(d, PG_LD(d, n) + PG_SELECT(take, gv, zero), n);
            }
        }
    }
}

/* ---- average gradient of one output cell: g / real cells to each of the task's rows ---- */
PG_AI void PG_FN(pg_avg_vec)(const fc_view *dx, PG_FN(pg_cell) c, PG_FN(pg_ptrs) p, int64_t own0,
                             int64_t own1, int64_t n) {
    const PG_VEC gv = PG_LD(p.g, n) / (FC_T)(c.nr * c.nq);
    for (int64_t r = own0; r < own1; r++)
        for (int64_t q = 0; q < c.nq; q++) {
            FC_T *d = p.dx + r * dx->sh + q * dx->sw;
            PG_ST(d, PG_LD(d, n) + gv, n);
        }
}

/* ---- the elements that do not fill a vector (or have strided channels), at most
 * PG_LANES: the window's cells outside, the elements inside (short loops over contiguous
 * channels, which the compiler vectorizes; a call per element spent its time on loop
 * overhead) ---- */

/* The winners of ne elements' windows (elements xs apart), each in one pass without
 * branches (the cell to win is data: a branch on it mispredicts about once a window): the
 * first cell, then any later one that is greater, or the first NaN, after which nothing
 * wins.  best/br/bq[e]: its value, row and column in the window. */
PG_AI void PG_FN(pg_winners)(const fc_view *x, PG_FN(pg_cell) c, const FC_T *xw, int64_t xs,
                             int64_t ne, FC_T *best, int64_t *br, int64_t *bq) {
    int nan[PG_LANES];
    for (int64_t e = 0; e < ne; e++) {
        best[e] = xw[e * xs];
        br[e] = bq[e] = 0;
        nan[e] = best[e] != best[e];
    }
    for (int64_t r = 0; r < c.nr; r++)
        for (int64_t q = 0; q < c.nq; q++) {
            const FC_T *xc = xw + r * c.dr * x->sh + q * c.dq * x->sw;
            for (int64_t e = 0; e < ne; e++) {
                const FC_T v = xc[e * xs];
                const int take = (!nan[e]) & ((v > best[e]) | (v != v));
                best[e] = take ? v : best[e];
                br[e] = take ? r : br[e];
                bq[e] = take ? q : bq[e];
                nan[e] |= v != v;
            }
        }
}

PG_AI void PG_FN(pg_max_tail)(const fc_view *x, const fc_view *g, const fc_view *dx,
                              PG_FN(pg_cell) c, PG_FN(pg_ptrs) p, int64_t ne, int64_t own0,
                              int64_t own1) {
    FC_T best[PG_LANES];
    int64_t br[PG_LANES], bq[PG_LANES];
    PG_FN(pg_winners)(x, c, p.x, x->sc, ne, best, br, bq);
    for (int64_t e = 0; e < ne; e++)
        if (br[e] >= own0 && br[e] < own1)
            p.dx[br[e] * dx->sh + bq[e] * dx->sw + e * dx->sc] += p.g[e * g->sc];
}

PG_AI void PG_FN(pg_avg_tail)(const fc_view *g, const fc_view *dx, PG_FN(pg_cell) c,
                              PG_FN(pg_ptrs) p, int64_t ne, int64_t own0, int64_t own1) {
    FC_T share[PG_LANES];
    const FC_T cells = (FC_T)(c.nr * c.nq);
    for (int64_t e = 0; e < ne; e++) share[e] = p.g[e * g->sc] / cells;
    for (int64_t r = own0; r < own1; r++)
        for (int64_t q = 0; q < c.nq; q++) {
            FC_T *d = p.dx + r * dx->sh + q * dx->sw;
            for (int64_t e = 0; e < ne; e++) d[e * dx->sc] += share[e];
        }
}

/* The output rows whose windows reach input rows [iy0, iy1): [*oy0, *oy1). */
PG_AI void PG_FN(pg_out_rows)(const fc_window *w, int64_t out_h, int64_t iy0, int64_t iy1,
                              int64_t *oy0, int64_t *oy1) {
    const int64_t s = w->stride_h, lo = iy0 + w->pad_top - w->k_h; /* start > lo */
    int64_t a = lo < 0 ? 0 : lo / s + 1, b = (iy1 + w->pad_top + s - 1) / s;
    *oy0 = a < out_h ? a : out_h;
    *oy1 = b < out_h ? b : out_h;
}

void PG_FN(pool_grad_rows)(const fc_pool_grad_job *j, int64_t n, int64_t c0, int64_t c1,
                           int64_t iy0, int64_t iy1) {
    const fc_view *x = j->x, *g = j->g, *dx = j->dx;
    const fc_window *w = j->win;
    const int64_t E = c1 - c0;
    FC_T *dxn = (FC_T *)dx->data + n * dx->sn + c0 * dx->sc;
    for (int64_t r = iy0; r < iy1; r++)
        for (int64_t q = 0; q < dx->w; q++)
            for (int64_t e = 0; e < E; e++) dxn[r * dx->sh + q * dx->sw + e * dx->sc] = 0;
    const FC_T *xn = (const FC_T *)x->data + n * x->sn + c0 * x->sc;
    const FC_T *gn = (const FC_T *)g->data + n * g->sn + c0 * g->sc;
    const int vec = x->sc == 1 && g->sc == 1 && dx->sc == 1;
    const int64_t ev = vec ? E - E % PG_LANES : 0; /* channels in whole vectors */
    const int max = j->kind == FC_POOL_MAX;
    int64_t oy0, oy1;
    PG_FN(pg_out_rows)(w, g->h, iy0, iy1, &oy0, &oy1);
    for (int64_t oy = oy0; oy < oy1; oy++)
        for (int64_t ox = 0; ox < g->w; ox++) {
            const PG_FN(pg_cell) c = PG_FN(pg_window)(w, x, oy, ox);
            /* the task's rows of this window, relative to its first real row */
            const int64_t own0 = iy0 > c.r0 ? iy0 - c.r0 : 0;
            const int64_t own1 = iy1 - c.r0 < c.nr ? iy1 - c.r0 : c.nr;
            if (c.nq == 0 || own0 >= own1) continue;
            const PG_FN(pg_ptrs)
                p = {xn + c.r0 * x->sh + c.q0 * x->sw, dxn + c.r0 * dx->sh + c.q0 * dx->sw,
                     gn + oy * g->sh + ox * g->sw};
            int64_t e = 0;
            for (; e < ev; e += PG_LANES) {
                const PG_FN(pg_ptrs) pe = {p.x + e, p.dx + e, p.g + e};
                if (max) PG_FN(pg_max_vec)(x, dx, c, pe, own0, own1, PG_LANES);
                else PG_FN(pg_avg_vec)(dx, c, pe, own0, own1, PG_LANES);
            }
            if (PG_PARTIAL && vec && e < E) { /* the last channels: masked lanes */
                const PG_FN(pg_ptrs) pe = {p.x + e, p.dx + e, p.g + e};
                if (max) PG_FN(pg_max_vec)(x, dx, c, pe, own0, own1, E - e);
                else PG_FN(pg_avg_vec)(dx, c, pe, own0, own1, E - e);
                continue;
            }
            for (; e < E; e += PG_LANES) { /* a vector's worth or less at a time */
                const int64_t ne = E - e < PG_LANES ? E - e : PG_LANES;
                const PG_FN(pg_ptrs) pe = {p.x + e * x->sc, p.dx + e * dx->sc, p.g + e * g->sc};
                if (max) PG_FN(pg_max_tail)(x, g, dx, c, pe, ne, own0, own1);
                else PG_FN(pg_avg_tail)(g, dx, c, pe, ne, own0, own1);
            }
        }
}

/* ---- max pooling with its argmax: y and argmax rows [oy0, oy1) ---- */

/* The argmax value of input cell (n, r, q) channel ch. */
PG_AI int64_t PG_FN(pg_index)(const fc_pool_grad_job *j, int64_t n, int64_t r, int64_t q,
                              int64_t ch) {
    const int64_t *s = j->index_strides;
    return n * s[0] + r * s[1] + q * s[2] + ch * s[3];
}

/* One output cell, n <= PG_LANES channels from ch: the winning cell's value and index, in
 * one pass (pg_winners' rule, lane by lane: the first cell, then a greater one or the
 * first NaN). */
PG_AI void PG_FN(pg_argmax_vec)(const fc_pool_grad_job *j, PG_FN(pg_cell) c, const FC_T *xw,
                                int64_t n, int64_t ch, FC_T *yp, int64_t *ap, int64_t lanes) {
    const fc_view *x = j->x;
    PG_VEC best = PG_LD(xw, lanes);
    PG_MASK rv = (PG_MASK){0}, qv = (PG_MASK){0}, nan = best != best;
    for (int64_t r = 0; r < c.nr; r++)
        for (int64_t q = 0; q < c.nq; q++) {
            const PG_VEC v = PG_LD(xw + r * c.dr * x->sh + q * c.dq * x->sw, lanes);
            const PG_MASK take = ~nan & ((v > best) | (v != v));
            best = PG_SELECT(take, v, best);
            rv = (rv & ~take) | (((PG_MASK){0} + (PG_IDX)r) & take);
            qv = (qv & ~take) | (((PG_MASK){0} + (PG_IDX)q) & take);
            nan |= v != v;
        }
    PG_ST(yp, best, lanes);
    for (int64_t i = 0; i < lanes; i++)
        ap[i * j->argmax->sc] =
            PG_FN(pg_index)(j, n, c.r0 + rv[i] * c.dr, c.q0 + qv[i] * c.dq, ch + i);
}

PG_AI void PG_FN(pg_argmax_tail)(const fc_pool_grad_job *j, PG_FN(pg_cell) c, const FC_T *xw,
                                 int64_t n, int64_t ch, int64_t ne, FC_T *yp, int64_t *ap) {
    FC_T best[PG_LANES];
    int64_t br[PG_LANES], bq[PG_LANES];
    PG_FN(pg_winners)(j->x, c, xw, j->x->sc, ne, best, br, bq);
    for (int64_t e = 0; e < ne; e++) {
        yp[e * j->y->sc] = best[e];
        ap[e * j->argmax->sc] =
            PG_FN(pg_index)(j, n, c.r0 + br[e] * c.dr, c.q0 + bq[e] * c.dq, ch + e);
    }
}

void PG_FN(pool_argmax_rows)(const fc_pool_grad_job *j, int64_t n, int64_t c0, int64_t c1,
                             int64_t oy0, int64_t oy1) {
    const fc_view *x = j->x, *y = j->y, *a = j->argmax;
    const int64_t E = c1 - c0;
    const int vec = x->sc == 1 && y->sc == 1;
    const int64_t ev = vec ? E - E % PG_LANES : 0;
    const FC_T *xn = (const FC_T *)x->data + n * x->sn + c0 * x->sc;
    for (int64_t oy = oy0; oy < oy1; oy++)
        for (int64_t ox = 0; ox < y->w; ox++) {
            const PG_FN(pg_cell) c = PG_FN(pg_window)(j->win, x, oy, ox);
            /* no real cell: a dilated window over padding only, which the API refuses */
            if (c.nr == 0 || c.nq == 0) continue;
            const FC_T *xw = xn + c.r0 * x->sh + c.q0 * x->sw;
            FC_T *yp = (FC_T *)y->data + n * y->sn + oy * y->sh + ox * y->sw + c0 * y->sc;
            int64_t *ap = (int64_t *)a->data + n * a->sn + oy * a->sh + ox * a->sw + c0 * a->sc;
            int64_t e = 0;
            for (; e < ev; e += PG_LANES)
                PG_FN(pg_argmax_vec)(j, c, xw + e, n, c0 + e, yp + e, ap + e * a->sc, PG_LANES);
            if (PG_PARTIAL && vec && e < E) { /* the last channels: masked lanes */
                PG_FN(pg_argmax_vec)(j, c, xw + e, n, c0 + e, yp + e, ap + e * a->sc, E - e);
                continue;
            }
            for (; e < E; e += PG_LANES)
                PG_FN(pg_argmax_tail)(j, c, xw + e * x->sc, n, c0 + e,
                                      E - e < PG_LANES ? E - e : PG_LANES, yp + e * y->sc,
                                      ap + e * a->sc);
        }
}

#undef PG_FN
#undef PG_IDX
#undef PG_PARTIAL
#undef PG_KMASK
#undef PG_LOADN
#undef PG_STOREN
#undef PG_LD
#undef PG_ST
#undef PG_LANES
#undef PG_VEC
#undef PG_MASK
