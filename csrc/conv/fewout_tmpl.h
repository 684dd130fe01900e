/* Direct convolution into few output channels (1 to FC_FEWOUT_MAX_OUT) from many input
 * channels, one group (template: FC_T, FC_SFX, and FO_ISA with FO_VBYTES: each ISA's file
 * compiles the loops at its own vector width).
 *
 * The input gradient of a network's first layer (32 or 64 channels back into 1 or 3), or a
 * head that maps features to an image: the GEMM's output tile is then 1-4 channels wide out
 * of 16-64 lanes, and the generic direct kernel is scalar.  Here the input channels fill
 * the vector lanes instead: each output value keeps FO_PART partial sums (input channels
 * ic = l, l + FO_PART, ... go to partial l), FO_PX(no) pixels x `no` outputs are
 * register-blocked so that each weight vector is loaded once per tap for all of them, and
 * the partials are added in lane order at the end.  FO_PART is 64 bytes of partials
 * whatever the ISA (one AVX-512 vector, two AVX2 ones), so AVX2 and AVX-512 sum in the same
 * order.  Pixels whose taps all lie inside the input row go FO_PX at a time; edge pixels
 * one at a time with their own tap range, in the same order per value. */
#include "fc_epilogue_tmpl.h"

#define FO_FN(name) FC_CAT(FC_FN(name), FO_ISA)
#define FO_VEC FC_CAT(FC_CAT(fovec, FO_ISA), FC_SFX)
#define FO_LANES (FO_VBYTES / (int)sizeof(FC_T))
#define FO_PART (64 / (int)sizeof(FC_T))
#define FO_NV (FO_PART / FO_LANES)
/* Accumulator vectors in a block: 24 of AVX-512's 32 registers, 12 of AVX2's 16. */
#define FO_ACCS (FO_VBYTES == 64 ? 24 : 12)
#define FO_PX(no)                                                                                  \
    (FO_ACCS / ((no) * FO_NV) > 12  ? 12                                                           \
     : FO_ACCS / ((no) * FO_NV) < 1 ? 1                                                            \
                                    : FO_ACCS / ((no) * FO_NV))
#define FO_PX_MAX 12

typedef FC_T FO_VEC __attribute__((vector_size(FO_VBYTES), aligned(sizeof(FC_T))));

/* Output pixels [ox, ox + np) of row oy, all `no` output channels, taps kx in [kx0, kx1) of
 * rows [ky0, ky1); wp: the filter packed [k_h][k_w][no][C].  np and no are constants at
 * every call (FO_CALL), so the loops unroll and the accumulators live in registers. */
static inline __attribute__((always_inline)) void
FC_FN(fo_block)(const fc_conv_desc *d, const fc_view *x, const FC_T *xn, const FC_T *wp,
                const FC_T *bias, const fc_view *y, FC_T *yrow, int64_t oy, int64_t ox,
                const int np, const int no, int64_t ky0, int64_t ky1, int64_t kx0, int64_t kx1) {
    const fc_window *win = &d->win;
    const int64_t c = x->c, full = c / FO_PART * FO_PART, px_step = win->stride_w * x->sw;
    FO_VEC acc[FO_PX_MAX][FC_FEWOUT_MAX_OUT][FO_NV];
    for (int p = 0; p < np; p++)
        for (int o = 0; o < no; o++)
            for (int v = 0; v < FO_NV; v++) acc[p][o][v] = (FO_VEC){0};
    for (int64_t ky = ky0; ky < ky1; ky++) {
        const int64_t iy = oy * win->stride_h - win->pad_top + ky * win->dil_h;
        for (int64_t kx = kx0; kx < kx1; kx++) {
            const int64_t ix = ox * win->stride_w - win->pad_left + kx * win->dil_w;
            const FC_T *xp = xn + iy * x->sh + ix * x->sw;
            const FC_T *wt = wp + (ky * win->k_w + kx) * no * c;
            for (int64_t ic = 0; ic < full; ic += FO_PART)
                for (int v = 0; v < FO_NV; v++) {
                    FO_VEC wv[FC_FEWOUT_MAX_OUT];
                    for (int o = 0; o < no; o++)
                        wv[o] = *(const FO_VEC *)(wt + o * c + ic + v * FO_LANES);
                    for (int p = 0; p < np; p++) {
                        const FO_VEC xv = *(const FO_VEC *)(xp + p * px_step + ic + v * FO_LANES);
                        for (int o = 0; o < no; o++) acc[p][o][v] += xv * wv[o];
                    }
                }
            for (int64_t ic = full; ic < c; ic++) { /* channels past the last whole group */
                const int64_t lane = ic - full;
                for (int p = 0; p < np; p++)
                    for (int o = 0; o < no; o++)
                        acc[p][o][lane / FO_LANES][lane % FO_LANES] +=
                            xp[p * px_step + ic] * wt[o * c + ic];
            }
        }
    }
    for (int p = 0; p < np; p++) {
        FC_T sums[FC_FEWOUT_MAX_OUT];
        for (int o = 0; o < no; o++) {
            const FC_T *part = (const FC_T *)acc[p][o];
            FC_T s = 0;
            for (int l = 0; l < FO_PART; l++) s += part[l];
            sums[o] = s;
        }
        FC_FN(epilogue_store)(sums, no, bias, d->activation, yrow + (ox + p) * y->sw, y->sc);
    }
}

