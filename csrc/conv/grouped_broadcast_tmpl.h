/* The narrow-group kernel's second way (included by grouped_tmpl.h, whose GR_FN, GR_VEC and
 * GR_LANES it uses): broadcasts, where each group's channels are half a vector's lanes
 * (G = 2 groups per vector), 8 or more, and the window has several taps.
 *
 * The lanes are ordered output channel first: lane o * G + g holds output channel o of the
 * vector's group g.  Input channel j of every group is then the same G values (channel j of
 * each group) repeated og times: one broadcast load from an input whose channels are
 * reordered the same way (j * G + g within each vector), which a task writes once per band of
 * rows into its workspace.  Every FMA costs one load and no shuffle, and one shuffle per
 * output vector, after all taps, restores the channel order.  On 32 groups of 8 (28x28x256,
 * 3x3, AVX-512) that ran 1.5x as fast as grouped_tmpl.h's per-r accumulators (0.34 ms
 * against 0.51: 8 accumulators and 8 weight vectors per pixel leave room for 2 pixels at a
 * time); on groups of 4 in half a vector the accumulators won (56x56x128 3x3: AVX2 0.94 ms
 * against 1.94, AVX-512 float64 0.82 against 0.98; 1 thread, thread CPU time).  Summation
 * order per output value: (ky, kx, j), then bias. */
#include <string.h>

#if GR_VBYTES == 64 || GR_VBYTES == 32
#include <immintrin.h>
#endif

#define GB_PP_LANES (GR_VBYTES / (FC_T_IS_DOUBLE ? 8 : 4)) /* GR_LANES, for #if */
#define GB_DVEC FC_CAT(FC_CAT(gbdvec, GR_ISA), FC_SFX)     /* doubles, for splats */
/* Register block: GB_PX pixels x GB_OB vectors of accumulators, 16 of AVX-512's 32; 3 of
 * one vector with AVX2 and SSE2's 16. */
#define GB_PX (GR_VBYTES == 64 ? 8 : 3)
#define GB_OB (GR_VBYTES == 64 ? 2 : 1)
#define GB_G 2 /* groups per vector */

typedef double GB_DVEC __attribute__((vector_size(GR_VBYTES)));

/* Whether the broadcasts run: og half the lanes and at least 8, several taps. */
static int GR_FN(broadcasts)(const fc_conv_desc *d, int64_t og) {
    return GB_G * og == GR_LANES && og >= 8 && d->win.k_h * d->win.k_w > 1;
}

/* Lane lists for __builtin_shufflevector, which wants literal constants. */
#define GB_L2(F, A) F(A, 0), F(A, 1)
#define GB_L4(F, A) GB_L2(F, A), F(A, 2), F(A, 3)
#define GB_L8(F, A) GB_L4(F, A), F(A, 4), F(A, 5), F(A, 6), F(A, 7)
#define GB_L16(F, A)                                                                               \
    GB_L8(F, A), F(A, 8), F(A, 9), F(A, 10), F(A, 11), F(A, 12), F(A, 13), F(A, 14), F(A, 15)
/* Lane l of the lanes read as rows of A, transposed into rows of 2 (and back with the other). */
#define GB_TO_BC(A, l) (((l) % GB_G) * (A) + (l) / GB_G)
#define GB_FROM_BC(A, l) (((l) % (A)) * GB_G + (l) / (A))

/* An input vector (channel j of group g at lane g * og + j) in the broadcast order (lane
 * j * G + g), and accumulators (lane o * G + g) back to channel order (g * og + o). */
#if GB_PP_LANES >= 4
#if GB_PP_LANES == 16
#define GB_LIST GB_L16
#elif GB_PP_LANES == 8
#define GB_LIST GB_L8
#else
#define GB_LIST GB_L4
#endif
static inline __attribute__((always_inline)) GR_VEC GR_FN(to_broadcast_order)(GR_VEC v) {
    return __builtin_shufflevector(v, v, GB_LIST(GB_TO_BC, GB_PP_LANES / GB_G));
}
static inline __attribute__((always_inline)) GR_VEC GR_FN(to_channel_order)(GR_VEC v) {
    return __builtin_shufflevector(v, v, GB_LIST(GB_FROM_BC, GB_PP_LANES / GB_G));
}
#else /* 2 lanes: og would be 1, which the grouped kernel never takes */
static inline GR_VEC GR_FN(to_broadcast_order)(GR_VEC v) {
    return v;
}
static inline GR_VEC GR_FN(to_channel_order)(GR_VEC v) {
    return v;
}
#endif

/* The 2 values at p, repeated across the vector: one broadcast load.  By bytes: 8 as a
 * double splat (a move: no arithmetic, so any bits, NaN payloads and -0 included, pass
 * unchanged), 16 by the x86 broadcast loads.  GCC turns the portable form (a narrower
 * vector widened by __builtin_shufflevector) into a zeroed stack slot, a store and a wider
 * reload: a failed store forwarding per FMA, 20x slower. */
