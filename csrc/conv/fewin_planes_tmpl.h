/* A few input channels into many output channels, NCHW planes in and out (template: FC_T,
 * FC_SFX, and FP_ISA with FP_VBYTES: each ISA's file compiles the loops at its own width).
 *
 * A network's first layer in NCHW: the register-blocked kernel wants NHWC, and transposing its
 * output into planes took 39% of keras-mnist-c1's NCHW time (16-32 scattered plane rows per
 * tile, store-bound).  Here output pixels fill the vector lanes instead, as in the image
 * filter (filter_tmpl.h): a block of FP_OB output channels x FP_PV vectors of an output row's
 * pixels (vectors of several rows where a row is short) is accumulated over taps and input
 * channels, each input vector load feeding FP_OB multiply-adds, each weight FP_PV.
 *
 * The inputs of a band of output rows are first copied, per input row and channel, into
 * `stride` phase rows with the padding as zeros (phase p holds padded columns p, p + s, ...;
 * the rows above and below the image are zero rows), so that every tap reads a contiguous
 * run and every output pixel takes all taps.  With finite weights that gives the bits of the
 * kernels that skip padding taps: a zero input adds an exact +-0 to a sum that is never -0
 * (it starts at +0), under fused or separate multiply-add alike; the operator sends filters
 * holding Inf or NaN elsewhere (0 * Inf is NaN).  Summation order per output value: (ky, kx,
 * ic), then bias - the register-blocked kernel's - whatever the band or thread split. */
#include "fc_epilogue_tmpl.h"
#include "fc_gather_tmpl.h"
#if (FP_VBYTES == 64 && defined(__AVX512F__)) || (FP_VBYTES == 32 && defined(__AVX2__))
#include <immintrin.h>
#endif

#define FP_FN(name) FC_CAT(FC_FN(name), FP_ISA)
#define FP_VEC FC_CAT(FC_CAT(fpvec, FP_ISA), FC_SFX)
#define FP_IVEC FC_CAT(FC_CAT(fpivec, FP_ISA), FC_SFX)
#define FP_LANES (FP_VBYTES / (int)sizeof(FC_T))
/* The register block: FP_OB channels x FP_PV pixel vectors: 24 accumulators beside the 3
 * input vectors and a weight in AVX-512's 32 registers, 12 in the 16 of AVX2 and SSE2. */
#define FP_OB (FP_VBYTES == 64 ? 8 : 4)
#define FP_PV 3 /* spelled out in fp_block's stores */

typedef FC_T FP_VEC __attribute__((vector_size(FP_VBYTES), aligned(sizeof(FC_T))));
#if FC_T_IS_DOUBLE
typedef int64_t FP_IVEC __attribute__((vector_size(FP_VBYTES), aligned(sizeof(FC_T))));
#else
typedef int32_t FP_IVEC __attribute__((vector_size(FP_VBYTES), aligned(sizeof(FC_T))));
#endif

/* The phase-row layout of one call. */
typedef struct {
    int64_t vpr;  /* pixel vectors per output row */
    int64_t pl;   /* elements of a phase row: every tap's run of vpr vectors */
    int64_t rs;   /* elements of a buffered input row: channels x phases */
    int64_t band; /* output rows per band */
    int64_t taps; /* taps x input channels: the offset table's entries */
} FC_FN(fp_layout);

/* Input rows a band of `rows` output rows reads. */
static inline int64_t FC_FN(fp_band_inputs)(const fc_window *win, int64_t rows) {
    return (rows - 1) * win->stride_h + (win->k_h - 1) * win->dil_h + 1;
}

/* Bands whose buffered inputs take at most a quarter of L2, where every block of output
 * channels reads them (a block's k_h rows of them, in L1, serve all its taps).  Bands of
 * half of L1 were single rows on AlexNet's 11x11/4 and r50-conv1's 7x7/2, each input row
 * copied 11 / 4 and 7 / 2 times, and blocks of a row's 4 and 7 vectors left 1 over. */
static FC_FN(fp_layout) FC_FN(fp_plan)(const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    const fc_window *win = &d->win;
    const int64_t s = win->stride_w;
    FC_FN(fp_layout) g;
    g.vpr = (y->w + FP_LANES - 1) / FP_LANES;
    g.pl = g.vpr * FP_LANES + (win->k_w - 1) * win->dil_w / s;
    g.rs = x->c * s * g.pl;
    g.taps = win->k_h * win->k_w * x->c;
    const int64_t fit = (int64_t)(fc_cache_bytes(2) / 4 / sizeof(FC_T)) / g.rs;
    const int64_t extra = (win->k_h - 1) * win->dil_h + 1;
    g.band = fit > extra ? (fit - extra) / win->stride_h + 1 : 1;
    if (g.band > y->h) g.band = y->h;
    return g;
}

