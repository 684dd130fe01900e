/* Direct convolution for few input channels (1 to FC_FEWCH_MAX_C), one group, output
 * channels a multiple of the vector width (template: FC_T, FC_SFX, and FW_ISA with
 * FW_VBYTES: each ISA's file compiles the loops at its own vector width).
 *
 * A network's first layer (1 or 3 channels in, 32 or 64 out) leaves the GEMM's reduction
 * only C x taps long and its packing dominant.  Here, as in oneDNN's direct NHWC kernels,
 * output channels fill the vector lanes and FW_PX output pixels of a row are register-
 * blocked: for each tap and input channel, FW_OB filter vectors are loaded once and each
 * pixel's input value is broadcast against them.  Pixels whose taps all lie inside the
 * input row go FW_PX at a time; edge pixels one at a time with their own tap range (padding
 * taps skipped).  Summation order per output value: (ky, kx, ic), then bias, the same in
 * both paths and whatever the thread split. */
#include "fc_epilogue_tmpl.h"

#define FW_FN(name) FC_CAT(FC_FN(name), FW_ISA)
#define FW_VEC FC_CAT(FC_CAT(fwvec, FW_ISA), FC_SFX)
#define FW_LANES (FW_VBYTES / (int)sizeof(FC_T))
/* Register block: FW_PX pixels x FW_OB vectors of output channels: 12 accumulators, which
 * with the filter vectors and a broadcast fit the 16 registers of AVX2 (and of SSE2); 24
 * in AVX-512's 32. */
#define FW_PX 6
#define FW_OB (FW_VBYTES == 64 ? 4 : 2)

typedef FC_T FW_VEC __attribute__((vector_size(FW_VBYTES), aligned(sizeof(FC_T))));

int64_t FW_FN(fewch_lanes)(void) { return FW_LANES; }

/* Output pixels [ox, ox + np) of row oy, channels [oc, oc + nv * FW_LANES), taps kx in
 * [kx0, kx1) of rows [ky0, ky1).  np and nv are constants at every call (fw_call), so the
 * block's loops unroll completely and its accumulators live in registers. */
static inline __attribute__((always_inline)) void FC_FN(fw_block)(
    const fc_conv_desc *d, const fc_view *x, const FC_T *xn, const FC_T *w, const FC_T *bias,
    const fc_view *y, FC_T *yrow, int64_t oy, int64_t ox, const int np, int64_t oc,
    const int nv, int64_t ky0, int64_t ky1, int64_t kx0, int64_t kx1) {
    const fc_window *win = &d->win;
    const int64_t c_in = x->c, o = y->c, px_step = win->stride_w * x->sw;
    FW_VEC acc[FW_PX][4];
    for (int p = 0; p < np; p++)
        for (int v = 0; v < nv; v++) acc[p][v] = (FW_VEC){0};
    for (int64_t ky = ky0; ky < ky1; ky++) {
        const int64_t iy = oy * win->stride_h - win->pad_top + ky * win->dil_h;
        for (int64_t kx = kx0; kx < kx1; kx++) {
            const int64_t ix = ox * win->stride_w - win->pad_left + kx * win->dil_w;
            const FC_T *xp = xn + iy * x->sh + ix * x->sw;
            const FC_T *wp = w + (ky * win->k_w + kx) * c_in * o + oc;
            for (int64_t ic = 0; ic < c_in; ic++, wp += o) {
                FW_VEC wv[4];
                for (int v = 0; v < nv; v++) wv[v] = *(const FW_VEC *)(wp + v * FW_LANES);
                for (int p = 0; p < np; p++) {
                    const FC_T xv = xp[p * px_step + ic];
                    for (int v = 0; v < nv; v++) acc[p][v] += xv * wv[v];
                }
            }
        }
    }
    for (int p = 0; p < np; p++)
        FC_FN(epilogue_store)((const FC_T *)acc[p], nv * FW_LANES, bias ? bias + oc : NULL,
                              d->activation, yrow + (ox + p) * y->sw + oc, 1);
}

/* fw_block with np pixels and nv (a variable) turned into constants. */
#define FW_BLOCK(NP, NV, KX0, KX1)                                                          \
    FC_FN(fw_block)(d, x, xn, w, bias, y, yrow, oy, ox, NP, oc, NV, ky0, ky1, KX0, KX1)
#define FW_CALL(NP, KX0, KX1)                                                               \
    switch (nv) {                                                                           \
    case 1: FW_BLOCK(NP, 1, KX0, KX1); break;                                               \
    case 2: FW_BLOCK(NP, 2, KX0, KX1); break;                                               \
    case 3: FW_BLOCK(NP, 3, KX0, KX1); break;                                               \
    default: FW_BLOCK(NP, 4, KX0, KX1); break;                                              \
    }

/* Output rows [oy0, oy1) of image n; y must be dense NHWC, x's channels contiguous. */
void FW_FN(fewch_rows)(const fc_conv_desc *d, const fc_view *x, const FC_T *w,
                       const FC_T *bias, const fc_view *y, int64_t n, int64_t oy0,
                       int64_t oy1) {
    const fc_window *win = &d->win;
    const FC_T *xn = (const FC_T *)x->data + n * x->sn;
    const int64_t vectors = y->c / FW_LANES;
    int64_t lo, hi;   /* interior columns */
    fc_interior_cols(win, x->w, y->w, &lo, &hi);
    for (int64_t oy = oy0; oy < oy1; oy++) {
        FC_T *yrow = (FC_T *)y->data + n * y->sn + oy * y->sh;
        int64_t ky0, ky1;
        fc_valid_taps(oy, win->stride_h, win->pad_top, win->dil_h, win->k_h, x->h, &ky0, &ky1);
        for (int64_t v0 = 0; v0 < vectors; v0 += FW_OB) {
            const int nv = vectors - v0 < FW_OB ? (int)(vectors - v0) : FW_OB;
            const int64_t oc = v0 * FW_LANES;
            for (int64_t ox = 0; ox < y->w;) {
                if (ox >= lo && ox + FW_PX <= hi) {   /* interior: FW_PX pixels, all taps */
                    FW_CALL(FW_PX, 0, win->k_w)
                    ox += FW_PX;
                    continue;
                }
                int64_t kx0, kx1;   /* one pixel: its own taps */
                fc_valid_taps(ox, win->stride_w, win->pad_left, win->dil_w, win->k_w, x->w,
                              &kx0, &kx1);
                FW_CALL(1, kx0, kx1)
                ox++;
            }
        }
    }
}

#undef FW_CALL
#undef FW_BLOCK
#undef FW_FN
#undef FW_VEC
#undef FW_LANES
#undef FW_PX
#undef FW_OB
