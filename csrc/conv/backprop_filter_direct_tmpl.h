/* conv2d's filter gradient without packing (template: FC_T, FC_SFX, and BK_ISA, BK_VBYTES,
 * BK_ACC (accumulator registers), BK_NVMAX: each ISA's file compiles it at its own vector
 * width).
 *
 *   dW[r][o] = sum over pixels (n, oy, ox) of x[n][iy][ix][ci] * dy[n][oy][ox][o],
 *   r = (ky, kx, ci), iy = oy * stride_h - pad_top + ky * dil_h (ix likewise)
 *
 * is summed as outer products in registers: a tile of MR filter rows x NV vectors of output
 * channels, one input value broadcast per row and one dy vector loaded per pixel, over a
 * band of output rows at a time.  The input values come from P, the band's input rows with
 * their padding as zeros ((band - 1) x stride_h + (k_h - 1) x dil_h + 1 rows of Wp x C/groups
 * values), or from x itself where no value a tile reads is padding (p->x_direct); the dy
 * vectors from D, the band's pixels x NB channels (zero past the group's), or from dy itself
 * when the block is all of its dense channels.  Row r's value at pixel (rr, ox) of the band
 * is P[off[r] + rr * stride_h * Wp * cg + ox * stride_w * cg]: no patch matrix, no packed
 * panel.  (LeNet's first layer, 25 filter rows and 32 channels, spent 70% of its time in a
 * GEMM's packing and in a 64-wide tile half empty.)
 *
 * Chunks stay within one tap where the channels allow (bf_direct_shape): then the pixels
 * whose tap falls in the padding are skipped.
 *
 * A task owns a group, a block of NB output channels and a range of chunks of the filter
 * rows, and sums every pixel in (n, oy, ox) order into its accumulators (dW's rows, or a
 * workspace stored into dW at the end): the same order whatever the split, so results are
 * bit-identical for any thread count. */
#include <stdint.h>
#include <string.h>

#define BK_FN(name) FC_CAT(FC_FN(name), BK_ISA)
#define BK_VEC FC_CAT(FC_CAT(bkvec, BK_ISA), FC_SFX)
#define BK_LANES (BK_VBYTES / (int)sizeof(FC_T))
#define BK_MRCAP 8        /* row pointers beyond 8 run out of general registers */
#define BK_LINE 64        /* bytes a prefetch brings: the cache line of x86 and most Arm cores */
#define BK_PF_PRODUCTS 64 /* vector products a pass at least per line it prefetches */
#define BK_MANY_PASSES 48 /* passes a band that make a misaligned dy block worth a copy */
#define BK_MR(nv) (BK_ACC / (nv) < BK_MRCAP ? BK_ACC / (nv) : BK_MRCAP)

typedef FC_T BK_VEC __attribute__((vector_size(BK_VBYTES), aligned(sizeof(FC_T))));

/* The tile: mr rows x nv vectors (constants at each call site), over `rows` output rows of
 * `ow` pixels, b skipping bskip values after each row.  c: mr rows ldc apart of nv x lanes
 * values, accumulated onto (`more`) or written. */
static inline __attribute__((always_inline)) void
BK_FN(bk_tile)(const int mr, const int nv, const FC_T *a, const int64_t *off, int64_t step,
               int64_t rstep, int64_t ow, int64_t rows, const FC_T *restrict b, int64_t bskip,
               FC_T *restrict c, int64_t ldc, int more) {
    BK_VEC acc[BK_MRCAP][4];
    int64_t o[BK_MRCAP];
#pragma GCC unroll 8
    for (int i = 0; i < mr; i++) {
        o[i] = off[i];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            acc[i][v] = more ? *(const BK_VEC *)(c + i * ldc + v * BK_LANES) : (BK_VEC){0};
    }
    for (int64_t rr = 0; rr < rows; rr++) {
        const FC_T *ar = a + rr * rstep;
        for (int64_t k = 0; k < ow; k++, ar += step) {
            BK_VEC bv[4];
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++) bv[v] = *(const BK_VEC *)(b + v * BK_LANES);
            b += nv * BK_LANES;
#pragma GCC unroll 8
            for (int i = 0; i < mr; i++) {
                const BK_VEC av = ar[o[i]] - (BK_VEC){0}; /* broadcast (x - 0 folds to x) */
#pragma GCC unroll 4
                for (int v = 0; v < nv; v++) acc[i][v] += av * bv[v];
            }
        }
        b += bskip;
    }