/* Whether this kernel beats the register-blocked one on NHWC copies (which fills all its
 * lanes with output channels, then transposes its output into the planes).  This one loses
 * the empty lanes of each row's last pixel vector: (vpr * lanes - W) / W of the
 * multiply-adds again, taps x input channels per output value; the NHWC path's layout
 * copies cost it about FP_COPY_MACS multiply-adds per output value.  So: this kernel where
 * its waste per output value is at most that.  NCHW time / NHWC time, 1 thread, thread CPU
 * time, AVX-512 (16 lanes), this kernel against the NHWC path; 3x3 SAME, 3 -> 64 channels
 * (27 multiply-adds per output): width 4 (waste 81 per output) 2.9 against 1.2, 8 (27)
 * 2.1 against 1.4, 17 (24) 1.8 against 1.5, 20 (16) 1.65 against 1.57, 33 (12) 1.41
 * against 1.42, 12 (9) 1.37 against 1.47, 56 (4) 1.04 against 1.50; keras-mnist-c1 (2)
 * 1.13 against 1.5-2.2, lenet-c1 (4) 1.06 against 1.5-1.8, r50-conv1 (0) 1.0 against
 * 1.3-1.5, AlexNet 11x11/4 (60: 363 multiply-adds per output, 55 of 64 lanes) 1.15-1.21
 * against 1.08-1.20.  The NHWC path's copies, (its ratio - 1) x the multiply-adds per
 * output, came to 11-15 on the 3x3 layers, 5-20 on the first layers. */
#define FP_COPY_MACS 12
int FP_FN(fewin_planes_pays)(const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    const int64_t lanes = (y->w + FP_LANES - 1) / FP_LANES * FP_LANES;
    return (lanes - y->w) * d->win.k_h * d->win.k_w * x->c <= FP_COPY_MACS * y->w;
}
#undef FP_COPY_MACS

/* Bytes of the tables before the buffer: the taps' input offsets, and per pixel vector of
 * a band its input and output offsets and stored lanes; whole vectors, so that the buffer
 * after them stays aligned. */
static inline size_t FC_FN(fp_table_bytes)(const FC_FN(fp_layout) * g) {
    const size_t entries = (size_t)(g->taps + 3 * g->band * g->vpr);
    return (entries * sizeof(int64_t) + FP_VBYTES - 1) / FP_VBYTES * FP_VBYTES;
}

size_t FP_FN(fewin_planes_workspace)(const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    const FC_FN(fp_layout) g = FC_FN(fp_plan)(d, x, y);
    return FC_FN(fp_table_bytes)(&g) +
           sizeof(FC_T) * (size_t)(FC_FN(fp_band_inputs)(&d->win, g.band) * g.rs);
}

/* Padded input row r (input row r - pad_top) of image xn into its phase rows at dst. */
static void FC_FN(fp_fill)(const fc_conv_desc *d, const fc_view *x, const FC_T *xn, int64_t iy,
                           const FC_FN(fp_layout) * g, FC_T *dst) {
    const int64_t s = d->win.stride_w, pad = d->win.pad_left, pl = g->pl;
    if (iy < 0 || iy >= x->h) { /* a row of the padding */
        for (int64_t j = 0; j < g->rs; j++) dst[j] = 0;
        return;
    }
    for (int64_t ic = 0; ic < x->c; ic++) {
        const FC_T *src = xn + (iy * x->sh + ic * x->sc);
        for (int64_t p = 0; p < s; p++, dst += pl) {
            /* element j is input column p + j * s - pad: real for j in [lo, hi) */
            int64_t lo = pad > p ? (pad - p + s - 1) / s : 0;
            if (lo > pl) lo = pl;
            int64_t hi = x->w + pad > p ? (x->w + pad - p + s - 1) / s : 0;
            if (hi > pl) hi = pl;
            if (hi < lo) hi = lo;
            for (int64_t j = 0; j < lo; j++) dst[j] = 0;
            if (hi > lo) FC_FN(gather)(dst + lo, src + (p - pad + lo * s), s, hi - lo);
            for (int64_t j = hi; j < pl; j++) dst[j] = 0;
        }
    }
}

/* ReLU and ReLU6 in the vector, as fc_epilogue_tmpl.h computes them (NaN and -0 pass
 * through); other activations are the shared epilogue's (fp_block). */
static inline __attribute__((always_inline)) FP_VEC FC_FN(fp_relu)(FP_VEC v, fc_activation act) {
    if (act == FC_ACT_RELU || act == FC_ACT_RELU6) v = FC_VEC_RELU(v);
    if (act == FC_ACT_RELU6) {
        const FP_IVEC big = (FP_IVEC)(v > (FC_T)6);
        v = (FP_VEC)(((FP_IVEC)v & ~big) | ((FP_IVEC)((FP_VEC){0} + (FC_T)6) & big));
    }
    return v;
}

