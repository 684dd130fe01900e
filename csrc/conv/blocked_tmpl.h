/* Register-blocked direct convolution (template: FC_T, FC_SFX, and BK_ISA with BK_VBYTES:
 * each ISA's file compiles the loops at its own vector width).  Any window, stride,
 * dilation, padding and channel count, as long as each group's output channels are whole
 * vectors; the input's channels contiguous, the output dense NHWC.
 *
 * As in oneDNN's direct NHWC kernels, output channels fill the vector lanes and up to BK_PX
 * output pixels are register-blocked: for each tap and input channel, BK_OB filter vectors
 * are loaded once and each pixel's input value is broadcast against them.  Padding is
 * handled by tap ranges, never by a padded copy (padding taps contribute nothing, even
 * against an infinite weight): a block holds pixels that share their valid taps - a run of
 * a row's interior pixels, or an edge column's pixels over consecutive output rows whose
 * vertical taps agree - so no pixel is computed alone unless it is the only one of its kind,
 * and such pixels (corners) run as blocks across the images where a task has several.
 * With 1-2 input channels a row of taps is one run of inputs (merged taps), and on AVX-512
 * layers of at most 2 vectors of output channels take blocks of 12 pixels (run_wide) when
 * their taps are merged or read runs of 16 input channels or more.
 * Summation order per output value: (ky, kx, ic), then bias, whatever the block or the
 * thread split. */
#include "fc_epilogue_tmpl.h"
#include "pixel_blocks.h"

#define BK_FN(name) FC_CAT(FC_FN(name), BK_ISA)
#define BK_VEC FC_CAT(FC_CAT(bkvec, BK_ISA), FC_SFX)
#define BK_LANES (BK_VBYTES / (int)sizeof(FC_T))
/* Register block: BK_PX pixels x BK_OB vectors of output channels: 12 accumulators, which
 * with the filter vectors and a broadcast fit the 16 registers of AVX2 (and of SSE2); 24
 * in AVX-512's 32. */
#define BK_PX FC_BLOCKED_BAND
#define BK_OB (BK_VBYTES == 64 ? 4 : 2)
/* The wide register block of AVX-512 (run_wide): 12 pixels x 2 vectors, the same 24
 * accumulators, for at most 2 vectors of output channels, where the 6 x 4 block would hold
 * only 12 (6 with 1 vector: fewer independent sums than the FMA units' latency x ports).
 * Merged taps: lenet-c1 (32 channels) 0.83 ms against 0.99, keras-mnist-c1 0.26 against
 * 0.27.  Unmerged taps whose runs hold at least BK_WCG input channels (1 thread, min of 25
 * interleaved runs): 8x28x28x16 3x3 -> 16 0.25 ms against 0.31, 4x32x32x32 3x3 -> 16 0.26
 * against 0.30, lenet-c2's input gradient (64 x 14x14x64 5x5 -> 32) 8.16 against 8.34; not
 * shorter runs: with 3 channels a tap (7x7/2 -> 32 on 112x112) 3-24% slower.  Not on AVX2:
 * 12 pixels x 1 vector spills the pixels' input offsets (lenet-c1 3.6 ms against 2.7). */
#define BK_WIDE (BK_VBYTES == 64)
#define BK_WPX 12
#define BK_WOB 2
#define BK_WCG 16
/* Single pixels (an image's corners, whose taps no other pixel of a row or column shares:
 * 16 of LeNet's 14x14 with a 5x5 window) run BK_SQ at a time, each over its own taps and
 * weights in (ky, kx, ic) order, among those whose windows have the same shape (taps down
 * x across): alone, a pixel's nv accumulator chains wait on the FMA latency (lenet-c2's
 * input gradient spent 9% of its samples in that loop).  Up to BK_SG shapes wait at a time
 * (a 5x5 window on a 2-pixel border: 4 shapes, each 4 times an image).  1 thread, min of
 * 25 interleaved runs, the same bits: lenet-c2's input gradient 11.48 ms against 12.07
 * (a loaded machine), r50-3x3-7 4.99 against 5.24; larger images unchanged. */
