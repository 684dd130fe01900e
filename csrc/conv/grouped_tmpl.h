/* Direct convolution for narrow groups (template: FC_T, FC_SFX, and GR_ISA with GR_VBYTES):
 * as many input as output channels per group, fewer than a vector's lanes (ResNeXt's 32
 * groups of 4), so that one vector of output channels spans several whole groups.
 *
 * The GEMM (one per group, 4 columns of a 16- or 64-wide tile) and a one-group kernel (one
 * group's 4 outputs in a vector) waste most lanes.  Here a vector holds the input channels
 * [oc, oc + lanes) as they lie and og weight vectors per tap: w_r's lane l holds the weight
 * from input channel l to output channel og * g(l) + (l % og - r) % og of the same group,
 * so x * w_r holds in lane l a term of that output channel.  Each r has its own accumulator
 * over all the taps, and only the og sums are rotated into place at the end (rot_r moves
 * each group's lane (l % og + r) % og to lane l: one in-lane shuffle; none for r = 0).
 * Rotating the input instead costs og - 1 shuffles per og FMAs on every tap (a 3x3 window:
 * 9x as many), on the port that also runs half the FMAs.  Weights are packed once per call by grouped_pack.  Pixel blocks, padding and
 * edges as in blocked_tmpl.h (pixel_blocks.h).  Summation order per output value: for each
 * r the taps in (ky, kx) order, then the og sums in r order, then bias, whatever the block
 * or thread split.
 *
 * Where each group is half a vector and 8 channels (8 accumulators per pixel: 2 pixels at a
 * time with AVX-512) and the window has several taps, the broadcasts of
 * grouped_broadcast_tmpl.h run instead. */
#include "fc_epilogue_tmpl.h"
#include "pixel_blocks.h"

#define GR_FN(name) FC_CAT(FC_FN(name), GR_ISA)
#define GR_VEC FC_CAT(FC_CAT(grvec, GR_ISA), FC_SFX)
#define GR_LANES (GR_VBYTES / (int)sizeof(FC_T))
/* Pixel block: GR_PX pixels x GR_OB vectors (GR_OB only for groups of 2).  Each takes og
 * accumulators, so a block runs in chunks of pixels whose accumulators, og weight vectors
 * per output vector and an input vector fit the registers (GR_REGS): groups of 4 with
 * AVX-512 take 6 pixels' 24 accumulators at once, groups of 8 take 2 pixels at a time. */
#define GR_PX (GR_VBYTES == 64 ? 6 : 3)
#define GR_OB (GR_VBYTES == 64 ? 2 : 1)
#define GR_REGS (GR_VBYTES == 64 ? 32 : 16)
#define GR_CHUNK(OG, NV)                                                                           \
    (((GR_REGS - (OG) * (NV) - 2) / ((OG) * (NV))) > 0                                             \
         ? ((GR_REGS - (OG) * (NV) - 2) / ((OG) * (NV)))                                           \
         : 1)

/* row_chunk's pixels: og accumulators and a loaded input vector per pixel and vector, and
 * one weight vector. */
#define GR_ROW_CHUNK(OG, NV)                                                                       \
    ((GR_REGS - 1) / (((OG) + 1) * (NV)) < GR_PX ? (GR_REGS - 1) / (((OG) + 1) * (NV)) : GR_PX)

typedef FC_T GR_VEC __attribute__((vector_size(GR_VBYTES), aligned(sizeof(FC_T))));

#include "grouped_broadcast_tmpl.h"

int64_t GR_FN(grouped_lanes)(void) {
    return GR_LANES;
}

/* wr[l / lanes][tap][r][l % lanes] = the weight from input channel l (j = l % og of its
 * group) to output channel og * (l / og) + (j - r) % og: w[tap][j][that channel].  A
 * vector's weights over the whole window lie together (taps x og vectors: 2.3 KB for a 3x3
 * window in groups of 4), at offsets the kernel knows at compile time from its first. */
