/* Winograd F(2x2, 3x3) on NCHW planes, read and written in place (template: FC_T, FC_SFX,
 * and WG_ISA / WG_VBYTES: each ISA's file compiles the transforms at its own vector width).
 *
 * winograd_tmpl.h's convolution for an input and an output whose rows are contiguous and
 * whose channels are planes: there the transforms run along the channels, contiguous in
 * NHWC only, and an NCHW call paid two layout copies around them (vgg-3x3-224: 35% of its
 * NCHW time, b8-3x3-56 40%).  Here the 16 GEMMs run transposed,
 *
 *     M_xi^T[O x tiles] = U_xi^T[O x C] * V_xi^T[C x tiles],
 *
 * so that the transforms run along the tiles instead: the tiles of a row of 2x2 tiles read
 * adjacent column pairs of 4 plane rows and write adjacent column pairs of 2 output plane
 * rows.  A vector of L tiles (L: the ISA's lanes) loads 2L + 2 columns of each input row and
 * splits them into even and odd columns (a patch's columns 0 and 1, and from 2 columns on,
 * 2 and 3); the output's two columns per tile are interleaved back the same way.  V^T is
 * written straight into the micro-kernel's B panels ([C][NR tiles]), U^T's rows are its A
 * rows (winograd_pack_rows), M^T comes out as rows of tiles per output channel.
 *
 * The same bits as the NHWC path: each output value's products U[c][o] * V[t][c] are added
 * by the same micro-kernel in the same channel order (its a * b + acc is symmetric in a and
 * b, fused or not), and the transforms, the non-finite check and the epilogue do the same
 * operations per value in the same order.
 *
 * Tiles run WP_TILES at a time (a multiple of every NR, so that only the image's last
 * block has a partial panel).  A vector of tiles that is not one run of whole interior
 * patches -- it crosses a row of tiles, or a patch reaches into the padding or past the
 * block's last tile -- reads the block's input rows copied with zeros for the padding (the
 * padded rows, once per channel), one load per run of tiles it holds, each run's lanes
 * blended in; its outputs go out through a staging row, run by run, pixel by pixel where a
 * row or a column is past the output's edge.  With 56-pixel rows (28 tiles) 5 vectors of 7
 * are of that kind, and at 224 pixels 2 of 7. */
#include <string.h>
/* epilogue_store: fc_epilogue_tmpl.h, included by winograd_tmpl.h, which each ISA's file
 * instantiates first (the template defines its function once per dtype and file). */

#define WP_FN(name) FC_CAT(FC_FN(name), WG_ISA)
#define WP_VEC FC_CAT(FC_CAT(wpvec, WG_ISA), FC_SFX)
#define WP_MASK FC_CAT(FC_CAT(wpmask, WG_ISA), FC_SFX)
#define WP_SEG FC_CAT(FC_CAT(wpseg, WG_ISA), FC_SFX)
#define WP_PLAN FC_CAT(FC_CAT(wpplan, WG_ISA), FC_SFX)
#define WP_L (WG_VBYTES / (int)sizeof(FC_T))
#define WP_TILES FC_WINOGRAD_PLANES_TILES

typedef FC_T WP_VEC __attribute__((vector_size(WG_VBYTES), aligned(sizeof(FC_T))));
#if FC_T_IS_DOUBLE
#define WP_INT int64_t
typedef int64_t WP_MASK __attribute__((vector_size(WG_VBYTES)));
#else
#define WP_INT int32_t
typedef int32_t WP_MASK __attribute__((vector_size(WG_VBYTES)));
#endif

/* Even and odd lanes of a:b (2L values: L even-indexed, L odd-indexed); and back, the low
 * and high halves of the interleave a0 b0 a1 b1 ... (lane indices must be literals). */
#define FC_LANES_N (WG_VBYTES / (FC_T_IS_DOUBLE ? 8 : 4))
#include "fc_lanes_tmpl.h"
#define WP_EVEN(a, b) __builtin_shufflevector(a, b, FC_EVEN_LANES)
#define WP_ODD(a, b) __builtin_shufflevector(a, b, FC_ODD_LANES)
#define WP_ZIPLO(a, b) __builtin_shufflevector(a, b, FC_ZIPLO_LANES)
#define WP_ZIPHI(a, b) __builtin_shufflevector(a, b, FC_ZIPHI_LANES)