#define BK_SQ 4
#define BK_SG 4
/* BK_FEW: in run_block's blocks, taps of 3 or 4 input channels (an RGB or RGBA first layer,
 * whose taps are not merged) run with the channel count a constant, so each tap's run
 * unrolls, and the input and weight pointers step from tap to tap instead of being computed
 * from (ky, kx) per tap: the FMA loops held 88% of the samples, the loop over 3 channels and
 * the offset products most of the rest.  1 thread, AVX-512, the same bits, paired calls
 * against the previous build in one process (min of 100): r50-conv1 1.48 ms against 1.59,
 * AlexNet 11x11/4 0.84 against 0.92, lenet-c2 (32 channels, stepped only) 1-2% faster;
 * constant channels alone: 1x224x224x4 7x7/2 -> 64 2.01 against 2.13, AVX2 2-3%.  run_wide
 * keeps the per-tap offsets: lenet-c1 (its merged 12-pixel blocks, which do not use them)
 * ran 5% slower when run_wide stepped them too. */

typedef FC_T BK_VEC __attribute__((vector_size(BK_VBYTES), aligned(sizeof(FC_T))));

/* A pixel's nv accumulators out to yp: bias and activation in registers for none and ReLU
 * (the same operations, so the same bits, as epilogue_store's loop, which they skip: it read
 * the accumulators back from the stack they were spilled to); the other activations through
 * epilogue_store.  NaN passes ReLU (its compare is false). */
static inline __attribute__((always_inline)) void
BK_FN(store)(const BK_VEC *acc, const int nv, const FC_T *bias, fc_activation act, FC_T *yp) {
    if (act != FC_ACT_NONE && act != FC_ACT_RELU) {
        FC_FN(epilogue_store)((const FC_T *)acc, nv * BK_LANES, bias, act, yp, 1);
        return;
    }
    for (int v = 0; v < nv; v++) {
        BK_VEC r = acc[v];
        if (bias) r += *(const BK_VEC *)(bias + v * BK_LANES);
        if (act == FC_ACT_RELU) r = FC_VEC_RELU(r);
        *(BK_VEC *)(yp + v * BK_LANES) = r;
    }
}

int64_t BK_FN(blocked_lanes)(void) {
    return BK_LANES;
}

/* Output channels of one register block: the unit of a task's slice of the channels. */
int64_t BK_FN(blocked_block_channels)(void) {
    return BK_OB * BK_LANES;
}

/* What the blocks of one call share, and (from oc on) of one pass over them. */
typedef struct {
    const FC_T *xn;       /* the image's input */
    int64_t tap_h, tap_w; /* input offset of one tap down / right (dilation x stride) */
    int64_t k_w, cg, o;   /* taps per filter row, input channels per group, out_C */
    fc_activation act;
    const fc_window *win;
    const fc_view *x, *y;
    FC_T *yn;                 /* the image's output */
    int64_t oc, x0, ic0, ic1; /* output channels from oc, the group's input channel x0 and */
    int nv;                   /* input channels [ic0, ic1) of it, nv vectors of outputs */
    int merge, wide;          /* taps' channel runs merged (block); the wide block (run_wide) */
    int px;                   /* pixels of a block (BK_PX, or BK_WPX when wide) */
    int64_t images;           /* images whose single pixels run as blocks across them, or 0 */
    const FC_T *w, *bias;     /* the weights and bias of output channel oc */
    /* single-pixel blocks waiting for BK_SQ - 1 more of their window's shape (singles) */
    struct {
        int n;
        int64_t kh, kw, xoff[BK_SQ], yoff[BK_SQ], ky0[BK_SQ], kx0[BK_SQ];
    } sq[BK_SG];
} BK_FN(blocked_call);

/* acc[p][v] += xp[p * xstep + j] * wp[j * o + v * lanes ..] for j in [0, len): a run of
 * consecutive inputs of each pixel (one tap's channels, or a row of taps' channels) against
 * the weight rows they meet, in order. */