void GR_FN(grouped_pack)(const fc_conv_desc *d, const fc_view *y, const FC_T *w, int64_t tap,
                         FC_T *wr) {
    const int64_t o = y->c, og = o / d->groups, taps = d->win.k_h * d->win.k_w;
    if (GR_FN(broadcasts)(d, og)) {
        GR_FN(broadcast_pack)(d, y, w, tap, wr);
        return;
    }
    for (int64_t v = 0; v < o; v += GR_LANES) {
        FC_T *wt = wr + (v / GR_LANES * taps + tap) * og * GR_LANES;
        for (int64_t r = 0; r < og; r++)
            for (int64_t g = v; g < v + GR_LANES; g += og)
                for (int64_t j = 0; j < og; j++)
                    *wt++ = w[(tap * og + j) * o + g + (j >= r ? j - r : j - r + og)];
    }
}

/* Each group's lanes rotated by r: lane l takes lane og * (l / og) + (l % og + r) % og.
 * __builtin_shufflevector (GCC 12+ and Clang) wants its lane indices as literal constants:
 * one case per (og, r), which folds to the one case that applies where og and r are
 * constants (inlined), and the shuffle to one instruction. */
#define GR_ROT(OG, R, l) ((OG) * ((l) / (OG)) + ((l) % (OG) + (R)) % (OG))
#define GR_IDX2(OG, R) GR_ROT(OG, R, 0), GR_ROT(OG, R, 1)
#define GR_IDX4(OG, R) GR_IDX2(OG, R), GR_ROT(OG, R, 2), GR_ROT(OG, R, 3)
#define GR_IDX8(OG, R)                                                                             \
    GR_IDX4(OG, R), GR_ROT(OG, R, 4), GR_ROT(OG, R, 5), GR_ROT(OG, R, 6), GR_ROT(OG, R, 7)
#define GR_IDX16(OG, R)                                                                            \
    GR_IDX8(OG, R), GR_ROT(OG, R, 8), GR_ROT(OG, R, 9), GR_ROT(OG, R, 10), GR_ROT(OG, R, 11),      \
        GR_ROT(OG, R, 12), GR_ROT(OG, R, 13), GR_ROT(OG, R, 14), GR_ROT(OG, R, 15)
#if GR_VBYTES / (FC_T_IS_DOUBLE ? 8 : 4) == 16
#define GR_IDX GR_IDX16
#elif GR_VBYTES / (FC_T_IS_DOUBLE ? 8 : 4) == 8
#define GR_IDX GR_IDX8
#elif GR_VBYTES / (FC_T_IS_DOUBLE ? 8 : 4) == 4
#define GR_IDX GR_IDX4
#else
#define GR_IDX GR_IDX2
#endif
#define GR_CASE(OG, R)                                                                             \
    case (OG) * 16 + (R): return __builtin_shufflevector(v, v, GR_IDX(OG, R));
static inline
    __attribute__((always_inline)) GR_VEC GR_FN(rotate)(GR_VEC v, const int og, const int r) {
    /* The case lists as the vector widths allow, kept as written: */
    /* clang-format off */
    switch (og * 16 + r) {   /* only groups narrower than a vector run this kernel */
#if GR_VBYTES / (FC_T_IS_DOUBLE ? 8 : 4) > 2
        GR_CASE(2, 1)
#endif
#if GR_VBYTES / (FC_T_IS_DOUBLE ? 8 : 4) > 4
        GR_CASE(4, 1) GR_CASE(4, 2) GR_CASE(4, 3)
#endif
#if GR_VBYTES / (FC_T_IS_DOUBLE ? 8 : 4) > 8
        GR_CASE(8, 1) GR_CASE(8, 2) GR_CASE(8, 3) GR_CASE(8, 4) GR_CASE(8, 5) GR_CASE(8, 6)
        GR_CASE(8, 7)
#endif
    default: return v;   /* r = 0 */
    }
    /* clang-format on */
}

typedef struct {
    const fc_window *win;
    const fc_view *x, *y;
    const FC_T *xn, *wr, *bias;
    FC_T *yn;
    int64_t o;
    int og;
    fc_activation act;
} GR_FN(grouped_call);

/* The og sums of each pixel and vector of a chunk (acc[(p * nv + v) * og + r]) rotated into
 * place and added in r order, then bias and activation, stored at pixels [p0, p0 + np). */