/* v where keep is all-ones, else `other` */
#define WP_SELECT(keep, v, other) ((WP_VEC)(((WP_MASK)(v) & (keep)) | ((WP_MASK)(other) & ~(keep))))

/* A run of a block's tiles in one row of tiles: lanes [la, la + run) of the block are tiles
 * [tx, tx + run) of tile row ty of image n.  Segments are runs cut at vectors; `aux` is a
 * segment's run, and a run's first row in the padded rows (its patch row i: aux + i). */
typedef struct {
    int64_t la, run, n, ty, tx, aux;
} WP_SEG;

/* A block's tiles as runs and segments; per vector g, its segments [first[g], first[g + 1])
 * and whether its patches are read in place (one segment of L tiles inside the input).  The
 * others read the padded rows: the runs' input rows (prow_n, prow_iy; two shared between
 * adjacent rows of tiles), copied per channel with zeros for the padding, input columns
 * [c0, c1) (those the other vectors' tiles read) at ix + pad_left + 2L. */
typedef struct {
    WP_SEG seg[WP_TILES + WP_TILES / WP_L], run[WP_TILES];
    int64_t first[WP_TILES / WP_L + 1], runs, prows, c0, c1;
    int64_t prow_n[4 * WP_TILES], prow_iy[4 * WP_TILES];
    unsigned char in_place[WP_TILES / WP_L];
} WP_PLAN;

/* A padded row: the output's 2 tw + 2 input columns, and 2L more on either side (the lanes
 * of a vector outside a run: loaded, then discarded by the blend). */
static inline int64_t WP_FN(wp_prow_w)(const fc_view *y) {
    return 2 * ((y->w + 1) / 2) + 2 + 4 * WP_L;
}

/* Padded rows per block at most: 4 for each row of tiles its tiles touch. */
static inline int64_t WP_FN(wp_prows_max)(const fc_view *y) {
    const int64_t tw = (y->w + 1) / 2, runs = (WP_TILES - 1) / tw + 2;
    return 4 * (runs < WP_TILES ? runs : WP_TILES);
}

/* Distance between two of the 16 V^T (ch = C) or M^T (ch = O) matrices: one cache line
 * more than their size, else (16 KiB at 64 channels) the 16 rows a vector of tiles reads or
 * writes all map to one L1 set, more than its ways. */
static inline int64_t FC_FN(wp_stride)(int64_t ch) {
    return WP_TILES * ch + 64 / (int64_t)sizeof(FC_T);
}

/* The workspace of one thread, each array 64-byte aligned (see wg_layout in
 * winograd_tmpl.h): V^T, M^T, a zero row, the indirection buffer, the padded rows, two
 * staging output rows of 2L and a bias row of 2L.  Offsets in bytes. */
typedef struct {
    size_t v, m, zero, ind, prows, out, bias, end;
} FC_FN(wp_layout);

static FC_FN(wp_layout) WP_FN(wp_layout_of)(const fc_cntx *cx, const fc_view *x, const fc_view *y) {
    const int64_t mr = FC_UKERNEL(cx)->mr, rows = (y->c + mr - 1) / mr * mr;
    FC_FN(wp_layout) l;
    l.v = 0;
    l.m = fc_align_up(l.v + sizeof(FC_T) * (size_t)(16 * FC_FN(wp_stride)(x->c)));
    l.zero = fc_align_up(l.m + sizeof(FC_T) * (size_t)(16 * FC_FN(wp_stride)(y->c)));
    l.ind = fc_align_up(l.zero + sizeof(FC_T) * (size_t)x->c);
    l.prows = fc_align_up(l.ind + sizeof(FC_T *) * (size_t)rows);
    l.out = fc_align_up(l.prows +
                        sizeof(FC_T) * (size_t)(WP_FN(wp_prows_max)(y) * WP_FN(wp_prow_w)(y)));
    l.bias = fc_align_up(l.out + sizeof(FC_T) * (size_t)(2 * 2 * WP_L));
    l.end = l.bias + sizeof(FC_T) * (size_t)(2 * WP_L);
    return l;
}