static inline __attribute__((always_inline)) void BK_FN(run)(BK_VEC (*acc)[4], const FC_T *xp,
                                                             int64_t xstep, const FC_T *wp,
                                                             int64_t o, int64_t len, const int np,
                                                             const int nv) {
    for (const FC_T *end = xp + len; xp < end; xp++, wp += o) {
        BK_VEC wv[4];
        for (int v = 0; v < nv; v++) wv[v] = *(const BK_VEC *)(wp + v * BK_LANES);
        for (int p = 0; p < np; p++) {
            const FC_T xv = xp[p * xstep];
            for (int v = 0; v < nv; v++) acc[p][v] += xv * wv[v];
        }
    }
}

/* run over taps [ky0, ky1) x [kx0, kx1), each a run of len input channels from ic0.  With
 * step (BK_FEW) the input and weight pointers step from tap to tap, from the first valid
 * tap; without, each tap's offsets are computed from (ky, kx) before its pointers are
 * formed. */
static inline __attribute__((always_inline)) void
BK_FN(taps)(const BK_FN(blocked_call) * c, BK_VEC (*acc)[4], int64_t xoff, int64_t xstep,
            const FC_T *w, int64_t ky0, int64_t ky1, int64_t kx0, int64_t kx1, int64_t ic0,
            const int64_t len, const int np, const int nv, const int step) {
    const int64_t o = c->o, tap_w = c->tap_w, w_tap = c->cg * o, w_row = c->k_w * w_tap;
    if (!step) {
        for (int64_t ky = ky0; ky < ky1; ky++)
            for (int64_t kx = kx0; kx < kx1; kx++)
                BK_FN(run)(acc, c->xn + (xoff + ky * c->tap_h + kx * tap_w + ic0), xstep,
                           w + ((ky * c->k_w + kx) * c->cg + ic0) * o, o, len, np, nv);
        return;
    }
    if (ky0 >= ky1 || kx0 >= kx1) return; /* no tap: the origin may lie in the padding */
    const FC_T *xr = c->xn + (xoff + ky0 * c->tap_h + kx0 * tap_w + ic0);
    const FC_T *wr = w + (ky0 * w_row + kx0 * w_tap + ic0 * o);
    for (int64_t ky = ky0; ky < ky1; ky++, xr += c->tap_h, wr += w_row) {
        const FC_T *xp = xr, *wp = wr;
        for (int64_t kx = kx0; kx < kx1; kx++, xp += tap_w, wp += w_tap)
            BK_FN(run)(acc, xp, xstep, wp, o, len, np, nv);
    }
}

/* np pixels (input offsets xoff + p * xstep at tap (0, 0), outputs yp + p * ystep) times nv
 * vectors of output channels (weights w[tap][ic][0 .. nv * lanes), rows o apart), over taps
 * [ky0, ky1) x [kx0, kx1) and input channels [ic0, ic1).  The first channel chunk starts
 * from zero, later ones from the partial sums stored in the output; the last applies bias
 * and activation.  np and nv are constants at every call (BK_CALL), so the loops unroll
 * completely and the accumulators live in registers; so is few (BK_FEW: 1 in run_block, 0 in
 * run_wide).  Offsets are summed before the pointer is formed: the block's origin may lie in
 * the padding. */