static inline __attribute__((always_inline)) GR_VEC GR_FN(broadcast)(const FC_T *p) {
    if (sizeof(FC_T) == 4) {
        double d;
        memcpy(&d, p, sizeof d);
#define GB_D(A, l) A
#if GR_VBYTES == 64
        return (GR_VEC)(GB_DVEC){GB_L8(GB_D, d)};
#elif GR_VBYTES == 32
        return (GR_VEC)(GB_DVEC){GB_L4(GB_D, d)};
#else
        return (GR_VEC)(GB_DVEC){GB_L2(GB_D, d)};
#endif
#undef GB_D
    }
#if GR_VBYTES == 64 && defined(__AVX512F__)
    return (GR_VEC)_mm512_broadcast_f32x4(_mm_loadu_ps((const float *)p));
#elif GR_VBYTES == 32 && defined(__AVX__)
    return (GR_VEC)_mm256_broadcast_ps((const __m128 *)p);
#else
    GR_VEC v; /* float64 in 16-byte vectors: 2 lanes, never run (see above) */
    for (int l = 0; l < GR_LANES; l++) v[l] = p[l % GB_G];
    return v;
#endif
}

/* wr[tap][j][oc] in the output-channel-first lane order: lane o * G + g of the vector at
 * oc0 takes input channel j's weight for output channel oc0 + g * og + o. */
static void GR_FN(broadcast_pack)(const fc_conv_desc *d, const fc_view *y, const FC_T *w,
                                  int64_t tap, FC_T *wr) {
    const int64_t o = y->c, og = o / d->groups;
    for (int64_t j = 0; j < og; j++)
        for (int64_t oc = 0; oc < o; oc++) {
            const int64_t oc0 = oc - oc % GR_LANES, l = oc % GR_LANES;
            wr[(tap * og + j) * o + oc] = w[(tap * og + j) * o + oc0 + l % GB_G * og + l / GB_G];
        }
}

/* A task's workspace: one band's reordered input rows. */
static size_t GR_FN(broadcast_workspace)(const fc_conv_desc *d, const fc_view *x) {
    const fc_window *w = &d->win;
    const int64_t rows = (FC_GROUPED_BAND - 1) * w->stride_h + (w->k_h - 1) * w->dil_h + 1;
    return sizeof(FC_T) * (size_t)((rows < x->h ? rows : x->h) * x->w * x->c);
}

typedef struct {
    const fc_window *win;
    fc_view xs;   /* the block's reordered input rows, image coordinates */
    int64_t row0; /* xs's first row */
    const fc_view *y;
    const FC_T *xb, *wr, *bias;
    FC_T *yn;
    int64_t o, oc;
    int nv;
    fc_activation act;
} GR_FN(broadcast_call);

static inline __attribute__((always_inline)) void
GR_FN(broadcast_block)(const GR_FN(broadcast_call) * c, const fc_pixel_block *b, const int np,
                       const int nv) {
    const fc_window *win = c->win;
    const int og = GR_LANES / GB_G;
    int64_t xoff, xstep, yoff, ystep;
    fc_block_offsets(win, &c->xs, c->y, b, &xoff, &xstep, &yoff, &ystep);
    const int64_t o = c->o, oc = c->oc;
    GR_VEC acc[GB_PX][GB_OB];
    for (int p = 0; p < np; p++)
        for (int v = 0; v < nv; v++) acc[p][v] = (GR_VEC){0};
    for (int64_t ky = b->ky0; ky < b->ky1; ky++) {
        for (int64_t kx = b->kx0; kx < b->kx1; kx++) {
            const FC_T *xp = c->xb + (xoff - c->row0 * c->xs.sh + ky * win->dil_h * c->xs.sh +
                                      kx * win->dil_w * c->xs.sw);
            const FC_T *wp = c->wr + (ky * win->k_w + kx) * og * o + oc;
#pragma GCC unroll 8
            for (int j = 0; j < og; j++) {
                GR_VEC wv[GB_OB];
                for (int v = 0; v < nv; v++) wv[v] = *(const GR_VEC *)(wp + j * o + v * GR_LANES);
                for (int p = 0; p < np; p++)
                    for (int v = 0; v < nv; v++)
                        acc[p][v] +=
                            GR_FN(broadcast)(xp + p * xstep + v * GR_LANES + j * GB_G) * wv[v];
            }
        }
    }
    for (int p = 0; p < np; p++) {
        for (int v = 0; v < nv; v++) acc[p][v] = GR_FN(to_channel_order)(acc[p][v]);
        FC_FN(epilogue_store)((const FC_T *)acc[p], nv * GR_LANES, c->bias, c->act,
                              c->yn + yoff + p * ystep + oc, 1);
    }
}