static inline __attribute__((always_inline)) void
GR_FN(finish)(const GR_FN(grouped_call) * c, const GR_VEC *acc, const int64_t yoff,
              const int64_t ystep, const int64_t oc, const int og, const int p0, const int np,
              const int nv) {
    const FC_T *bias = c->bias ? c->bias + oc : NULL;
    /* Every loop over the registers unrolled: an array indexed at run time lives in memory,
     * and storing and reloading the 24 accumulators took a fifth of the time. */
    GR_VEC sum[GR_PX * GR_OB];
#pragma GCC unroll 32
    for (int i = 0; i < np * nv; i++) {
        sum[i] = acc[i * og];
#pragma GCC unroll 16
        for (int r = 1; r < og; r++) sum[i] += GR_FN(rotate)(acc[i * og + r], og, r);
    }
    FC_T *out = c->yn + yoff + p0 * ystep + oc;
    if (c->act == FC_ACT_NONE) { /* whole vectors (the scalar epilogue took 8% here) */
#pragma GCC unroll 32
        for (int i = 0; i < np * nv; i++) {
            const int p = i / nv, v = i % nv;
            *(GR_VEC *)(out + p * ystep + v * GR_LANES) =
                bias ? sum[i] + *(const GR_VEC *)(bias + v * GR_LANES) : sum[i];
        }
    } else {
        for (int p = 0; p < np; p++)
            FC_FN(epilogue_store)((const FC_T *)(sum + p * nv), nv * GR_LANES, bias, c->act,
                                  out + p * ystep, 1);
    }
}

/* The first of the og weight vectors of output vector oc at tap (ky, kx): the next vector's
 * lie taps * og vectors further (grouped_pack). */
static inline __attribute__((always_inline)) const GR_VEC *
GR_FN(weights)(const GR_FN(grouped_call) * c, const int64_t oc, const int og, const int64_t ky,
               const int64_t kx) {
    const int64_t taps = c->win->k_h * c->win->k_w;
    return (const GR_VEC *)(c->wr +
                            ((oc / GR_LANES * taps + ky * c->win->k_w + kx) * og) * GR_LANES);
}

/* Pixels [p0, p0 + np) of a block: og accumulators per pixel and vector, summed and
 * rotated into place at the end. */
static inline __attribute__((always_inline)) void
GR_FN(chunk)(const GR_FN(grouped_call) * c, const fc_pixel_block *b, const int64_t xoff,
             const int64_t xstep, const int64_t yoff, const int64_t ystep, const int64_t oc,
             const int og, const int p0, const int np, const int nv) {
    const fc_window *win = c->win;
    const int64_t vstep = win->k_h * win->k_w * og; /* weight vectors between output vectors */
    /* acc[(p * nv + v) * og + r]: sized as GR_CHUNK allows, so that it stays in registers */
    GR_VEC acc[GR_REGS]; /* at most GR_REGS - 1 in use (GR_CHUNK, GR_ROW_CHUNK) */
#pragma GCC unroll 32    /* not a memset of the array (rep stos took 7% of the time) */
    for (int i = 0; i < np * nv * og; i++) acc[i] = (GR_VEC){0};
    for (int64_t ky = b->ky0; ky < b->ky1; ky++) {
        for (int64_t kx = b->kx0; kx < b->kx1; kx++) {
            const FC_T *xp = c->xn + (xoff + ky * win->dil_h * c->x->sh +
                                      kx * win->dil_w * c->x->sw + p0 * xstep + oc);
            const GR_VEC *wp = GR_FN(weights)(c, oc, og, ky, kx);
            GR_VEC wv[8]; /* nv * og: 4 for groups of 2, 8 for groups of 8 */
#pragma GCC unroll 2
            for (int v = 0; v < nv; v++)
#pragma GCC unroll 8
                for (int r = 0; r < og; r++) wv[v * og + r] = wp[v * vstep + r];
#pragma GCC unroll 8
            for (int p = 0; p < np; p++)
#pragma GCC unroll 2
                for (int v = 0; v < nv; v++) {
                    const GR_VEC xv = *(const GR_VEC *)(xp + p * xstep + v * GR_LANES);
#pragma GCC unroll 16
                    for (int r = 0; r < og; r++) acc[(p * nv + v) * og + r] += xv * wv[v * og + r];
                }
        }
    }
    GR_FN(finish)(c, acc, yoff, ystep, oc, og, p0, np, nv);
}