static inline __attribute__((always_inline)) void
BK_FN(block)(const BK_FN(blocked_call) * c, int64_t xoff, int64_t xstep, const FC_T *w,
             const FC_T *bias, FC_T *yp, int64_t ystep, const int np, const int nv, int64_t ky0,
             int64_t ky1, int64_t kx0, int64_t kx1, int64_t ic0, int64_t ic1, const int few) {
    const int64_t cg = c->cg, o = c->o;
    BK_VEC acc[BK_WIDE ? BK_WPX : BK_PX][4];
    for (int p = 0; p < np; p++)
        for (int v = 0; v < nv; v++)
            acc[p][v] = ic0 == 0 ? (BK_VEC){0} : *(BK_VEC *)(yp + p * ystep + v * BK_LANES);
    /* The block's output lines, fetched for writing while it computes: stored cold at its
     * end, the 24 lines of a 6 x 4 block filled the store buffer and stalled the next block
     * (r50-conv1, 3.2 MB of output: 4.2% of its samples on the next block's first
     * instructions, 1.2% with this; 1 thread, AMD Zen 4, about 1.5% faster). */
    if (ic0 == 0)
        for (int p = 0; p < np; p++)
            for (int v = 0; v < nv; v += 64 / BK_VBYTES)
                __builtin_prefetch(yp + p * ystep + v * BK_LANES, 1, 3);
    if (c->merge && ic0 == 0 && ic1 == cg) { /* taps along a row: one run of inputs */
        for (int64_t ky = ky0; ky < ky1; ky++)
            BK_FN(run)(acc, c->xn + (xoff + ky * c->tap_h + kx0 * cg), xstep,
                       w + (ky * c->k_w + kx0) * cg * o, o, (kx1 - kx0) * cg, np, nv);
    } else {
        const int64_t len = ic1 - ic0;
        if (few && len == 3) /* BK_FEW */
            BK_FN(taps)(c, acc, xoff, xstep, w, ky0, ky1, kx0, kx1, ic0, 3, np, nv, 1);
        else if (few && len == 4)
            BK_FN(taps)(c, acc, xoff, xstep, w, ky0, ky1, kx0, kx1, ic0, 4, np, nv, 1);
        else BK_FN(taps)(c, acc, xoff, xstep, w, ky0, ky1, kx0, kx1, ic0, len, np, nv, few);
    }
    for (int p = 0; p < np; p++) {
        if (ic1 < cg) {
            for (int v = 0; v < nv; v++) *(BK_VEC *)(yp + p * ystep + v * BK_LANES) = acc[p][v];
        } else {
            BK_FN(store)(acc[p], nv, bias, c->act, yp + p * ystep);
        }
    }
}

/* block with np (1..BK_PX) and nv (1..BK_OB) turned into constants. */
#define BK_BLOCK(NP, NV, FEW)                                                                      \
    BK_FN(block)(c, xoff, xstep, w, bias, yp, ystep, NP, NV, ky0, ky1, kx0, kx1, ic0, ic1, FEW)
#define BK_NV(NP)                                                                                  \
    switch (nv) {                                                                                  \
    case 1: BK_BLOCK(NP, 1, few); break;                                                           \
    case 2: BK_BLOCK(NP, 2, few); break;                                                           \
    case 3: BK_BLOCK(NP, 3, few); break;                                                           \
    default: BK_BLOCK(NP, 4, few); break;                                                          \
    }

static inline __attribute__((always_inline)) void
BK_FN(run_np)(const BK_FN(blocked_call) * c, int64_t xoff, int64_t xstep, const FC_T *w,
              const FC_T *bias, FC_T *yp, int64_t ystep, int np, int nv, int64_t ky0, int64_t ky1,
              int64_t kx0, int64_t kx1, int64_t ic0, int64_t ic1, const int few) {
    switch (np) {
    case 1: BK_NV(1) break;
    case 2: BK_NV(2) break;
    case 3: BK_NV(3) break;
    case 4: BK_NV(4) break;
    case 5: BK_NV(5) break;
    default: BK_NV(6) break;
    }
}

/* The blocks of BK_PX pixels, and apart from them those of merged taps (run_merged): their
 * loop then has its own copy, without BK_FEW's beside it (on AVX2, whose 16 registers it
 * fills, lenet-c1 ran 6% slower in one function with them). */
static void BK_FN(run_block)(const BK_FN(blocked_call) * c, int64_t xoff, int64_t xstep,
                             const FC_T *w, const FC_T *bias, FC_T *yp, int64_t ystep, int np,
                             int nv, int64_t ky0, int64_t ky1, int64_t kx0, int64_t kx1,
                             int64_t ic0, int64_t ic1) {
    BK_FN(run_np)(c, xoff, xstep, w, bias, yp, ystep, np, nv, ky0, ky1, kx0, kx1, ic0, ic1, 1);
}

