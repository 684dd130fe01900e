/* Direct convolution for narrow groups (template: FC_T, FC_SFX, and GR_ISA with GR_VBYTES):
 * as many input as output channels per group, fewer than a vector's lanes (ResNeXt's 32
 * groups of 4), so that one vector of output channels spans several whole groups.
 *
 * The GEMM (one per group, 4 columns of a 16- or 64-wide tile) and a one-group kernel (one
 * group's 4 outputs in a vector) waste most lanes.  Here a vector holds output channels
 * [oc, oc + lanes) and the input vector of the same channels: output lane l needs input
 * lanes of its own group only, g(l) * og + j for j < og.  Writing j = (l % og + r) % og, the
 * sum over j is a sum over r of rot_r(input) * w_r, where rot_r rotates each group's lanes
 * by r (one in-lane shuffle; none for r = 0) and w_r holds each lane's weight for the input
 * channel rotated onto it (packed once per call by grouped_pack).  Pixel blocks, padding
 * and edges as in blocked_tmpl.h (pixel_blocks.h).  Summation order per output value: (ky,
 * kx, r), then bias, whatever the block or thread split.
 *
 * Where each group is half a vector (r would take 7 shuffles per 8 FMAs with AVX-512) and
 * the window has several taps, the broadcasts of grouped_broadcast_tmpl.h run instead. */
#include "fc_epilogue_tmpl.h"
#include "pixel_blocks.h"

#define GR_FN(name) FC_CAT(FC_FN(name), GR_ISA)
#define GR_VEC FC_CAT(FC_CAT(grvec, GR_ISA), FC_SFX)
#define GR_LANES (GR_VBYTES / (int)sizeof(FC_T))
/* Register block: GR_PX pixels x GR_OB vectors, each with its input vector: 24 registers
 * of AVX-512's 32; 6 of the 16 of AVX2 and SSE2. */
#define GR_PX (GR_VBYTES == 64 ? 6 : 3)
#define GR_OB (GR_VBYTES == 64 ? 2 : 1)

typedef FC_T GR_VEC __attribute__((vector_size(GR_VBYTES), aligned(sizeof(FC_T))));

#include "grouped_broadcast_tmpl.h"

int64_t GR_FN(grouped_lanes)(void) {
    return GR_LANES;
}

/* wr[tap][r][oc] = the weight of output channel oc for the input channel of its group
 * rotated onto its lane by r: w[tap][(oc % og + r) % og][oc]. */
void GR_FN(grouped_pack)(const fc_conv_desc *d, const fc_view *y, const FC_T *w, int64_t tap,
                         FC_T *wr) {
    const int64_t o = y->c, og = o / d->groups;
    if (GR_FN(broadcasts)(d, og)) {
        GR_FN(broadcast_pack)(d, y, w, tap, wr);
        return;
    }
    for (int64_t r = 0; r < og; r++)
        for (int64_t oc = 0; oc < o; oc++)
            wr[(tap * og + r) * o + oc] = w[(tap * og + (oc % og + r) % og) * o + oc];
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
    int64_t o, oc;
    int og, nv;
    fc_activation act;
} GR_FN(grouped_call);

static inline __attribute__((always_inline)) void GR_FN(block)(const GR_FN(grouped_call) * c,
                                                               const fc_pixel_block *b,
                                                               const int og, const int np,
                                                               const int nv) {
    const fc_window *win = c->win;
    int64_t xoff, xstep, yoff, ystep;
    fc_block_offsets(win, c->x, c->y, b, &xoff, &xstep, &yoff, &ystep);
    const int64_t o = c->o, oc = c->oc;
    GR_VEC acc[GR_PX][GR_OB];
    for (int p = 0; p < np; p++)
        for (int v = 0; v < nv; v++) acc[p][v] = (GR_VEC){0};
    for (int64_t ky = b->ky0; ky < b->ky1; ky++) {
        for (int64_t kx = b->kx0; kx < b->kx1; kx++) {
            const FC_T *xp =
                c->xn + (xoff + ky * win->dil_h * c->x->sh + kx * win->dil_w * c->x->sw + oc);
            const FC_T *wp = c->wr + (ky * win->k_w + kx) * og * o + oc;
            GR_VEC xv[GR_PX][GR_OB];
            for (int p = 0; p < np; p++)
                for (int v = 0; v < nv; v++)
                    xv[p][v] = *(const GR_VEC *)(xp + p * xstep + v * GR_LANES);
            /* unrolled, so that each rotation's mask is a constant */
#pragma GCC unroll 16
            for (int r = 0; r < og; r++) {
                GR_VEC wv[GR_OB];
                for (int v = 0; v < nv; v++) wv[v] = *(const GR_VEC *)(wp + r * o + v * GR_LANES);
                for (int p = 0; p < np; p++)
                    for (int v = 0; v < nv; v++)
                        acc[p][v] += GR_FN(rotate)(xv[p][v], og, r) * wv[v];
            }
        }
    }
    for (int p = 0; p < np; p++)
        FC_FN(epilogue_store)((const FC_T *)acc[p], nv * GR_LANES, c->bias, c->act,
                              c->yn + yoff + p * ystep + oc, 1);
}

/* block with og, np and nv turned into constants. */
#define GR_NV(OG, NP)                                                                              \
    if (c->nv == 1) GR_FN(block)(c, b, OG, NP, 1);                                                 \
    else GR_FN(block)(c, b, OG, NP, GR_OB);
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

/* A task's workspace (bytes): the broadcasts' reordered rows; the rotations need none. */
size_t GR_FN(grouped_workspace)(const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    return GR_FN(broadcasts)(d, y->c / d->groups) ? GR_FN(broadcast_workspace)(d, x) : 0;
}

/* Output rows [oy0, oy1) of image n, with the weights packed by grouped_pack, band by band
 * of GR_PX rows: all blocks of output channels of a band read the band's input while it is
 * in cache, and the band's output is written whole. */
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
         .act = d->activation};
    for (int64_t band = oy0; band < oy1; band += GR_PX) {
        const int64_t band_end = band + GR_PX < oy1 ? band + GR_PX : oy1;
        for (int64_t oc = 0; oc < y->c; oc += c.nv * GR_LANES) {
            c.oc = oc;
            c.nv = y->c - oc >= GR_OB * GR_LANES ? GR_OB : 1;
            c.bias = bias ? bias + oc : NULL;
            fc_visit_pixel_blocks(&d->win, x, y, band, band_end, GR_PX, GR_FN(visit), &c);
        }
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
