/* Implicit im2col + GEMM convolution (indirect GEMM) (template: FC_T, FC_SFX).
 *
 * The convolution is, per group, the GEMM Y[M x out_C] = P[M x K] * W[K x out_C] with M the
 * output pixels of the whole batch, K = taps x C/groups and P the patch matrix.  P is
 * never built, not even tile by tile: for a block of output pixels an indirection buffer
 * holds, for every row panel and tap, MR pointers to input pixels (their channels are
 * contiguous in NHWC) or to a zero row where the tap falls in the padding (XNNPACK's
 * IGEMM).  Any stride, dilation and padding costs the same, 1x1 convolutions read the
 * input in place, and the workspace is a few KiB of pointers per thread.
 *
 * K is cut into channel blocks so that one packed B panel, [taps x block][NR], fits the
 * fc_gemm_panel_bytes() budget in L2 (to within 1.5x: dims).  With few channels per group
 * (an RGB stem, a 1-channel image) a tap holds too few values to amortize the
 * micro-kernel's per-tap pointer loads, so the rows are instead packed into contiguous
 * patches of K values first (im2col proper, MC rows at a time) and multiplied as one tap of
 * K.  W is packed once per call, laid out [group][channel block][panel][tap][block
 * channels][NR], and shared by all images. */
#include <string.h>
#include "pixel_order.h"

/* Below this many channels per group, patches are packed (see above). */
#define IM2COL_PACK_BELOW 16

/* Filter rows that pack_tap prefetches ahead of the one it copies.  A task reads only its
 * panels' 64-256 values of each 2 KiB filter row (r50-3x3-7: 512 outputs in 8 panels,
 * split over 4-8 tasks), a stride the hardware prefetchers follow badly: packing all of
 * r50-3x3-7's 9.4 MB in 4 tasks from L3 took 1.5 ms, 0.93 with the rows 4 ahead fetched
 * into L1 (2-8 rows ahead: the same; non-temporal prefetches lost the rows from L3). */
#define PACK_AHEAD 4

typedef struct {
    int64_t cg, og, taps, npanel, kcb, nblocks; /* kcb: channels per full block */
    int mr, nr;
    int packed; /* rows packed into K-long patches */
} FC_FN(igemm_dims);

static FC_FN(igemm_dims)
    FC_FN(dims)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    const FC_FN(fc_ukernel) *uk = FC_UKERNEL(cx);
    FC_FN(igemm_dims) s;
    s.mr = uk->mr;
    s.nr = uk->nr;
    s.cg = x->c / d->groups;
    s.og = y->c / d->groups;
    s.taps = d->win.k_h * d->win.k_w;
    s.npanel = (s.og + s.nr - 1) / s.nr;
    int64_t most = fc_gemm_panel_bytes() / (int64_t)sizeof(FC_T) / (s.taps * s.nr);
    if (most < 8) most = 8;
    /* As many blocks as the budget holds, rounded to the nearest (a panel up to 1.5x the
     * budget): cutting a few channels over it into two half blocks costs more than the L2
     * they save.  Each block of kc channels runs kc steps per tap between the micro-kernel's
     * pointer loads and takes its own pass over C, and short ones run below the long ones'
     * rate: 93% of the FMA peak at kc = 24, 97% at 48, 98-99% from 80 (one 6x64 tile in L1).
     * alexnet-c2-g2 (27x27, 5x5, 2 groups of 48 -> 128: 40 channels fit the 256 KiB budget)
     * ran 2 blocks of 24 in 2.77 ms, one of 48 (300 KiB) in 2.69; r50-3x3-7 (512 channels,
     * 113 fit: 4.5 -> 5 blocks either way) 2.08 both (1 thread, thread CPU time, Xeon
     * AVX-512, L2 2 MiB). */
    s.nblocks = (s.cg + most / 2) / most;
    if (s.nblocks < 1) s.nblocks = 1;
    s.kcb = (s.cg + s.nblocks - 1) / s.nblocks; /* equal blocks, the last one shorter */
    s.packed = s.cg < IM2COL_PACK_BELOW && s.nblocks == 1 && s.taps > 1;
    return s;
}

int64_t FC_FN(igemm_panels)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                            const fc_view *y) {
    return FC_FN(dims)(cx, d, x, y).npanel;
}

size_t FC_FN(igemm_packed_weights_size)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                        const fc_view *y) {
    const FC_FN(igemm_dims) s = FC_FN(dims)(cx, d, x, y);
    return (size_t)(d->groups * s.npanel * s.taps * s.cg * s.nr);
}