#if BK_WIDE
#define BK_NVW(NP)                                                                                 \
    switch (nv) {                                                                                  \
    case 1: BK_BLOCK(NP, 1, 0); break;                                                             \
    default: BK_BLOCK(NP, BK_WOB, 0); break;                                                       \
    }

static void BK_FN(run_wide)(const BK_FN(blocked_call) * c, int64_t xoff, int64_t xstep,
                            const FC_T *w, const FC_T *bias, FC_T *yp, int64_t ystep, int np,
                            int nv, int64_t ky0, int64_t ky1, int64_t kx0, int64_t kx1, int64_t ic0,
                            int64_t ic1) {
    switch (np) {
    case 1: BK_NVW(1) break;
    case 2: BK_NVW(2) break;
    case 3: BK_NVW(3) break;
    case 4: BK_NVW(4) break;
    case 5: BK_NVW(5) break;
    case 6: BK_NVW(6) break;
    case 7: BK_NVW(7) break;
    case 8: BK_NVW(8) break;
    case 9: BK_NVW(9) break;
    case 10: BK_NVW(10) break;
    case 11: BK_NVW(11) break;
    default: /* a unit step (1 channel, stride 1: lenet-c1) compiled as a constant: the 12
              * broadcasts then address off one register, where 12 run-time offsets left 6
              * on the stack (lenet-c1 0.95x the time, 1 thread, AMD Zen 4) */
        if (xstep == 1) BK_NVW(12)
        else BK_NVW(12)
        break;
    }
}
#undef BK_NVW
#define BK_RUN(c) ((c)->wide ? BK_FN(run_wide) : (c)->merge ? BK_FN(run_merged) : BK_FN(run_block))
#else
#define BK_RUN(c) ((c)->merge ? BK_FN(run_merged) : BK_FN(run_block))
#endif

static void BK_FN(run_merged)(const BK_FN(blocked_call) * c, int64_t xoff, int64_t xstep,
                              const FC_T *w, const FC_T *bias, FC_T *yp, int64_t ystep, int np,
                              int nv, int64_t ky0, int64_t ky1, int64_t kx0, int64_t kx1,
                              int64_t ic0, int64_t ic1) {
    BK_FN(run_np)(c, xoff, xstep, w, bias, yp, ystep, np, nv, ky0, ky1, kx0, kx1, ic0, ic1, 0);
}

/* np single pixels of group q (constants np, nv): pixel p's taps [ky0, ky0 + kh) x [kx0,
 * kx0 + kw) and input channels [ic0, ic1), in block's order and with its stores. */
static inline __attribute__((always_inline)) void
BK_FN(singles)(const BK_FN(blocked_call) * c, int q, const int np, const int nv) {
    const int64_t cg = c->cg, o = c->o, ic0 = c->ic0, ic1 = c->ic1;
    BK_VEC acc[BK_SQ][4];
    FC_T *yp[BK_SQ];
    for (int p = 0; p < np; p++) {
        yp[p] = c->yn + c->sq[q].yoff[p] + c->oc;
        for (int v = 0; v < nv; v++)
            acc[p][v] = ic0 == 0 ? (BK_VEC){0} : *(BK_VEC *)(yp[p] + v * BK_LANES);
    }
    for (int64_t i = 0; i < c->sq[q].kh; i++)
        for (int64_t j = 0; j < c->sq[q].kw; j++) {
            const FC_T *xp[BK_SQ], *wp[BK_SQ];
            for (int p = 0; p < np; p++) {
                const int64_t ky = c->sq[q].ky0[p] + i, kx = c->sq[q].kx0[p] + j;
                xp[p] = c->xn + (c->x0 + c->sq[q].xoff[p] + ky * c->tap_h + kx * c->tap_w + ic0);
                wp[p] = c->w + ((ky * c->k_w + kx) * cg + ic0) * o;
            }
            for (int64_t ic = 0; ic < ic1 - ic0; ic++)
                for (int p = 0; p < np; p++) {
                    const FC_T xv = xp[p][ic];
                    for (int v = 0; v < nv; v++)
                        acc[p][v] += xv * *(const BK_VEC *)(wp[p] + ic * o + v * BK_LANES);
                }
        }
    for (int p = 0; p < np; p++) {
        if (ic1 < cg) {
            for (int v = 0; v < nv; v++) *(BK_VEC *)(yp[p] + v * BK_LANES) = acc[p][v];
        } else {
            BK_FN(store)(acc[p], nv, c->bias, c->act, yp[p]);
        }
    }
}