/* chunk for a run along a row where the window is 3 wide with stride and dilation 1 along
 * the row: pixel p reads input pixels p, p + 1 and p + 2 of each kernel row, so those np +
 * 2 vectors are loaded once per kernel row and each kept for the taps that read it (np + 2
 * loads instead of 3 * np), with one weight vector at a time.  On resnext-3x3-56-g32 the
 * chunk's loads were the loop's stalls (3 per 4 FMAs, each split over two cache lines at
 * NumPy's 16-byte alignment).  The same sums in the same order as chunk's. */
static inline __attribute__((always_inline)) void
GR_FN(row_chunk)(const GR_FN(grouped_call) * c, const fc_pixel_block *b, const int64_t xoff,
                 const int64_t xstep, const int64_t yoff, const int64_t ystep, const int64_t oc,
                 const int og, const int p0, const int np, const int nv) {
    const fc_window *win = c->win;
    const int64_t vstep = win->k_h * 3 * og;
    GR_VEC acc[GR_REGS] = {{0}}; /* at most GR_REGS - 1 in use (GR_ROW_CHUNK) */
    const FC_T *x0 = c->xn + (xoff + p0 * xstep + oc);
    for (int64_t ky = b->ky0; ky < b->ky1; ky++) {
        const FC_T *xp = x0 + ky * win->dil_h * c->x->sh;
        const GR_VEC *wp = GR_FN(weights)(c, oc, og, ky, 0);
#pragma GCC unroll 3
        for (int kx = 0; kx < 3; kx++)
#pragma GCC unroll 2
            for (int v = 0; v < nv; v++)
#pragma GCC unroll 8
                for (int r = 0; r < og; r++) {
                    const GR_VEC w = wp[v * vstep + kx * og + r];
#pragma GCC unroll 8
                    for (int p = 0; p < np; p++)
                        acc[(p * nv + v) * og + r] +=
                            *(const GR_VEC *)(xp + (p + kx) * xstep + v * GR_LANES) * w;
                }
    }
    GR_FN(finish)(c, acc, yoff, ystep, oc, og, p0, np, nv);
}

/* The chunks of a block's np pixels at output vector oc: each loop's step a constant (og, np
 * and nv are), so that every chunk's pixel count is one. */
static inline __attribute__((always_inline)) void
GR_FN(chunks)(const GR_FN(grouped_call) * c, const fc_pixel_block *b, const int64_t xoff,
              const int64_t xstep, const int64_t yoff, const int64_t ystep, const int64_t oc,
              const int og, const int np, const int nv, const int row3) {
    if (row3) {
        const int step = GR_ROW_CHUNK(og, nv) < np ? GR_ROW_CHUNK(og, nv) : np;
#pragma GCC unroll 16
        for (int p0 = 0; p0 < np; p0 += step)
            GR_FN(row_chunk)(c, b, xoff, xstep, yoff, ystep, oc, og, p0,
                             np - p0 < step ? np - p0 : step, nv);
    } else {
        const int step = GR_CHUNK(og, nv) < np ? GR_CHUNK(og, nv) : np;
#pragma GCC unroll 16
        for (int p0 = 0; p0 < np; p0 += step)
            GR_FN(chunk)(c, b, xoff, xstep, yoff, ystep, oc, og, p0,
                         np - p0 < step ? np - p0 : step, nv);
    }
}