/* broadcast_block with np and nv turned into constants. */
#define GB_NV(NP)                                                                                  \
    if (c->nv == 1) GR_FN(broadcast_block)(c, b, NP, 1);                                           \
    else GR_FN(broadcast_block)(c, b, NP, GB_OB);
#define GB_NP_CASE(N)                                                                              \
    case N: GB_NV((N < GB_PX ? N : GB_PX)) break;

static void GR_FN(broadcast_visit)(void *ctx, const fc_pixel_block *b) {
    const GR_FN(broadcast_call) *c = ctx;
    switch (b->np) {
        GB_NP_CASE(1)
        GB_NP_CASE(2)
        GB_NP_CASE(3)
        GB_NP_CASE(4)
        GB_NP_CASE(5)
        GB_NP_CASE(6)
        GB_NP_CASE(7)
    default: GB_NV(GB_PX) break;
    }
}

/* Input rows [iy0, iy1) of image xn into xb, block by block of output channels (as
 * broadcast_rows splits them): the rows of the block at channel ch, with nc channels, at
 * xb + (iy1 - iy0) * x->w * ch, dense, in the broadcast order.  Each input pixel is read
 * whole, once (a block at a time took 27% of the kernel's time on ResNeXt's layer). */
static void GR_FN(reorder_rows)(const fc_view *x, const FC_T *xn, int64_t iy0, int64_t iy1,
                                FC_T *xb) {
    const int64_t rows = iy1 - iy0, full = GB_OB * GR_LANES;
    for (int64_t iy = iy0; iy < iy1; iy++)
        for (int64_t ix = 0; ix < x->w; ix++) {
            const FC_T *src = xn + iy * x->sh + ix * x->sw;
            const int64_t px = (iy - iy0) * x->w + ix;
            for (int64_t ch = 0; ch < x->c; ch += GR_LANES) {
                const int64_t ch0 = ch - ch % full; /* the block's first channel */
                const int64_t nc = x->c - ch0 >= full ? full : GR_LANES;
                GR_VEC v;
                memcpy(&v, src + ch, sizeof v);
                v = GR_FN(to_broadcast_order)(v);
                memcpy(xb + rows * x->w * ch0 + px * nc + (ch - ch0), &v, sizeof v);
            }
        }
}

/* grouped_rows for the broadcasts: band by band of FC_GROUPED_BAND rows, the band's input
 * rows reordered into ws, then all blocks of output channels of the band read them while
 * they are in cache. */
static void GR_FN(broadcast_rows)(const fc_conv_desc *d, const fc_view *x, const FC_T *wr,
                                  const FC_T *bias, const fc_view *y, int64_t n, int64_t oy0,
                                  int64_t oy1, void *ws) {
    const fc_window *win = &d->win;
    const FC_T *xn = (const FC_T *)x->data + n * x->sn;
    GR_FN(broadcast_call)
    c = {.win = win,
         .y = y,
         .wr = wr,
         .yn = (FC_T *)y->data + n * y->sn,
         .o = y->c,
         .act = d->activation};
    for (int64_t band = oy0; band < oy1; band += FC_GROUPED_BAND) {
        const int64_t band_end = band + FC_GROUPED_BAND < oy1 ? band + FC_GROUPED_BAND : oy1;
        const int64_t lo = band * win->stride_h - win->pad_top;
        const int64_t hi =
            (band_end - 1) * win->stride_h - win->pad_top + (win->k_h - 1) * win->dil_h + 1;
        c.row0 = lo > 0 ? lo : 0;
        const int64_t rows =
            (hi < x->h ? hi : x->h) - c.row0 > 0 ? (hi < x->h ? hi : x->h) - c.row0 : 0;
        GR_FN(reorder_rows)(x, xn, c.row0, c.row0 + rows, ws);
        for (int64_t oc = 0; oc < y->c; oc += c.nv * GR_LANES) {
            c.oc = oc;
            c.nv = y->c - oc >= GB_OB * GR_LANES ? GB_OB : 1;
            c.bias = bias ? bias + oc : NULL;
            const int64_t nc = c.nv * GR_LANES;
            c.xb = (const FC_T *)ws + rows * x->w * oc;
            c.xs = (fc_view){NULL, 1, x->h, x->w, nc, 0, x->w * nc, nc, 1};
            fc_visit_pixel_blocks(win, &c.xs, y, band, band_end, GB_PX, GR_FN(broadcast_visit), &c);
        }
    }
}

#undef GB_NV
#undef GB_NP_CASE
#undef GB_L2
#undef GB_L4
#undef GB_L8
#undef GB_L16
#undef GB_LIST
#undef GB_TO_BC
#undef GB_FROM_BC
#undef GB_PP_LANES
#undef GB_DVEC
#undef GB_PX
#undef GB_OB
#undef GB_G