/* Runs group q's waiting pixels and empties it. */
static void BK_FN(singles_flush)(BK_FN(blocked_call) * c, int q) {
#define BK_SQ_NV(NP)                                                                               \
    switch (c->nv) {                                                                               \
    case 1: BK_FN(singles)(c, q, NP, 1); break;                                                    \
    case 2: BK_FN(singles)(c, q, NP, 2); break;                                                    \
    case 3: BK_FN(singles)(c, q, NP, 3); break;                                                    \
    default: BK_FN(singles)(c, q, NP, 4); break;                                                   \
    }
    switch (c->sq[q].n) {
    case 0: break;
    case 1: BK_SQ_NV(1) break;
    case 2: BK_SQ_NV(2) break;
    case 3: BK_SQ_NV(3) break;
    default: BK_SQ_NV(4) break;
    }
#undef BK_SQ_NV
    c->sq[q].n = 0;
}

static void BK_FN(visit)(void *ctx, const fc_pixel_block *b) {
    BK_FN(blocked_call) *c = ctx;
    int64_t xoff, xstep, yoff, ystep;
    if (b->np == 1 && c->images) return; /* in visit_singles, across the images */
    fc_block_offsets(c->win, c->x, c->y, b, &xoff, &xstep, &yoff, &ystep);
    if (b->np == 1 && !c->merge) { /* wait for pixels of its window's shape (BK_SQ) */
        const int64_t kh = b->ky1 - b->ky0, kw = b->kx1 - b->kx0;
        int q = 0;
        while (q < BK_SG && c->sq[q].n && (c->sq[q].kh != kh || c->sq[q].kw != kw)) q++;
        if (q == BK_SG) BK_FN(singles_flush)(c, q = 0); /* every group waits on another shape */
        const int p = c->sq[q].n++;
        c->sq[q].kh = kh, c->sq[q].kw = kw;
        c->sq[q].xoff[p] = xoff, c->sq[q].yoff[p] = yoff;
        c->sq[q].ky0[p] = b->ky0, c->sq[q].kx0[p] = b->kx0;
        if (c->sq[q].n == BK_SQ) BK_FN(singles_flush)(c, q);
        return;
    }
    BK_RUN(c)(c, c->x0 + xoff, xstep, c->w, c->bias, c->yn + yoff + c->oc, ystep, b->np, c->nv,
              b->ky0, b->ky1, b->kx0, b->kx1, c->ic0, c->ic1);
}

/* A single pixel (a block of one: a corner) of c->images consecutive images, which share
 * its taps and weights: blocks of up to px pixels one image apart (split evenly), as a
 * row's interior is.  lenet-c2 (64 x 14x14x32 5x5 -> 64) spent 10% of its time on its 16
 * corners an image (5% of its multiply-adds) when they ran BK_SQ at a time (singles), each
 * pixel over its own weights. */