/* Where block cb, panel p of group g starts in the packed weights. */
static int64_t FC_FN(panel_offset)(const FC_FN(igemm_dims) * s, int64_t g, int64_t cb, int64_t p) {
    const int64_t kc = s->cg - cb * s->kcb < s->kcb ? s->cg - cb * s->kcb : s->kcb;
    return ((g * s->cg + cb * s->kcb) * s->npanel + p * kc) * s->taps * s->nr;
}

/* Tap t of channel block cb of group g, panels [p0, p1), into `block` laid out as that
 * block is in the packed weights ([panel - p0][tap][block channels][NR]).  Each filter row
 * is read once, front to back, and dealt out to the panels: packing panel by panel read
 * NR-wide pieces out_C apart, which the prefetchers follow badly.  Returns whether a weight
 * is Inf or NaN: multiplied by the zero row that stands for padding it would give NaN
 * where padding must contribute nothing (the caller then runs the direct kernel, which
 * skips padding taps).  v - v is 0 for finite v, NaN otherwise: one subtraction per weight,
 * vectorized with the copy. */
static int FC_FN(pack_tap)(const FC_FN(igemm_dims) * s, const FC_T *w, int64_t ldw, int64_t g,
                           int64_t cb, int64_t t, int64_t p0, int64_t p1, FC_T *block) {
    const int64_t c0 = cb * s->kcb, kc = s->cg - c0 < s->kcb ? s->cg - c0 : s->kcb;
    int nonfinite = 0;
    const int64_t j0 = p0 * s->nr, j1 = p1 * s->nr < s->og ? p1 * s->nr : s->og;
    for (int64_t ic = 0; ic < kc; ic++) {
        const FC_T *src = w + (t * s->cg + c0 + ic) * ldw + g * s->og;
        if (ic + PACK_AHEAD < kc)
            for (int64_t j = j0; j < j1; j += 64 / (int64_t)sizeof(FC_T))
                __builtin_prefetch(src + PACK_AHEAD * ldw + j, 0, 3);
        for (int64_t p = p0; p < p1; p++) {
            const int64_t j = p * s->nr, cols = s->og - j < s->nr ? s->og - j : s->nr;
            FC_T *dst = block + ((p - p0) * s->taps * kc + t * kc + ic) * s->nr;
            /* rows of 16-64 values: an inline loop, not a libc call per row */
            for (int64_t c = 0; c < cols; c++) {
                dst[c] = src[j + c];
                nonfinite |= src[j + c] - src[j + c] != 0;
            }
            for (int64_t c = cols; c < s->nr; c++) dst[c] = 0;
        }
    }
    return nonfinite;
}

/* Packing units: one per group, channel block and tap. */
int64_t FC_FN(igemm_pack_units)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                const fc_view *y) {
    const FC_FN(igemm_dims) s = FC_FN(dims)(cx, d, x, y);
    return d->groups * s.nblocks * s.taps;
}

/* Pack one unit = (g * nblocks + cb) * taps + t, every panel; whether a weight is Inf or
 * NaN (pack_tap). */
int FC_FN(igemm_pack_weights)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                              const fc_view *y, const FC_T *w, int64_t unit, FC_T *wpack) {
    const FC_FN(igemm_dims) s = FC_FN(dims)(cx, d, x, y);
    const int64_t t = unit % s.taps, cb = unit / s.taps % s.nblocks, g = unit / s.taps / s.nblocks;
    return FC_FN(pack_tap)(&s, w, y->c, g, cb, t, 0, s.npanel,
                           wpack + FC_FN(panel_offset)(&s, g, cb, 0));
}

/* Where a block's weights are packed in the workspace of a task that packs its own: past
 * the indirection buffer, the output row pointers and the zero row, on a cache line. */
static size_t FC_FN(own_offset)(const FC_FN(igemm_dims) * s, int64_t rows) {
    const size_t bytes =
        sizeof(FC_T *) * (size_t)(rows * (s->taps + 1)) + sizeof(FC_T) * (size_t)s->cg;
    return (bytes + 63) / 64 * 64;
}

/* Whether the tasks may pack their own weights (igemm_conv_block's `own`). */
int FC_FN(igemm_can_pack_own)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                              const fc_view *y) {
    return !FC_FN(dims)(cx, d, x, y).packed;
}

/* Bytes per thread: the indirection buffer of an mc-pixel block, its output row pointers
 * and a zero row, and where
 * the task packs its own weights, one channel block of `own_panels` panels; or, when
 * packing patches, their row pointers and the patches. */
size_t FC_FN(igemm_workspace)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                              const fc_view *y, int64_t mc, int64_t own_panels) {
    const FC_FN(igemm_dims) s = FC_FN(dims)(cx, d, x, y);
    const int64_t rows = (mc + s.mr - 1) / s.mr * s.mr;
    if (s.packed)
        return sizeof(FC_T *) * (size_t)rows + sizeof(FC_T) * (size_t)(rows * s.taps * s.cg);
    return FC_FN(own_offset)(&s, rows) +
           sizeof(FC_T) * (size_t)(own_panels * s.taps * s.kcb * s.nr);
}