/* The first `count` lanes of v to dst. */
static inline __attribute__((always_inline)) void FC_FN(fp_put)(FP_VEC v, FC_T *dst,
                                                                int64_t count) {
    if (count == FP_LANES) {
        *(FP_VEC *)dst = v;
        return;
    }
    /* A row's last vector: one masked store on x86 (element by element it was a memcpy call,
     * 40% of keras-mnist-c1's time, or a branch per lane). */
#if FP_VBYTES == 64 && defined(__AVX512F__)
    const unsigned mask = (1u << count) - 1;
#if FC_T_IS_DOUBLE
    _mm512_mask_storeu_pd(dst, (__mmask8)mask, (__m512d)v);
#else
    _mm512_mask_storeu_ps(dst, (__mmask16)mask, (__m512)v);
#endif
#elif FP_VBYTES == 32 && defined(__AVX2__)
    FP_IVEC lane;
    for (int i = 0; i < FP_LANES; i++) lane[i] = i;
    const FP_IVEC mask = lane < (FP_IVEC){0} + (int)count;
#if FC_T_IS_DOUBLE
    _mm256_maskstore_pd(dst, (__m256i)mask, (__m256d)v);
#else
    _mm256_maskstore_ps(dst, (__m256i)mask, (__m256)v);
#endif
#else
    for (int i = 0; i < FP_LANES; i++)
        if (i < count) dst[i] = v[i];
#endif
}

/* nc output channels (weights w[t * o + c], outputs ys[p] + c * sc) x np pixel vectors
 * (inputs xs[p] + tab[t], count[p] of their lanes stored), over the taps x input channels
 * t in [0, nt).  np and nc are constants at every call (FP_CALL): the accumulators live in
 * registers. */
static inline __attribute__((always_inline)) void
FC_FN(fp_block)(const FC_T *const *xs, FC_T *const *ys, const int64_t *count, const int64_t *tab,
                int64_t nt, const FC_T *w, int64_t o, const FC_T *bias, fc_activation act,
                int64_t sc, const int np, const int nc) {
    FP_VEC acc[FP_OB][FP_PV];
    for (int c = 0; c < nc; c++)
        for (int p = 0; p < np; p++) acc[c][p] = (FP_VEC){0};
    for (int64_t t = 0; t < nt; t++, w += o) {
        const int64_t off = tab[t];
        FP_VEC xv[FP_PV];
        for (int p = 0; p < np; p++) xv[p] = *(const FP_VEC *)(xs[p] + off);
        for (int c = 0; c < nc; c++) {
            const FC_T wc = w[c];
            for (int p = 0; p < np; p++) acc[c][p] += xv[p] * wc;
        }
    }
    /* Bias, ReLU and stores straight from the registers, channel by channel spelled out
     * (constant indices): a loop over the channels, or a call of the shared epilogue on the
     * way, kept the accumulators on the stack (24 spills and reloads a block).  Sigmoid and
     * tanh are then applied in place (the epilogue adds no bias there: v + 0 is v). */
    const fc_activation relu = act == FC_ACT_RELU || act == FC_ACT_RELU6 ? act : FC_ACT_NONE;
#define FP_PUT(C, P)                                                                               \
    if (P < np) FC_FN(fp_put)(FC_FN(fp_relu)(acc[C][P] + b, relu), ys[P] + C * sc, count[P])
#define FP_OUT(C)                                                                                  \
    do {                                                                                           \
        if (C < nc) {                                                                              \
            const FC_T b = bias ? bias[C] : (FC_T)0;                                               \
            FP_PUT(C, 0);                                                                          \
            FP_PUT(C, 1);                                                                          \
            FP_PUT(C, 2);                                                                          \
        }                                                                                          \
    } while (0)
    FP_OUT(0);
    FP_OUT(1);
    FP_OUT(2);
    FP_OUT(3);
#if FP_OB > 4
    FP_OUT(4);
    FP_OUT(5);
    FP_OUT(6);
    FP_OUT(7);
#endif
#undef FP_OUT
#undef FP_PUT
    if (act == FC_ACT_SIGMOID || act == FC_ACT_TANH)
        for (int c = 0; c < nc; c++)
            for (int p = 0; p < np; p++)
                FC_FN(epilogue_store)(ys[p] + c * sc, count[p], NULL, act, ys[p] + c * sc, 1);
}