#define FO_BLOCK(NP, NO, KX0, KX1)                                                                 \
    FC_FN(fo_block)(d, x, xn, wp, bias, y, yrow, oy, ox, NP, NO, ky0, ky1, KX0, KX1)
/* One block of FO_PX(no) pixels (interior) or of one pixel, `no` made a constant. */
#define FO_CALL(ONE, KX0, KX1)                                                                     \
    switch (no) {                                                                                  \
    case 1: FO_BLOCK((ONE) ? 1 : FO_PX(1), 1, KX0, KX1); break;                                    \
    case 2: FO_BLOCK((ONE) ? 1 : FO_PX(2), 2, KX0, KX1); break;                                    \
    case 3: FO_BLOCK((ONE) ? 1 : FO_PX(3), 3, KX0, KX1); break;                                    \
    default: FO_BLOCK((ONE) ? 1 : FO_PX(4), 4, KX0, KX1); break;                                   \
    }

/* Output rows [oy0, oy1) of image n; x's channels contiguous; ws: the packed filter. */
void FO_FN(fewout_rows)(const fc_conv_desc *d, const fc_view *x, const FC_T *w, const FC_T *bias,
                        const fc_view *y, int64_t n, int64_t oy0, int64_t oy1, FC_T *ws) {
    const fc_window *win = &d->win;
    const int64_t c = x->c, taps = win->k_h * win->k_w;
    const int no = (int)y->c;
    const FC_T *xn = (const FC_T *)x->data + n * x->sn;
    /* [k_h][k_w][C][no] -> [k_h][k_w][no][C]: channels contiguous for the vector loads */
    FC_T *wp = ws;
    for (int64_t t = 0; t < taps; t++)
        for (int64_t ic = 0; ic < c; ic++)
            for (int o = 0; o < no; o++) wp[(t * no + o) * c + ic] = w[(t * c + ic) * no + o];
    const int px = no == 1 ? FO_PX(1) : no == 2 ? FO_PX(2) : no == 3 ? FO_PX(3) : FO_PX(4);
    int64_t lo, hi; /* interior columns */
    fc_interior_cols(win, x->w, y->w, &lo, &hi);
    for (int64_t oy = oy0; oy < oy1; oy++) {
        FC_T *yrow = (FC_T *)y->data + n * y->sn + oy * y->sh;
        int64_t ky0, ky1;
        fc_valid_taps(oy, win->stride_h, win->pad_top, win->dil_h, win->k_h, x->h, &ky0, &ky1);
        for (int64_t ox = 0; ox < y->w;) {
            if (ox >= lo && ox + px <= hi) { /* interior: px pixels, all taps */
                FO_CALL(0, 0, win->k_w)
                ox += px;
                continue;
            }
            int64_t kx0, kx1; /* one pixel: its own taps */
            fc_valid_taps(ox, win->stride_w, win->pad_left, win->dil_w, win->k_w, x->w, &kx0, &kx1);
            FO_CALL(1, kx0, kx1)
            ox++;
        }
    }
}

#undef FO_CALL
#undef FO_BLOCK
#undef FO_FN
#undef FO_VEC
#undef FO_LANES
#undef FO_PART
#undef FO_NV
#undef FO_ACCS
#undef FO_PX
#undef FO_PX_MAX