/* Rows [m0, m1) (rounded up to whole panels, zero past m1) of the patch matrix of group g,
 * each a contiguous patch of K = taps x cg values, and a one-tap indirection buffer to
 * them.  A kernel row that lies inside the image with dilation 1 is one contiguous run of
 * k_w x cg input values when the channels are dense. */
static void FC_FN(pack_patches)(const fc_conv_desc *d, const fc_view *x, const fc_view *y,
                                const FC_FN(igemm_dims) * s, int64_t g, int64_t m0, int64_t m1,
                                FC_T *patches, const FC_T **rows_out) {
    const fc_window *win = &d->win;
    const int64_t k = s->taps * s->cg, run = win->k_w * s->cg;
    const int64_t rows = (m1 - m0 + s->mr - 1) / s->mr * s->mr;
    const int contiguous_runs = win->dil_w == 1 && x->sw == s->cg;
    int64_t n = m0 / (y->h * y->w), oy = m0 % (y->h * y->w) / y->w, ox = m0 % y->w;
    for (int64_t r = 0; r < rows; r++) {
        FC_T *dst = patches + r * k;
        rows_out[r] = dst;
        if (m0 + r >= m1) {
            for (int64_t i = 0; i < k; i++) dst[i] = 0;
            continue;
        }
        const FC_T *xn = (const FC_T *)x->data + n * x->sn + g * s->cg;
        const int64_t ix0 = ox * win->stride_w - win->pad_left;
        const int inside_w = ix0 >= 0 && ix0 + (win->k_w - 1) * win->dil_w < x->w;
        for (int64_t ky = 0; ky < win->k_h; ky++, dst += run) {
            const int64_t iy = oy * win->stride_h - win->pad_top + ky * win->dil_h;
            if (iy < 0 || iy >= x->h) {
                for (int64_t i = 0; i < run; i++) dst[i] = 0;
            } else if (inside_w && contiguous_runs) {
                const FC_T *src = xn + iy * x->sh + ix0 * x->sw;
                for (int64_t i = 0; i < run; i++) dst[i] = src[i];
            } else {
                for (int64_t kx = 0; kx < win->k_w; kx++) {
                    const int64_t ix = ix0 + kx * win->dil_w;
                    const FC_T *src = xn + iy * x->sh + ix * x->sw;
                    const int in = ix >= 0 && ix < x->w;
                    for (int64_t c = 0; c < s->cg; c++) dst[kx * s->cg + c] = in ? src[c] : 0;
                }
            }
        }
        fc_next_pixel(&n, &oy, &ox, y->h, y->w);
    }
}

/* For rows [m0, m1) rounded up to whole panels, the pixels at positions [m0, m1) of order
 * po (pixel_order.h): ind[panel][tap][MR] -> the channels of group g at the input pixel
 * under that tap, or the zero row; and, unless the order is row-major, crow[row] -> the
 * output pixel's values in yd (`ldy` values per pixel).  Walks pixels and taps
 * incrementally: no division per entry. */
static void FC_FN(build_indirection)(const fc_conv_desc *d, const fc_view *x, const fc_view *y,
                                     const FC_FN(igemm_dims) * s, const po_order *po, int64_t g,
                                     int64_t m0, int64_t m1, const FC_T *zero, const FC_T **ind,
                                     FC_T *yd, int64_t ldy, FC_T **crow) {
    const fc_window *win = &d->win;
    const int64_t rows = (m1 - m0 + s->mr - 1) / s->mr * s->mr;
    /* A 1x1 window at stride 1 without padding over dense images reads output pixel m's own
     * input pixel: one multiply per row instead of the walk below (which was 2.5% of
     * mbv1-pw-56, 1x56x56x128 -> 128, against 77% in the micro-kernel). */
    if (fc_is_pointwise(win, x, y) && x->sh == x->w * x->sw && x->sn == x->h * x->sh) {
        const FC_T *x0 = (const FC_T *)x->data + g * s->cg;
        for (int64_t r = 0; r < rows; r++) ind[r] = m0 + r < m1 ? x0 + (m0 + r) * x->sw : zero;
        return;
    }
    po_walk p = po_start(po, m0);
    for (int64_t r = 0; r < rows; r++) {
        const FC_T **slot = ind + (r / s->mr) * s->taps * s->mr + r % s->mr;
        if (m0 + r >= m1) {
            for (int64_t t = 0; t < s->taps; t++) slot[t * s->mr] = zero;
            continue;
        }
        if (!po->row_major) crow[r] = yd + ((p.n * y->h + p.oy) * y->w + p.ox) * ldy;
        const FC_T *xn = (const FC_T *)x->data + p.n * x->sn + g * s->cg;
        for (int64_t ky = 0, t = 0; ky < win->k_h; ky++) {
            const int64_t iy = p.oy * win->stride_h - win->pad_top + ky * win->dil_h;
            const int row_in = iy >= 0 && iy < x->h;
            for (int64_t kx = 0; kx < win->k_w; kx++, t++) {
                const int64_t ix = p.ox * win->stride_w - win->pad_left + kx * win->dil_w;
                slot[t * s->mr] =
                    (row_in && ix >= 0 && ix < x->w) ? xn + iy * x->sh + ix * x->sw : zero;
            }
        }
        po_next(po, &p);
    }
}