static void BK_FN(visit_singles)(void *ctx, const fc_pixel_block *b) {
    const BK_FN(blocked_call) *c = ctx;
    if (b->np != 1) return;
    int64_t xoff, xstep, yoff, ystep;
    fc_block_offsets(c->win, c->x, c->y, b, &xoff, &xstep, &yoff, &ystep);
    const int64_t sx = c->x->sn, sy = c->y->sn, blocks = (c->images + c->px - 1) / c->px;
    for (int64_t i = 0; i < blocks; i++) {
        const int64_t a = c->images * i / blocks, e = c->images * (i + 1) / blocks;
        BK_RUN(c)(c, c->x0 + xoff + a * sx, sx, c->w, c->bias, c->yn + yoff + a * sy + c->oc, sy,
                  (int)(e - a), c->nv, b->ky0, b->ky1, b->kx0, b->kx1, c->ic0, c->ic1);
    }
}

/* The pixel blocks of rows [oy0, oy1) in bands of band_rows, each in passes over chunks of
 * the input channels (blocked_rows). */
static void BK_FN(rows_pass)(BK_FN(blocked_call) * c, int64_t oy0, int64_t oy1, int64_t band_rows,
                             int64_t chunk, void (*visit)(void *, const fc_pixel_block *)) {
    for (int64_t band = oy0; band < oy1; band += band_rows) {
        const int64_t band_end = band + band_rows < oy1 ? band + band_rows : oy1;
        for (c->ic0 = 0; c->ic0 < c->cg; c->ic0 = c->ic1) {
            c->ic1 = c->ic0 + chunk < c->cg ? c->ic0 + chunk : c->cg;
            fc_visit_pixel_blocks(c->win, c->x, c->y, band, band_end, c->px, visit, c);
            for (int q = 0; q < BK_SG; q++) BK_FN(singles_flush)(c, q);
        }
    }
}

/* Output rows [oy0, oy1) of images [n0, n1) and output channels [oc0, oc1) (whole vectors), in
 * bands of BK_PX rows, each in passes over chunks of the input channels whose weights (for
 * one block of output channels) take at most an eighth of L2, so that they stay there while
 * every pixel block of the band reads them; the band's partial sums wait in the output (in
 * cache) between passes.  Unchunked, the weights came from memory for every block of 6
 * pixels where they outgrow L2 (1.2 MB per 64 output channels on r50-3x3-7: 7.3 ms, 4.3
 * chunked).  Chunks of half of L1 were slower (5x5 layers: 3 channels a pass), and so were
 * chunks sized for 4 vectors of output channels where the block has 2 (run_wide): lenet-c2's
 * input gradient (64 channels, 5x5, 32 out) ran passes of 40 + 24 channels, a tap's loop the
 * shorter, 7.3 ms against 6.8 in one pass.  Neither the rows nor the channels of a task
 * change any output's summation order. */