#pragma GCC unroll 8
    for (int i = 0; i < mr; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) *(BK_VEC *)(c + i * ldc + v * BK_LANES) = acc[i][v];
}

/* One tile with mr and nv as constants: a case per shape this ISA's registers hold. */
static void BK_FN(bk_tile_any)(int mr, int nv, const FC_T *a, const int64_t *off, int64_t step,
                               int64_t rstep, int64_t ow, int64_t rows, const FC_T *b,
                               int64_t bskip, FC_T *c, int64_t ldc, int more) {
#define BK_CASE(MR, NV)                                                                            \
    case (MR) * 8 + (NV):                                                                          \
        if ((NV) <= BK_NVMAX && (MR) <= BK_MR(NV))                                                 \
            BK_FN(bk_tile)(MR, NV, a, off, step, rstep, ow, rows, b, bskip, c, ldc, more);         \
        return;
#define BK_CASES(MR) BK_CASE(MR, 1) BK_CASE(MR, 2) BK_CASE(MR, 3) BK_CASE(MR, 4)
    switch (mr * 8 + nv) {
        BK_CASES(1)
        BK_CASES(2)
        BK_CASES(3)
        BK_CASES(4)
        BK_CASES(5)
        BK_CASES(6)
        BK_CASES(7)
        BK_CASES(8)
    default: break;
    }
#undef BK_CASES
#undef BK_CASE
}

/* The call's shape (fc_bf_direct): NV vectors of output channels a tile (as many as the
 * group's channels fill, up to the ISA's), chunks of MR filter rows as even as the
 * registers allow, and a band of output rows long enough (about 128 pixels) that loading
 * and storing the accumulators once a band costs little next to the band's products
 * (measured: 1 row of a 7x7 image 16% slower than the whole image, 128 pixels 1-2% faster
 * than 64).  Every chunk's tile streams the band's dy block, so the block is kept within
 * L1d: fewer rows where they would overflow it, and a row too long for it alone is walked
 * in segments of `seg` pixels (VGG's 224-pixel rows x 64 channels are 56 KiB of dy against
 * 48 KiB of L1d: one whole row a pass took 10% longer than halves; 168 pixels, 42 KiB, ran
 * as fast as 112 or 56 on b8-3x3-56).  A segment is part of one row, so the pixels are
 * still summed in (n, oy, ox) order: the bits do not depend on the segments. */
void BK_FN(bf_direct_shape)(const fc_conv_desc *d, const fc_view *x, const fc_view *dy,
                            fc_bf_direct *p) {
    const fc_window *win = &d->win;
    p->cg = x->c / d->groups;
    p->og = dy->c / d->groups;
    p->kh = win->k_h;
    p->r = win->k_h * win->k_w * p->cg;
    p->lanes = BK_LANES;
    /* the group's vectors in blocks as even as NVMAX allows (80 channels: 3 + 2 vectors of
     * 16, not 4 + 1) */
    const int64_t vectors = (p->og + BK_LANES - 1) / BK_LANES;
    p->nv = (vectors + BK_NVMAX - 1) / BK_NVMAX;
    p->nv = (vectors + p->nv - 1) / p->nv;
    p->nb = p->nv * BK_LANES;
    p->oblocks = (p->og + p->nb - 1) / p->nb;
    /* Chunks within one tap when the channels split into chunks that fill most of the
     * registers (32 channels: 6 + 6 + 5 + 5 + 5 + 5 rows x 4 vectors): then a chunk's pixels
     * whose tap falls in the padding are skipped, not multiplied by zeros -- 16% of LeNet's
     * second layer (5x5 on 14x14), 18% of ResNet's 3x3 on 7x7.  Otherwise (few channels)
     * chunks of r as even as the registers allow, across taps. */
    const int64_t mr_max = BK_MR(p->nv), cpt = (p->cg + mr_max - 1) / mr_max;
    p->padded = win->pad_top > 0 || win->pad_left > 0 ||
                (dy->h - 1) * win->stride_h - win->pad_top + (win->k_h - 1) * win->dil_h >= x->h ||
                (dy->w - 1) * win->stride_w - win->pad_left + (win->k_w - 1) * win->dil_w >= x->w;
    p->x_direct = 0;
    p->per_tap = p->padded && p->cg / cpt >= mr_max - 1 ? cpt : 0;
    p->chunks = p->per_tap ? p->r / p->cg * cpt : (p->r + mr_max - 1) / mr_max;
    p->mr = p->per_tap ? (p->cg + cpt - 1) / cpt : (p->r + p->chunks - 1) / p->chunks;
    p->wp = (dy->w - 1) * win->stride_w + (win->k_w - 1) * win->dil_w + 1;
    const int64_t l1 = (int64_t)fc_cache_bytes(1),
                  row_bytes = dy->w * p->nb * (int64_t)sizeof(FC_T);
    p->band = (128 + dy->w - 1) / dy->w;
    if (p->band * row_bytes > l1) p->band = l1 / row_bytes;
    if (p->band > dy->h) p->band = dy->h;
    if (p->band < 1) p->band = 1;
    const int64_t segs = row_bytes > l1 && l1 > 0 ? (row_bytes + l1 - 1) / l1 : 1;
    p->seg = (dy->w + segs - 1) / segs;
    p->prow = (p->band - 1) * win->stride_h + (win->k_h - 1) * win->dil_h + 1;
}