static inline __attribute__((always_inline)) void
GR_FN(block)(const GR_FN(grouped_call) * c, const fc_pixel_block *b, const int og, const int np) {
    int64_t xoff, xstep, yoff, ystep;
    fc_block_offsets(c->win, c->x, c->y, b, &xoff, &xstep, &yoff, &ystep);
    const fc_window *win = c->win;
    const int row3 = b->along_row && win->k_w == 3 && win->stride_w == 1 && win->dil_w == 1;
    /* All output channels of the block before the next block: each pixel's channels are
     * read and written whole, in address order.  One vector of channels at a time over a
     * band touched one cache line in 8 per pixel: ResNeXt's 56x56x128 3x3 in groups of 4
     * took 0.54 ms that way, 0.44 this way (before the unrolling below; 1 thread, thread CPU
     * time, AVX-512).  The weights of all channels (9 taps x 4 x 128 floats: 18 KB) stay in
     * L1. */
    for (int64_t oc = 0; oc < c->o;) {
        const int two = og == 2 && c->o - oc >= GR_OB * GR_LANES;
        const int nv = two ? GR_OB : 1;
        if (two) GR_FN(chunks)(c, b, xoff, xstep, yoff, ystep, oc, og, np, GR_OB, row3);
        else GR_FN(chunks)(c, b, xoff, xstep, yoff, ystep, oc, og, np, 1, row3);
        oc += nv * GR_LANES;
    }
}

/* block with og and np turned into constants. */
#define GR_NV(OG, NP) GR_FN(block)(c, b, OG, NP);
#define GR_NP(OG)                                                                                  \
    switch (b->np) {                                                                               \
    case 1: GR_NV(OG, 1) break;                                                                    \
    case 2: GR_NV(OG, 2) break;                                                                    \
    case 3: GR_NV(OG, 3) break;                                                                    \
    case 4: GR_NV(OG, (4 < GR_PX ? 4 : GR_PX)) break;                                              \
    case 5: GR_NV(OG, (5 < GR_PX ? 5 : GR_PX)) break;                                              \
    default: GR_NV(OG, GR_PX) break;                                                               \
    }

static void GR_FN(visit)(void *ctx, const fc_pixel_block *b) {
    const GR_FN(grouped_call) *c = ctx;
    switch (c->og) {
    case 2: GR_NP(2) break;
    case 4: GR_NP(4 < GR_LANES ? 4 : 2) break;
    default: GR_NP(8 < GR_LANES ? 8 : 2) break;
    }
}

/* A task's workspace (bytes): the broadcasts' reordered rows; the accumulators need none. */
size_t GR_FN(grouped_workspace)(const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    return GR_FN(broadcasts)(d, y->c / d->groups) ? GR_FN(broadcast_workspace)(d, x) : 0;
}

/* Output rows [oy0, oy1) of image n, with the weights packed by grouped_pack, band by band
 * of GR_PX rows: a band's edge columns run while the band's input rows are in cache. */
void GR_FN(grouped_rows)(const fc_conv_desc *d, const fc_view *x, const FC_T *wr, const FC_T *bias,
                         const fc_view *y, int64_t n, int64_t oy0, int64_t oy1, void *ws) {
    if (GR_FN(broadcasts)(d, y->c / d->groups)) {
        GR_FN(broadcast_rows)(d, x, wr, bias, y, n, oy0, oy1, ws);
        return;
    }
    GR_FN(grouped_call)
    c = {.win = &d->win,
         .x = x,
         .y = y,
         .xn = (const FC_T *)x->data + n * x->sn,
         .wr = wr,
         .yn = (FC_T *)y->data + n * y->sn,
         .o = y->c,
         .og = (int)(y->c / d->groups),
         .bias = bias,
         .act = d->activation};
    for (int64_t band = oy0; band < oy1; band += GR_PX) {
        const int64_t band_end = band + GR_PX < oy1 ? band + GR_PX : oy1;
        fc_visit_pixel_blocks(&d->win, x, y, band, band_end, GR_PX, GR_FN(visit), &c);
    }
}

#undef GR_NP
#undef GR_ROT
#undef GR_IDX2
#undef GR_IDX4
#undef GR_IDX8
#undef GR_IDX16
#undef GR_IDX
#undef GR_CASE
#undef GR_NV
#undef GR_FN
#undef GR_VEC
#undef GR_LANES
#undef GR_PX
#undef GR_OB
#undef GR_REGS
#undef GR_CHUNK
#undef GR_ROW_CHUNK