void BK_FN(blocked_rows)(const fc_conv_desc *d, const fc_view *x, const FC_T *w, const FC_T *bias,
                         const fc_view *y, int64_t n0, int64_t n1, int64_t oy0, int64_t oy1,
                         int64_t oc0, int64_t oc1) {
    const fc_window *win = &d->win;
    const int64_t cg = x->c / d->groups, og = y->c / d->groups;
    const int64_t l2 = (int64_t)fc_cache_bytes(2);
    const int64_t tap_bytes = win->k_h * win->k_w * BK_OB * BK_VBYTES; /* per channel */
    /* Channels a pass (for BK_OB vectors of outputs): all of the group's where their weights
     * fit in half of L2, else an eighth of L2's worth.  One pass stores and reloads no
     * partial sums and runs each tap's loop over all the channels: on a 1 MiB L2 (AMD Zen 4,
     * 1 thread, min of alternating processes) alexnet-c2-g2 (2 x 48 channels, 300 KB a block)
     * 3.67 ms against 3.79 in passes of 20 + 20 + 8, lenet-c2 (32 channels, 200 KB) 9.44
     * against 9.75 in 20 + 12. */
    const int64_t chunk4 = fc_blocked_one_pass(win, cg, BK_OB * BK_VBYTES) ? cg
                           : l2 / 8 / tap_bytes > 1                        ? l2 / 8 / tap_bytes
                                                                           : 1;
    /* A small image's rows in one band when their partial sums fit beside the weights: each
     * band reads all the weights, and r50-3x3-7's bands of 6 + 1 rows read its 9.4 MB
     * twice: 5.1 ms at 1 thread, 3.9 ms in one band. */
    const int64_t band_bytes = (oy1 - oy0) * y->w * BK_OB * BK_VBYTES;
    BK_FN(blocked_call)
    c = {.tap_h = win->dil_h * x->sh,
         .tap_w = win->dil_w * x->sw,
         .k_w = win->k_w,
         .cg = cg,
         .o = y->c,
         .act = d->activation,
         .win = win,
         .x = x,
         .y = y};
    /* With 1 or 2 input channels (a first layer on gray images) and no dilation, a block's
     * taps along a row read one run of (kx, ic) inputs and weights: one loop instead of a
     * loop over kx around one over 1-2 channels (AVX2: lenet-c1 2.75 ms against 3.17,
     * keras-mnist-c1 0.71 against 0.86; 2 channels, 4x56x56 5x5 -> 64: 0.67 against 0.71
     * on AVX-512).  Not with 3: the merged loop's input offsets and bounds then spill from
     * the general registers (AlexNet 11x11/4 1.07 ms against 1.02, AVX-512). */
    c.merge = c.tap_w == cg && cg <= 2;
    /* a tap's run of inputs: a chunk of the channels */
    const int64_t run_len = cg < chunk4 ? cg : chunk4;
    c.wide = BK_WIDE && (c.merge || run_len >= BK_WCG) && og <= BK_WOB * BK_LANES;
    const int ob = c.wide ? BK_WOB : BK_OB;
    const int64_t chunk = chunk4 * BK_OB / ob; /* the block's weights: an eighth of L2 */
    c.px = c.wide ? BK_WPX : BK_PX;
    /* One pass over the channels leaves no partial sums waiting in a band: the whole range is
     * then one band too, so that an edge column's blocks run as long as the interior's
     * (BK_WPX rows on lenet-c1, whose 28 rows of 32 channels made bands of 6 rows on a 1 MiB
     * L2). */
    const int64_t band_rows = chunk >= cg || band_bytes <= l2 / 8 ? oy1 - oy0 : BK_PX;
    /* Single pixels across the images from BK_SQ of them: fewer fill a block no better than
     * the singles' groups of BK_SQ pixels of one window shape do. */
    c.images = n1 - n0 >= BK_SQ ? n1 - n0 : 0;
    for (int64_t oc = oc0; oc < oc1; oc += c.nv * BK_LANES) {
        /* channels left in the group and in the slice: whole vectors */
        const int64_t g = oc / og, in_group = og - oc % og;
        const int64_t left = in_group < oc1 - oc ? in_group : oc1 - oc;
        c.nv = left < ob * BK_LANES ? (int)(left / BK_LANES) : ob;
        c.oc = oc;
        c.w = w + oc;
        c.bias = bias ? bias + oc : NULL;
        c.x0 = g * cg;
        for (int64_t n = n0; n < n1; n++) {
            c.xn = (const FC_T *)x->data + n * x->sn;
            c.yn = (FC_T *)y->data + n * y->sn;
            BK_FN(rows_pass)(&c, oy0, oy1, band_rows, chunk, BK_FN(visit));
        }
        if (c.images) { /* the single pixels, from image n0's */
            c.xn = (const FC_T *)x->data + n0 * x->sn;
            c.yn = (FC_T *)y->data + n0 * y->sn;
            BK_FN(rows_pass)(&c, oy0, oy1, band_rows, chunk, BK_FN(visit_singles));
        }
    }
}

#undef BK_NV
#undef BK_BLOCK
#undef BK_FN
#undef BK_VEC
#undef BK_LANES
#undef BK_PX
#undef BK_OB
#undef BK_WIDE
#undef BK_WPX
#undef BK_WOB
#undef BK_WCG
#undef BK_SQ
#undef BK_SG
#undef BK_RUN