size_t WP_FN(winograd_planes_workspace)(const fc_cntx *cx, const fc_view *x, const fc_view *y) {
    return WP_FN(wp_layout_of)(cx, x, y).end;
}

/* The block's tiles [t0, t0 + nt) as runs and segments, which vectors read in place, and
 * the padded rows and columns the others read. */
static void WP_FN(wp_plan)(const fc_conv_desc *d, const fc_view *x, const fc_view *y, int64_t t0,
                           int64_t nt, WP_PLAN *p) {
    const int64_t tw = (y->w + 1) / 2, per_image = (y->h + 1) / 2 * tw;
    const int64_t pt = d->win.pad_top, pl = d->win.pad_left;
    int64_t k = 0;
    p->runs = p->prows = 0;
    for (int64_t g = 0; g * WP_L < nt; g++) {
        p->first[g] = k;
        const int64_t end = (g + 1) * WP_L < nt ? (g + 1) * WP_L : nt;
        for (int64_t l = g * WP_L; l < end; k++) {
            const int64_t t = t0 + l, q = t % per_image;
            WP_SEG *s = &p->seg[k];
            s->la = l;
            s->n = t / per_image;
            s->ty = q / tw;
            s->tx = q % tw;
            s->run = end - l < tw - s->tx ? end - l : tw - s->tx;
            if (p->runs && p->run[p->runs - 1].n == s->n && p->run[p->runs - 1].ty == s->ty) {
                p->run[p->runs - 1].run += s->run; /* the same row of tiles, past a vector */
            } else {
                const WP_SEG *prev = p->runs ? &p->run[p->runs - 1] : NULL;
                WP_SEG *r = &p->run[p->runs++];
                *r = *s;
                /* the row of tiles below the last: its first two input rows are the last's */
                const int below = prev && prev->n == s->n && prev->ty + 1 == s->ty;
                r->aux = below ? prev->aux + 2 : p->prows;
                for (int64_t i = below ? 2 : 0; i < 4; i++, p->prows++) {
                    p->prow_n[p->prows] = s->n;
                    p->prow_iy[p->prows] = 2 * s->ty - pt + i;
                }
            }
            s->aux = p->runs - 1;
            l += s->run;
        }
    }
    const int64_t groups = (nt + WP_L - 1) / WP_L;
    p->first[groups] = k;
    p->c0 = x->w;
    p->c1 = 0;
    for (int64_t g = 0; g < groups; g++) {
        const WP_SEG *s = &p->seg[p->first[g]];
        const int64_t iy = 2 * s->ty - pt, ix = 2 * s->tx - pl;
        p->in_place[g] = p->first[g + 1] - p->first[g] == 1 && s->run == WP_L && iy >= 0 &&
                         iy + 4 <= x->h && ix >= 0 && ix + 2 * WP_L + 2 <= x->w;
        for (int64_t j = p->first[g]; !p->in_place[g] && j < p->first[g + 1]; j++) {
            const int64_t a = 2 * p->seg[j].tx - pl, b = a + 2 * p->seg[j].run + 2;
            p->c0 = a < p->c0 ? a : p->c0;
            p->c1 = b > p->c1 ? b : p->c1;
        }
    }
}

/* dst[k] = row[ix + k] for k in [0, count), zero where ix + k is outside [0, w); the copy
 * in whole vectors, the last one overlapping (a library memcpy per short row took 6% of
 * r50-3x3-56's call). */
static inline void WP_FN(wp_clip_copy)(const FC_T *row, int64_t ix, int64_t w, int64_t count,
                                       FC_T *dst) {
    const int64_t k0 = ix < 0 ? (-ix < count ? -ix : count) : 0;
    const int64_t k1 = w - ix < count ? (w - ix > k0 ? w - ix : k0) : count;
    const FC_T *src = row + ix;
    for (int64_t k = 0; k < k0; k++) dst[k] = 0;
    if (k1 - k0 >= WP_L) {
        for (int64_t k = k0; k + WP_L <= k1; k += WP_L)
            *(WP_VEC *)(dst + k) = *(const WP_VEC *)(src + k);
        *(WP_VEC *)(dst + k1 - WP_L) = *(const WP_VEC *)(src + k1 - WP_L);
    } else {
        for (int64_t k = k0; k < k1; k++) dst[k] = src[k];
    }
    for (int64_t k = k1; k < count; k++) dst[k] = 0;
}