#ifndef BK_SPAN_DEFINED
#define BK_SPAN_DEFINED
/* Chunk ch's first filter row (ch = chunks: r) and its rows (*m). */
static inline int64_t bk_chunk(const fc_bf_direct *p, int64_t ch, int64_t *m) {
    if (!p->per_tap) {
        *m = p->mr;
        return ch * p->mr;
    }
    const int64_t t = ch / p->per_tap, q = ch % p->per_tap;
    const int64_t base = p->cg / p->per_tap, rem = p->cg % p->per_tap;
    *m = base + (q < rem);
    return t * p->cg + q * base + (q < rem ? q : rem);
}

/* The outputs o >= from whose input o * stride + shift lies in [0, len): [*lo, *hi). */
static inline void bk_span(int64_t from, int64_t stride, int64_t shift, int64_t len, int64_t *lo,
                           int64_t *hi) {
    const int64_t a = -shift, b = len - shift; /* o * stride in [a, b) */
    *lo = a <= 0 ? 0 : (a + stride - 1) / stride;
    *hi = b <= 0 ? 0 : (b + stride - 1) / stride;
    if (*lo < from) *lo = from;
    if (*hi < *lo) *hi = *lo;
}
#endif

/* P: the band's input rows from iy0, prow of them, each Wp pixels of cg channels from
 * ix = -pad_left, zero outside the image: zeros, one run of the row's pixels, zeros. */
static void BK_FN(bk_fill_rows)(const fc_conv_desc *d, const fc_view *x, const fc_bf_direct *p,
                                int64_t n, int64_t g, int64_t iy0, int64_t prow,
                                FC_T *restrict dst) {
    const int64_t cg = p->cg, wrow = p->wp * cg, pl = d->win.pad_left;
    const int64_t px0 = pl > 0 ? (pl < p->wp ? pl : p->wp) : 0; /* [px0, px1): inside */
    const int64_t px1 = pl + x->w < p->wp ? (pl + x->w > px0 ? pl + x->w : px0) : p->wp;
    const int dense = x->sc == 1 && x->sw == cg;
    const FC_T *xn = (const FC_T *)x->data + n * x->sn + g * cg * x->sc;
    for (int64_t yy = 0; yy < prow; yy++, dst += wrow) {
        const int64_t iy = iy0 + yy;
        if (iy < 0 || iy >= x->h) {
            for (int64_t j = 0; j < wrow; j++) dst[j] = 0;
            continue;
        }
        const FC_T *restrict row = xn + iy * x->sh + (px0 - pl) * x->sw;
        for (int64_t j = 0; j < px0 * cg; j++) dst[j] = 0;
        FC_T *restrict e = dst + px0 * cg;
        if (dense) { /* NHWC, one group: the run is contiguous */
            for (int64_t j = 0; j < (px1 - px0) * cg; j++) e[j] = row[j];
        } else {
            for (int64_t px = 0; px < px1 - px0; px++)
                for (int64_t c = 0; c < cg; c++) e[px * cg + c] = row[px * x->sw + c * x->sc];
        }
        for (int64_t j = px1 * cg; j < wrow; j++) dst[j] = 0;
    }
}

/* D: dy of `rows` output rows from (n, oy0), channels [o0, o0 + count), as [pixel][nb],
 * zero past count; with db, db[i] += the values, in pixel order. */
