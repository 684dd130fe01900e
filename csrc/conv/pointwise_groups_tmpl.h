/* 1x1 convolutions (stride 1, no padding) whose groups are PG_NV vectors of output channels,
 * on NHWC pixels (template: FC_T, FC_SFX, and PG_ISA with PG_VBYTES).  Only AVX-512 runs
 * it (pointwise_groups.c): ShuffleNet's 3 groups of 80 channels are five zmm vectors, which
 * the register-blocked kernel (blocked_tmpl.h) covers as a 6 x 4 block and then a 6 x 1 one,
 * whose 6 accumulator chains wait on the FMA latency, one broadcast per FMA.  Here a block
 * is PG_PX pixels x all PG_NV vectors: 25 accumulators and 5 weight vectors in 30 of the 32
 * registers, the input values broadcast from memory by the FMAs, 10 loads per 25 FMAs.  A
 * 1x1 window maps output pixel p to input pixel p, so blocks run along the image's pixels
 * across row ends (the blocked kernel's blocks stop at each row's end: 28 = 4 x 6 + 4).
 * Per output value: acc = 0, acc += x[ic] * w[ic] for ic ascending, then bias, as the
 * blocked kernel, the GEMM and the NCHW 1x1 kernel sum: the same bits. */
#include "fc_epilogue_tmpl.h"

#define PG_FN(name) FC_CAT(FC_FN(name), PG_ISA)
#define PG_VEC FC_CAT(FC_CAT(pgvec, PG_ISA), FC_SFX)
#define PG_LANES (PG_VBYTES / (int)sizeof(FC_T))
#define PG_NV 5
#define PG_PX 5

typedef FC_T PG_VEC __attribute__((vector_size(PG_VBYTES), aligned(sizeof(FC_T))));

/* np pixels (inputs xp + p * xs, outputs yp + p * ys) x the group's PG_NV vectors of output
 * channels (weights w[ic * o ..], o apart), over its cg input channels; np is a constant at
 * every call, so the accumulators live in registers. */
static inline __attribute__((always_inline)) void
PG_FN(pg_block)(const FC_T *xp, int64_t xs, const FC_T *w, int64_t o, int64_t cg, const FC_T *bias,
                fc_activation act, FC_T *yp, int64_t ys, const int np) {
    PG_VEC acc[PG_PX][PG_NV];
    for (int p = 0; p < np; p++)
        for (int v = 0; v < PG_NV; v++) acc[p][v] = (PG_VEC){0};
    for (int64_t ic = 0; ic < cg; ic++) {
        PG_VEC wv[PG_NV];
        for (int v = 0; v < PG_NV; v++) wv[v] = *(const PG_VEC *)(w + ic * o + v * PG_LANES);
        for (int p = 0; p < np; p++) {
            const FC_T xv = xp[p * xs + ic];
            for (int v = 0; v < PG_NV; v++) acc[p][v] += xv * wv[v];
        }
    }
    for (int p = 0; p < np; p++)
        FC_FN(epilogue_store)((const FC_T *)acc[p], PG_NV * PG_LANES, bias, act, yp + p * ys, 1);
}

void PG_FN(pointwise_groups_rows)(const fc_conv_desc *d, const fc_view *x, const FC_T *w,
                                  const FC_T *bias, const fc_view *y, int64_t n, int64_t oy0,
                                  int64_t oy1) {
    const int64_t o = y->c, cg = x->c / d->groups, og = o / d->groups;
    const int64_t xs = x->sw, ys = y->sw, p1 = oy1 * y->w;
    const FC_T *xn = (const FC_T *)x->data + n * x->sn;
    FC_T *yn = (FC_T *)y->data + n * y->sn;
    for (int64_t g = 0; g < d->groups; g++) {
        const FC_T *xg = xn + g * cg, *wg = w + g * og, *bg = bias ? bias + g * og : NULL;
        FC_T *yg = yn + g * og;
        int64_t p = oy0 * y->w;
#define PG_BLOCK(NP)                                                                               \
    PG_FN(pg_block)(xg + p * xs, xs, wg, o, cg, bg, d->activation, yg + p * ys, ys, NP)
        for (; p + PG_PX <= p1; p += PG_PX) PG_BLOCK(PG_PX);
        switch (p1 - p) { /* the last pixels */
        case 1: PG_BLOCK(1); break;
        case 2: PG_BLOCK(2); break;
        case 3: PG_BLOCK(3); break;
        case 4: PG_BLOCK(4); break;
        default: break;
        }
#undef PG_BLOCK
    }
}

#undef PG_FN
#undef PG_VEC
#undef PG_LANES
#undef PG_NV
#undef PG_PX