/* Output rows are written ahead of their use: the lines of the plane WP_AHEAD channels on
 * are prefetched for writing.  A block writes 2 rows of every output plane, O x 2 streams of
 * a few lines, too many for the hardware prefetcher, and each store then waited for its line.
 * NCHW / NHWC time without, with it: vgg-3x3-224 1.21x, 1.14x; b8-3x3-56 1.30x, 1.16x.
 * Prefetching the input rows likewise made it slower: 1.14x -> 1.17x, 1.16x -> 1.20x (1
 * thread, thread CPU time, min of 9, Xeon AVX-512 on a loaded host). */
#define WP_AHEAD 4

/* Prefetches the cache lines of row iy, columns [ix, ix + cols) of a plane for writing,
 * clipped to it. */
static inline void FC_FN(wp_prefetch)(FC_T *plane, int64_t sh, int64_t h, int64_t w, int64_t iy,
                                      int64_t ix, int64_t cols) {
    const int64_t line = 64 / (int64_t)sizeof(FC_T);
    const int64_t c0 = ix > 0 ? ix : 0, c1 = ix + cols < w ? ix + cols : w;
    if (iy < 0 || iy >= h || c0 >= c1) return;
    FC_T *row = plane + iy * sh;
    for (int64_t c = c0; c < c1; c += line) __builtin_prefetch(row + c, 1, 3);
    __builtin_prefetch(row + c1 - 1, 1, 3);
}

/* The 4 rows x 4 vectors of a vector of tiles' patches: row i's at r + i * sh (each tile's
 * columns 0-1) and 2 columns on (2-3). */
static inline __attribute__((always_inline)) void WP_FN(wp_in_load)(const FC_T *r, int64_t sh,
                                                                    WP_VEC raw[4][4]) {
    for (int i = 0; i < 4; i++) {
        const FC_T *a = r + i * sh;
        raw[i][0] = *(const WP_VEC *)a;
        raw[i][1] = *(const WP_VEC *)(a + WP_L);
        raw[i][2] = *(const WP_VEC *)(a + 2);
        raw[i][3] = *(const WP_VEC *)(a + 2 + WP_L);
    }
}

/* V = B^T d B for a vector of tiles from its raw rows; V_xi^T's lanes are stored vs apart. */
static inline __attribute__((always_inline)) void WP_FN(wp_in_transform)(WP_VEC raw[4][4], FC_T *v,
                                                                         int64_t vs) {
    WP_VEC d[4][4], b[4][4];
    for (int i = 0; i < 4; i++) { /* even and odd columns: the patches' columns 0 1, 2 3 */
        d[i][0] = WP_EVEN(raw[i][0], raw[i][1]);
        d[i][1] = WP_ODD(raw[i][0], raw[i][1]);
        d[i][2] = WP_EVEN(raw[i][2], raw[i][3]);
        d[i][3] = WP_ODD(raw[i][2], raw[i][3]);
    }
    for (int j = 0; j < 4; j++) { /* B^T d, column by column (winograd_tmpl.h's order) */
        b[0][j] = d[0][j] - d[2][j];
        b[1][j] = d[1][j] + d[2][j];
        b[2][j] = d[2][j] - d[1][j];
        b[3][j] = d[1][j] - d[3][j];
    }
    for (int i = 0; i < 4; i++) { /* (B^T d) B, row by row */
        *(WP_VEC *)(v + (i * 4 + 0) * vs) = b[i][0] - b[i][2];
        *(WP_VEC *)(v + (i * 4 + 1) * vs) = b[i][1] + b[i][2];
        *(WP_VEC *)(v + (i * 4 + 2) * vs) = b[i][2] - b[i][1];
        *(WP_VEC *)(v + (i * 4 + 3) * vs) = b[i][1] - b[i][3];
    }
}