#define FP_CALL(NP, NC) FC_FN(fp_block)(xs, ys, count, tab, nt, w, o, bias, act, sc, NP, NC)
#define FP_NC(NP)                                                                                  \
    switch (nc) {                                                                                  \
    case 1: FP_CALL(NP, 1); break;                                                                 \
    case 2: FP_CALL(NP, 2); break;                                                                 \
    case 3: FP_CALL(NP, 3); break;                                                                 \
    case 4: FP_CALL(NP, 4); break;                                                                 \
    case 5: FP_CALL(NP, FP_OB > 4 ? 5 : 4); break;                                                 \
    case 6: FP_CALL(NP, FP_OB > 4 ? 6 : 4); break;                                                 \
    case 7: FP_CALL(NP, FP_OB > 4 ? 7 : 4); break;                                                 \
    default: FP_CALL(NP, FP_OB); break;                                                            \
    }

static void FC_FN(fp_run)(const FC_T *const *xs, FC_T *const *ys, const int64_t *count,
                          const int64_t *tab, int64_t nt, const FC_T *w, int64_t o,
                          const FC_T *bias, fc_activation act, int64_t sc, int np, int nc) {
    switch (np) {
    case 1: FP_NC(1) break;
    case 2: FP_NC(2) break;
    default: FP_NC(FP_PV) break;
    }
}

/* Output rows [oy0, oy1) of image n, in bands: the band's inputs into phase rows, then each
 * block of output channels over the band's pixel vectors, FP_PV at a time (row-major, so a
 * short row's vectors share a block with the next row's). */
void FP_FN(fewin_planes_rows)(const fc_conv_desc *d, const fc_view *x, const FC_T *w,
                              const FC_T *bias, const fc_view *y, int64_t n, int64_t oy0,
                              int64_t oy1, FC_T *ws) {
    const fc_window *win = &d->win;
    const FC_FN(fp_layout) g = FC_FN(fp_plan)(d, x, y);
    int64_t *tab = (int64_t *)(void *)ws, *xoff = tab + g.taps, *yoff = xoff + g.band * g.vpr;
    int64_t *count = yoff + g.band * g.vpr;
    FC_T *buf = (FC_T *)(void *)((char *)ws + FC_FN(fp_table_bytes)(&g));
    const int64_t s = win->stride_w, o = y->c, nt = g.taps;
    for (int64_t ky = 0, t = 0; ky < win->k_h; ky++)
        for (int64_t kx = 0; kx < win->k_w; kx++)
            for (int64_t ic = 0; ic < x->c; ic++, t++) {
                const int64_t q = kx * win->dil_w;
                tab[t] = ky * win->dil_h * g.rs + (ic * s + q % s) * g.pl + q / s;
            }
    const FC_T *xn = (const FC_T *)x->data + n * x->sn;
    FC_T *yn = (FC_T *)y->data + n * y->sn;
    for (int64_t b0 = oy0; b0 < oy1; b0 += g.band) {
        const int64_t b1 = b0 + g.band < oy1 ? b0 + g.band : oy1;
        const int64_t iy0 = b0 * win->stride_h - win->pad_top;
        for (int64_t r = 0; r < FC_FN(fp_band_inputs)(win, b1 - b0); r++)
            FC_FN(fp_fill)(d, x, xn, iy0 + r, &g, buf + r * g.rs);
        const int64_t slots = (b1 - b0) * g.vpr;
        for (int64_t row = 0, i = 0; row < b1 - b0; row++)
            for (int64_t j = 0; j < y->w; j += FP_LANES, i++) {
                xoff[i] = row * win->stride_h * g.rs + j;
                yoff[i] = (b0 + row) * y->sh + j;
                count[i] = y->w - j < FP_LANES ? y->w - j : FP_LANES;
            }
        for (int64_t oc = 0; oc < o; oc += FP_OB) {
            const int nc = o - oc < FP_OB ? (int)(o - oc) : FP_OB;
            FC_T *yc = yn + oc * y->sc;
            for (int64_t s0 = 0; s0 < slots; s0 += FP_PV) {
                const int np = slots - s0 < FP_PV ? (int)(slots - s0) : FP_PV;
                const FC_T *xs[FP_PV];
                FC_T *ys[FP_PV];
                for (int p = 0; p < np; p++) {
                    xs[p] = buf + xoff[s0 + p];
                    ys[p] = yc + yoff[s0 + p];
                }
                FC_FN(fp_run)(xs, ys, count + s0, tab, nt, w + oc, o, bias ? bias + oc : NULL,
                              d->activation, y->sc, np, nc);
            }
        }
    }
}

#undef FP_CALL
#undef FP_NC
#undef FP_FN
#undef FP_VEC
#undef FP_IVEC
#undef FP_LANES
#undef FP_OB
#undef FP_PV