static void BK_FN(bk_fill_dy)(const fc_view *dy, int64_t nb, int64_t n, int64_t oy0, int64_t rows,
                              int64_t o0, int64_t count, FC_T *restrict dst, FC_T *restrict db) {
    for (int64_t oy = oy0; oy < oy0 + rows; oy++)
        for (int64_t ox = 0; ox < dy->w; ox++, dst += nb) {
            const FC_T *restrict s =
                (const FC_T *)dy->data + n * dy->sn + oy * dy->sh + ox * dy->sw + o0 * dy->sc;
            if (dy->sc == 1)
                for (int64_t i = 0; i < count; i++) dst[i] = s[i];
            else
                for (int64_t i = 0; i < count; i++) dst[i] = s[i * dy->sc];
            for (int64_t i = count; i < nb; i++) dst[i] = 0;
            if (db)
                for (int64_t i = 0; i < count; i++) db[i] += dst[i];
        }
}

/* What the band after (n, oy0) reads that this one has not brought into cache: its dy rows
 * when they are one run of memory, the band's block (dy_dense: read in place or copied; a
 * copy that waited for them made a 5x5 layer of 16 -> 64 channels on 14x14 5% slower than
 * reading in place, not 10% faster), and its input rows past this band's when the group's
 * rows are one run of memory (one group, rows dense: NHWC): at[0] and at[1], len[0] and
 * len[1] bytes (none after the last band).  The tiles prefetch them a slice a chunk:
 * without it each band's first tiles waited for them from L3 or DRAM, 7% of b8-3x3-56's
 * time when two tasks split the chunks (the cost grows with the splits: 25% at four). */
static void BK_FN(bk_next_band)(const fc_conv_desc *d, const fc_view *x, const fc_view *dy,
                                const fc_bf_direct *p, int64_t n, int64_t oy0, int dy_dense,
                                const char *at[2], int64_t len[2]) {
    const fc_window *win = &d->win;
    at[0] = at[1] = NULL, len[0] = len[1] = 0;
    int64_t done = (oy0 + p->band - 1) * win->stride_h - win->pad_top +
                   (win->k_h - 1) * win->dil_h + 1; /* input rows below this are cached */
    oy0 += p->band;
    if (oy0 >= dy->h) oy0 = 0, n++, done = 0;
    if (n >= dy->n) return;
    const int64_t rows = dy->h - oy0 < p->band ? dy->h - oy0 : p->band;
    if (dy_dense) {
        at[0] = (const char *)((const FC_T *)dy->data + n * dy->sn + oy0 * dy->sh);
        len[0] = (int64_t)sizeof(FC_T) * rows * dy->sh;
    }
    if (d->groups != 1 || x->sc != 1 || x->sh != x->w * x->sw) return;
    int64_t a = oy0 * win->stride_h - win->pad_top;
    int64_t b = a + (rows - 1) * win->stride_h + (win->k_h - 1) * win->dil_h + 1;
    if (a < done) a = done;
    if (a < 0) a = 0;
    if (b > x->h) b = x->h;
    if (b <= a) return;
    at[1] = (const char *)((const FC_T *)x->data + n * x->sn + a * x->sh);
    len[1] = (int64_t)sizeof(FC_T) * (b - a) * x->sh;
}

/* dW for group g, output channels [ob x NB, ...) of it and the filter rows of chunks
 * [ch0, ch1): dense HWIO dw [r][out_C]; with db, db = dy summed over the pixels for those
 * channels (the caller passes it to one task a block).  ws: fc_bf_direct_workspace. */