/* V_xi^T for the block: [xi][panel][C][NR] (vs apart), lanes past nt zero up to the last
 * panel's end (the micro-kernel computes them; zeros keep them finite and cheap).  A vector
 * read in place loads its 4 rows from the plane; another loads each of its segments from
 * the padded rows and keeps that segment's lanes (raw vector halves: lanes 0 .. L/2 - 1
 * and L/2 .. L - 1, two columns each). */
static void WP_FN(wp_input)(const fc_conv_desc *d, const fc_view *x, const fc_view *y, int64_t nt,
                            int64_t nr, const WP_PLAN *p, FC_T *vt, int64_t vs, FC_T *prow) {
    const int64_t c_n = x->c, lanes = (nt + nr - 1) / nr * nr, pw = WP_FN(wp_prow_w)(y);
    const int64_t pt = d->win.pad_top, pl = d->win.pad_left;
    WP_MASK half_lo, half_hi; /* the lane of each value of a raw vector */
    for (int k = 0; k < WP_L; k++) {
        half_lo[k] = (WP_INT)(k / 2);
        half_hi[k] = (WP_INT)(WP_L / 2 + k / 2);
    }
    /* zeros for the padding, and the margins never copied (read, then discarded) */
    memset(prow, 0, sizeof(FC_T) * (size_t)(p->prows * pw));
    for (int64_t c = 0; c < c_n; c++) {
        const FC_T *plane = (const FC_T *)x->data + c * x->sc;
        for (int64_t k = 0; k < p->prows && p->c0 < p->c1; k++) {
            const int64_t iy = p->prow_iy[k];
            if (iy >= 0 && iy < x->h)
                WP_FN(wp_clip_copy)(plane + p->prow_n[k] * x->sn + iy * x->sh, p->c0, x->w,
                                    p->c1 - p->c0, prow + k * pw + p->c0 + pl + 2 * WP_L);
        }
        for (int64_t l0 = 0, g = 0; l0 < lanes; l0 += WP_L, g++) {
            FC_T *v = vt + (l0 / nr * c_n + c) * nr + l0 % nr;
            if (l0 >= nt) {
                for (int xi = 0; xi < 16; xi++) *(WP_VEC *)(v + xi * vs) = (WP_VEC){0};
                continue;
            }
            WP_VEC raw[4][4];
            const WP_SEG *s = &p->seg[p->first[g]], *e = &p->seg[p->first[g + 1]];
            if (p->in_place[g]) {
                WP_FN(wp_in_load)(plane + s->n * x->sn + (2 * s->ty - pt) * x->sh + 2 * s->tx - pl,
                                  x->sh, raw);
            } else if (e - s == 1 && s->run == WP_L) {
                WP_FN(wp_in_load)(prow + p->run[s->aux].aux * pw + 2 * s->tx + 2 * WP_L, pw, raw);
            } else {
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) raw[i][j] = (WP_VEC){0};
                for (; s < e; s++) {
                    const WP_INT lo = (WP_INT)(s->la - l0), hi = (WP_INT)(s->la + s->run - l0);
                    const WP_MASK keep_lo = (half_lo >= lo) & (half_lo < hi);
                    const WP_MASK keep_hi = (half_hi >= lo) & (half_hi < hi);
                    WP_VEC sv[4][4]; /* lane l0 as if it were in this run */
                    WP_FN(wp_in_load)(prow + p->run[s->aux].aux * pw + 2 * (s->tx - s->la + l0) +
                                          2 * WP_L,
                                      pw, sv);
                    for (int i = 0; i < 4; i++)
                        for (int j = 0; j < 4; j++)
                            raw[i][j] = WP_SELECT(j % 2 ? keep_hi : keep_lo, sv[i][j], raw[i][j]);
                }
            }
            WP_FN(wp_in_transform)(raw, v, vs);
        }
    }
}

/* epilogue_store's arithmetic on a vector: bias b (+0 without one), then ReLU or ReLU6
 * (comparisons are false for NaN: it passes through, as there). */