/* Output rows [m0, m1) (pixels of the batch) x panels [p0, p1) of group g, into the dense
 * NHWC output yd [M][out_C]; bias and activation fused after the last channel block.
 * The input's channels must be contiguous (x->sc == 1).  w: the packed weights, or with
 * `own` the HWIO filters, which the task packs itself one channel block at a time into
 * its workspace (igemm_can_pack_own, igemm_workspace), where the GEMM then reads them from
 * L2: for a call whose weights serve one pixel block only, packing them all first wrote
 * and read back every weight through memory (r50-3x3-7: 9.4 MB for 49 pixels, a third of
 * the call).  The same values in the same order: the same bits.  Returns, with `own`,
 * whether a weight was Inf or NaN (the result is then unusable, see pack_tap). */
int FC_FN(igemm_conv_block)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                            const fc_view *y, const FC_T *w, int own, const FC_T *bias, FC_T *yd,
                            int64_t m0, int64_t m1, int64_t g, int64_t p0, int64_t p1, void *ws) {
    const FC_T *wpack = w;
    const FC_FN(fc_ukernel) *uk = FC_UKERNEL(cx);
    const FC_FN(igemm_dims) s = FC_FN(dims)(cx, d, x, y);
    const int64_t rows = (m1 - m0 + s.mr - 1) / s.mr * s.mr;
    const FC_T **ind = ws;
    const int64_t j0 = p0 * s.nr, cols = (p1 * s.nr < s.og ? p1 * s.nr : s.og) - j0;

    if (s.packed) { /* one channel block: K = taps x cg, laid out as the B panels are */
        const FC_T **rows_out = ind;
        FC_T *patches = (FC_T *)(rows_out + rows);
        FC_FN(pack_patches)(d, x, y, &s, g, m0, m1, patches, rows_out);
        FC_FN(gemm_macro)(uk, m1 - m0, cols, 1, s.taps * s.cg, rows_out, 0,
                          wpack + FC_FN(panel_offset)(&s, g, 0, p0), s.taps * s.cg * s.nr,
                          yd + m0 * y->c + g * s.og + j0, y->c, NULL, 0, 1,
                          bias ? bias + g * s.og + j0 : NULL, d->activation, 0, NULL);
        return 0;
    }
    FC_T **crow = (FC_T **)(ind + rows * s.taps);
    FC_T *zero = (FC_T *)(crow + rows);
    memset(zero, 0, sizeof(FC_T) * (size_t)s.cg);
    const po_order po = po_make(&d->win, x, y, s.mr);
    FC_FN(build_indirection)(d, x, y, &s, &po, g, m0, m1, zero, ind, yd + g * s.og + j0, y->c,
                             crow);
    FC_T *block = (FC_T *)((char *)ws + FC_FN(own_offset)(&s, rows));
    int nonfinite = 0;
    for (int64_t cb = 0; cb < s.nblocks; cb++) {
        const int64_t c0 = cb * s.kcb, kc = s.cg - c0 < s.kcb ? s.cg - c0 : s.kcb;
        if (own)
            for (int64_t t = 0; t < s.taps; t++)
                nonfinite |= FC_FN(pack_tap)(&s, w, y->c, g, cb, t, p0, p1, block);
        FC_FN(gemm_macro)(uk, m1 - m0, cols, s.taps, kc, ind, c0,
                          own ? block : wpack + FC_FN(panel_offset)(&s, g, cb, p0),
                          s.taps * kc * s.nr, yd + m0 * y->c + g * s.og + j0, y->c,
                          po.row_major ? NULL : crow, cb > 0, cb == s.nblocks - 1,
                          bias ? bias + g * s.og + j0 : NULL, d->activation, 1, zero);
    }
    return nonfinite;
}

#undef IM2COL_PACK_BELOW
#undef PACK_AHEAD