void BK_FN(bf_direct)(const fc_conv_desc *d, const fc_view *x, const fc_view *dy,
                      const fc_bf_direct *p, int64_t g, int64_t ob, int64_t ch0, int64_t ch1,
                      FC_T *dw, FC_T *db, void *ws) {
    const fc_window *win = &d->win;
    const int64_t nb = p->nb, mr = p->mr, cg = p->cg, wrow = p->wp * cg;
    int64_t m;
    const int64_t j0 = bk_chunk(p, ch0, &m), j1 = bk_chunk(p, ch1, &m); /* past r: scratch */
    (void)m;
    const int64_t o0 = g * p->og + ob * nb, count = p->og - ob * nb < nb ? p->og - ob * nb : nb;
    /* The accumulators: dW's own rows when the block is full and the task has no scratch
     * rows, else the workspace (stored into dW at the end).  (Writing dW in place saves a
     * pass over it: ResNet's 3x3 on 7x7 has a 9 MiB dW for 49 pixels.) */
    const int in_place = count == nb && j1 <= p->r;
    /* dy itself as the band's block: all of one group's channels, one vector block, dense
     * (dy copies were 5-8% of LeNet's first layer, and repeated by every task of a block).
     * Copied to the aligned workspace instead where its vectors straddle cache lines (NumPy
     * aligns to 16 bytes; the block's pixels are whole vectors, so dy's start decides) and
     * many passes read each band: a copy reads and writes the block once, a vector split
     * over two lines costs every pass (lenet-c2, 150 chunks: 7.9 -> 7.3 ms, b8-3x3-56 6%
     * faster; 34 chunks of 64 channels: 3% slower copied, LeNet's first layer, 4: 15%). */
    const int dy_dense = count == nb && dy->sc == 1 && dy->sw == nb && dy->sh == dy->w * nb;
    const int dy_in_place =
        dy_dense && ((uintptr_t)dy->data % BK_VBYTES == 0 || ch1 - ch0 < BK_MANY_PASSES);
    FC_T *c = in_place ? dw + o0 : (FC_T *)ws;
    const int64_t ldc = in_place ? dy->c : nb;
    FC_T *pbuf = (FC_T *)((char *)ws + fc_align_up(sizeof(FC_T) * (size_t)(p->chunks * mr * nb)));
    FC_T *dbuf = (FC_T *)((char *)pbuf + fc_align_up(sizeof(FC_T) * (size_t)(p->prow * wrow)));
    int64_t *off =
        (int64_t *)((char *)dbuf + fc_align_up(sizeof(FC_T) * (size_t)(p->band * dy->w * nb)));
    /* per chunk of the task: first row, rows, ky (the y range is per band), x range,
     * whether its accumulators hold a sum yet and its tap's offset (per_tap) */
    int64_t (*info)[7] =
        (int64_t (*)[7])((char *)off + fc_align_up(sizeof(int64_t) * (size_t)(p->chunks * mr)));
    int64_t *yr = (int64_t *)(info + p->chunks); /* per band: [ky][2] rows summed */
    /* The input values: from P, the band's rows with their padding, or from x itself
     * (p->x_direct) -- steps between input rows, pixels and channels: */
    const int x_direct = p->x_direct;
    const int64_t rs = x_direct ? x->sh : wrow, ps = x_direct ? x->sw : cg;
    const int64_t cs = x_direct ? x->sc : 1;
    const FC_T *xdata = x_direct ? (const FC_T *)x->data : pbuf;
    for (int64_t j = j0; j < j1; j++) { /* rows past r repeat row 0's value, never stored */
        const int64_t r = j < p->r ? j : 0, t = r / cg, ci = r % cg;
        off[j] = ci * cs; /* a chunk within a tap adds the tap's offset to its pointer */
        if (!p->per_tap)
            off[j] += (t / win->k_w) * win->dil_h * rs + (t % win->k_w) * win->dil_w * ps;
    }
    for (int64_t ch = ch0; ch < ch1; ch++) {
        int64_t *e = info[ch - ch0];
        e[0] = bk_chunk(p, ch, &e[1]);
        e[2] = e[3] = e[5] = e[6] = 0, e[4] = dy->w; /* all pixels (ky 0: all rows) */
        if (p->per_tap) {                            /* those whose tap (ky, kx) reads the image */
            const int64_t t = e[0] / cg, kx = t % win->k_w;
            e[2] = t / win->k_w;
            e[6] = e[2] * win->dil_h * rs + kx * win->dil_w * ps;
            bk_span(0, win->stride_w, kx * win->dil_w - win->pad_left, x->w, &e[3], &e[4]);
            if (e[4] > dy->w) e[4] = dy->w;
        }
    }
    if (db)
        for (int64_t i = 0; i < count; i++) db[o0 + i] = 0;
    for (int64_t n = 0; n < dy->n; n++)
        for (int64_t oy0 = 0; oy0 < dy->h; oy0 += p->band) {
            const int64_t rows = dy->h - oy0 < p->band ? dy->h - oy0 : p->band;
            const int64_t prow = (rows - 1) * win->stride_h + (win->k_h - 1) * win->dil_h + 1;
            /* the index of the band's first row, pixel -pad_left, the group's channel 0 */
            int64_t origin = 0;
            if (x_direct)
                origin = n * x->sn + (oy0 * win->stride_h - win->pad_top) * x->sh -
                         win->pad_left * x->sw + g * cg * x->sc;
            else BK_FN(bk_fill_rows)(d, x, p, n, g, oy0 * win->stride_h - win->pad_top, prow, pbuf);
            const FC_T *band_dy = dbuf;
            if (dy_in_place) { /* the band's dy rows are the block already: read in place */
                band_dy = (const FC_T *)dy->data + n * dy->sn + oy0 * dy->sh;
                if (db)
                    for (int64_t q = 0; q < rows * dy->w; q++)
                        for (int64_t i = 0; i < nb; i++) db[o0 + i] += band_dy[q * nb + i];
            } else {
                BK_FN(bk_fill_dy)(dy, nb, n, oy0, rows, o0, count, dbuf, db ? db + o0 : NULL);
            }
            for (int64_t ky = 0; ky < win->k_h; ky++) {
                int64_t *y = yr + 2 * ky;
                y[0] = 0, y[1] = rows;
                if (p->per_tap) {
                    bk_span(oy0, win->stride_h, ky * win->dil_h - win->pad_top, x->h, &y[0], &y[1]);
                    y[0] -= oy0, y[1] = y[1] - oy0 < rows ? y[1] - oy0 : rows;
                }
            }
            const char *pf[2]; /* the next band's data, prefetched a slice a pass of a chunk */
            int64_t pf_len[2];
            BK_FN(bk_next_band)(d, x, dy, p, n, oy0, dy_dense, pf, pf_len);
            const int64_t lines = (pf_len[0] + pf_len[1]) / BK_LINE;
            const int64_t passes = (dy->w + p->seg - 1) / p->seg * (ch1 - ch0);
            int64_t per = (lines + passes - 1) / passes;
            /* Only where a pass's products hide its slice: few chunks to a band (keras-mnist-c1,
             * 9 rows: 10 vector products a line) read their dy as one stream the hardware
             * prefetches, and a burst of software prefetches a pass made it 23% slower;
             * r50-1x1-56 (52 products a line) 4% slower; b8 and vgg gain at 75-300. */
            if (per * BK_PF_PRODUCTS > p->band * p->seg * p->mr * p->nv) per = 0;
            int64_t next_line = 0;
            for (int64_t sx = 0; sx < dy->w; sx += p->seg) /* one pass unless band is 1 row */
                for (int64_t ch = ch0; ch < ch1; ch++) {
                    for (int64_t q = next_line; q < next_line + per && q < lines; q++) {
                        const int64_t o = q * BK_LINE;
                        __builtin_prefetch(o < pf_len[0] ? pf[0] + o : pf[1] + (o - pf_len[0]), 0,
                                           2);
                    }
                    next_line += per;
                    int64_t *e = info[ch - ch0];
                    const int64_t j = e[0], x0 = e[3] > sx ? e[3] : sx;
                    const int64_t x1 = e[4] < sx + p->seg ? e[4] : sx + p->seg;
                    const int64_t y0 = yr[2 * e[2]], y1 = yr[2 * e[2] + 1];
                    if (y1 <= y0 || x1 <= x0) continue;
                    /* formed as an index first: the origin itself may lie in the padding */
                    const int64_t at =
                        origin + y0 * win->stride_h * rs + x0 * win->stride_w * ps + e[6];
                    BK_FN(bk_tile_any)((int)e[1], (int)p->nv, xdata + at, off + j,
                                       win->stride_w * ps, win->stride_h * rs, x1 - x0, y1 - y0,
                                       band_dy + (y0 * dy->w + x0) * nb, (dy->w - (x1 - x0)) * nb,
                                       c + j * ldc, ldc, (int)e[5]);
                    e[5] = 1;
                }
        }
    for (int64_t ch = ch0; ch < ch1; ch++) /* chunks no pixel reached: zeros */
        if (!info[ch - ch0][5])
            for (int64_t j = info[ch - ch0][0]; j < info[ch - ch0][0] + info[ch - ch0][1]; j++)
                for (int64_t i = 0; i < nb; i++) c[j * ldc + i] = 0;
    const int64_t r1 = j1 < p->r ? j1 : p->r;
    if (!in_place)
        for (int64_t r = j0; r < r1; r++)
            for (int64_t i = 0; i < count; i++) dw[r * dy->c + o0 + i] = c[r * nb + i];
}

#undef BK_MR
#undef BK_MRCAP
#undef BK_LINE
#undef BK_PF_PRODUCTS
#undef BK_MANY_PASSES
#undef BK_LANES
#undef BK_VEC
#undef BK_FN