static inline WP_VEC WP_FN(wp_epilogue)(WP_VEC y, WP_VEC b, fc_activation act) {
    const WP_VEC zero = (WP_VEC){0}, six = zero + (FC_T)6;
    WP_VEC v = y + b;
    if (act == FC_ACT_RELU || act == FC_ACT_RELU6) {
        v = WP_SELECT(~(WP_MASK)(v < zero), v, zero);
        if (act == FC_ACT_RELU6) v = WP_SELECT(~(WP_MASK)(v > six), v, six);
    }
    return v;
}

/* Y = A^T M A for output channel o of the block into its plane, + bias, activation.
 * Returns whether a value of Y of the block's tiles (before bias and activation, all four
 * of a tile's, those past an odd edge too: winograd_tmpl.h's check) is Inf or NaN.  A
 * vector of one segment of L tiles inside the output goes out as 2 x 2 vectors (with a
 * ReLU-family epilogue or none); others through the staging rows, run by run. */
static int WP_FN(wp_output)(const fc_conv_desc *d, const fc_view *y, int64_t nt, const WP_PLAN *p,
                            const FC_T *mo, int64_t ms, const FC_T *bias, int64_t o, FC_T *out,
                            FC_T *brow) {
    const fc_activation act = d->activation;
    const int in_vector = act == FC_ACT_NONE || act == FC_ACT_RELU || act == FC_ACT_RELU6;
    const FC_T b = bias ? bias[o] : (FC_T)0;
    const WP_VEC bv = b - (WP_VEC){0};
    FC_T *plane = (FC_T *)y->data + o * y->sc;
    WP_VEC nf = (WP_VEC){0};
    int nonfinite = 0;
    if (o + WP_AHEAD < y->c)
        for (int64_t r = 0; r < p->runs; r++) {
            const WP_SEG *u = &p->run[r];
            for (int i = 0; i < 2; i++)
                FC_FN(wp_prefetch)(plane + WP_AHEAD * y->sc + u->n * y->sn, y->sh, y->h, y->w,
                                   2 * u->ty + i, 2 * u->tx, 2 * u->run);
        }
    if (bias)
        for (int k = 0; k < 2 * WP_L; k++) brow[k] = b;
    for (int64_t l0 = 0, g = 0; l0 < nt; l0 += WP_L, g++) {
        WP_VEC m[16], a[2][4], yv[2][2], r[2][2]; /* r: output rows 0, 1 in two halves */
        for (int xi = 0; xi < 16; xi++) m[xi] = *(const WP_VEC *)(mo + xi * ms + l0);
        for (int j = 0; j < 4; j++) { /* A^T M, column by column */
            a[0][j] = m[0 + j] + m[4 + j] + m[8 + j];
            a[1][j] = m[4 + j] - m[8 + j] - m[12 + j];
        }
        for (int i = 0; i < 2; i++) { /* (A^T M) A */
            yv[i][0] = a[i][0] + a[i][1] + a[i][2];
            yv[i][1] = a[i][1] - a[i][2] - a[i][3];
            r[i][0] = WP_ZIPLO(yv[i][0], yv[i][1]);
            r[i][1] = WP_ZIPHI(yv[i][0], yv[i][1]);
        }
        const WP_SEG *s = &p->seg[p->first[g]];
        const int64_t oy = 2 * s->ty, ox = 2 * s->tx;
        if (in_vector && s->run == WP_L && oy + 2 <= y->h && ox + 2 * WP_L <= y->w) {
            nf += (yv[0][0] - yv[0][0]) + (yv[0][1] - yv[0][1]) + (yv[1][0] - yv[1][0]) +
                  (yv[1][1] - yv[1][1]);
            FC_T *dst = plane + s->n * y->sn + oy * y->sh + ox;
            for (int i = 0; i < 2; i++) {
                *(WP_VEC *)(dst + i * y->sh) = WP_FN(wp_epilogue)(r[i][0], bv, act);
                *(WP_VEC *)(dst + i * y->sh + WP_L) = WP_FN(wp_epilogue)(r[i][1], bv, act);
            }
            continue;
        }
        for (int i = 0; i < 2; i++) {
            *(WP_VEC *)(out + i * 2 * WP_L) = r[i][0];
            *(WP_VEC *)(out + i * 2 * WP_L + WP_L) = r[i][1];
        }
        const int64_t valid = nt - l0 < WP_L ? nt - l0 : WP_L;
        for (int64_t k = 0; k < 2 * valid; k++) {
            const FC_T y0 = out[k], y1 = out[2 * WP_L + k];
            nonfinite |= (y0 - y0) + (y1 - y1) != 0;
        }
        for (const WP_SEG *e = &p->seg[p->first[g + 1]]; s < e; s++) {
            const int64_t at = 2 * (s->la - l0), sy = 2 * s->ty, sx = 2 * s->tx;
            const int64_t count = y->w - sx < 2 * s->run ? y->w - sx : 2 * s->run;
            for (int i = 0; i < 2 && sy + i < y->h; i++)
                FC_FN(epilogue_store)(out + i * 2 * WP_L + at, count, bias ? brow : NULL, act,
                                      plane + s->n * y->sn + (sy + i) * y->sh + sx, 1);
        }
    }
    for (int k = 0; k < WP_L; k++) nonfinite |= nf[k] != 0;
    return nonfinite;
}

/* Tiles [t0, t1) (t1 - t0 <= WP_TILES), all output channels: transform, 16 transposed
 * GEMMs, transform back.  ut: winograd_pack_rows' U^T.  Every output value is computed the
 * same way whatever the block, so the split never changes a result.  Returns whether an
 * output value was Inf or NaN (see winograd_tmpl.h's winograd_block: the caller re-runs the
 * call another way). */
int WP_FN(winograd_planes_block)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                 const fc_view *y, const FC_T *ut, const FC_T *bias, int64_t t0,
                                 int64_t t1, void *ws) {
    const FC_FN(fc_ukernel) *uk = FC_UKERNEL(cx);
    const int64_t nt = t1 - t0, nr = uk->nr, c_n = x->c, o_n = y->c;
    const int64_t rows = (o_n + uk->mr - 1) / uk->mr * uk->mr;
    const int64_t vs = FC_FN(wp_stride)(c_n), ms = FC_FN(wp_stride)(o_n);
    const FC_FN(wp_layout) l = WP_FN(wp_layout_of)(cx, x, y);
    char *base = ws;
    FC_T *vt = (FC_T *)(base + l.v), *mt = (FC_T *)(base + l.m), *zero = (FC_T *)(base + l.zero);
    const FC_T **ind = (const FC_T **)(base + l.ind);
    WP_PLAN p;

    WP_FN(wp_plan)(d, x, y, t0, nt, &p);
    memset(zero, 0, sizeof(FC_T) * (size_t)c_n);
    WP_FN(wp_input)(d, x, y, nt, nr, &p, vt, vs, (FC_T *)(base + l.prows));
    for (int xi = 0; xi < 16; xi++) {
        for (int64_t r = 0; r < rows; r++) ind[r] = r < o_n ? ut + (xi * o_n + r) * c_n : zero;
        FC_FN(gemm_macro)(uk, o_n, nt, 1, c_n, ind, 0, vt + xi * vs, c_n * nr, mt + xi * ms,
                          WP_TILES, NULL, 0, 1, NULL, FC_ACT_NONE, 0, NULL);
    }
    int nonfinite = 0;
    for (int64_t o = 0; o < o_n; o++)
        nonfinite |= WP_FN(wp_output)(d, y, nt, &p, mt + o * WP_TILES, ms, bias, o,
                                      (FC_T *)(base + l.out), (FC_T *)(base + l.bias));
    return nonfinite;
}

#undef WP_SELECT
#undef WP_AHEAD
#undef WP_PLAN
#undef WP_INT
#undef WP_EVEN
#undef WP_ODD
#undef WP_ZIPLO
#undef WP_ZIPHI
#undef WP_TILES
#undef WP_L
#undef WP_SEG
#undef WP_MASK
#undef WP_VEC
#undef WP_FN
