/* Depthwise convolution, NHWC, channels in the vector lanes (template: FC_T, FC_SFX, and
 * DW_ISA: each ISA's file compiles the channel loops at its own vector width).
 *
 * Output channel c * M + m reads input channel c only (M, the channel multiplier, is
 * out_C / C; the filter is HWIO [k_h][k_w][1][C * M]).  One output pixel at a time: for
 * each valid tap, one pass along the contiguous channels of the input pixel, the filter
 * row and the accumulators.  Any stride, dilation and padding; channels must be
 * contiguous (the operator copies other layouts once).  Summation order per output value:
 * taps in (ky, kx) order, fixed whatever the thread split. */
#include "fc_epilogue_tmpl.h"

#define DW_FN(name) FC_CAT(FC_FN(name), DW_ISA)
#define DW_VEC FC_CAT(FC_CAT(dwvec, DW_ISA), FC_SFX)
#define DW_LANES (DW_VBYTES / (int)sizeof(FC_T))

typedef FC_T DW_VEC __attribute__((vector_size(DW_VBYTES), aligned(sizeof(FC_T))));

/* One output pixel, one vector of channels: the taps in [kx0, kx1) of rows [ky0, ky1). */
static inline DW_VEC FC_FN(dw_pixel)(const fc_conv_desc *d, const fc_view *x, const FC_T *xc,
                                     const FC_T *wc, int64_t oy, int64_t ox, int64_t ky0,
                                     int64_t ky1, int64_t kx0, int64_t kx1, DW_VEC acc) {
    const fc_window *win = &d->win;
    for (int64_t ky = ky0; ky < ky1; ky++) {
        const FC_T *xr = xc + (oy * win->stride_h - win->pad_top + ky * win->dil_h) * x->sh;
        const FC_T *wr = wc + ky * win->k_w * x->c;
        for (int64_t kx = kx0; kx < kx1; kx++) {
            const int64_t ix = ox * win->stride_w - win->pad_left + kx * win->dil_w;
            acc += *(const DW_VEC *)(xr + ix * x->sw) * *(const DW_VEC *)(wr + kx * x->c);
        }
    }
    return acc;
}

/* Output pixels per register block: independent accumulators hide the FMA latency that a
 * single pixel's chain of taps would expose. */
#define DW_BLOCK 8

/* Multiplier 1, contiguous output channels: one vector of channels at a time along a whole
 * output row.  Pixels whose taps all lie inside the row go DW_BLOCK at a time, each tap
 * one filter load shared by DW_BLOCK loads and FMAs; edge pixels one at a time.  Channels
 * past the last full vector are left to the generic loop.  Returns the channels done. */
static int64_t FC_FN(depthwise_row_vectors)(const fc_conv_desc *d, const fc_view *x, const FC_T *w,
                                            const FC_T *bias, const fc_view *y, int64_t n,
                                            int64_t oy) {
    const fc_window *win = &d->win;
    const int64_t c_in = x->c, full = c_in / DW_LANES * DW_LANES;
    const int64_t sw = win->stride_w * x->sw; /* input step between output pixels */
    const FC_T *xn = (const FC_T *)x->data + n * x->sn;
    FC_T *yrow = (FC_T *)y->data + n * y->sn + oy * y->sh;
    int64_t ky0, ky1;
    fc_valid_taps(oy, win->stride_h, win->pad_top, win->dil_h, win->k_h, x->h, &ky0, &ky1);
    int64_t lo, hi; /* interior columns */
    fc_interior_cols(win, x->w, y->w, &lo, &hi);
    for (int64_t c0 = 0; c0 < full; c0 += DW_LANES) {
        const DW_VEC b = bias ? *(const DW_VEC *)(bias + c0) : (DW_VEC){0};
        const FC_T *xc = xn + c0, *wc = w + c0;
        int64_t ox = 0;
        for (; ox < y->w; ox++) {
            if (ox >= lo && ox + DW_BLOCK <= hi) { /* a block of interior pixels */
                DW_VEC acc[DW_BLOCK];
#pragma GCC unroll 8
                for (int i = 0; i < DW_BLOCK; i++) acc[i] = b;
                for (int64_t ky = ky0; ky < ky1; ky++) {
                    const FC_T *xr = xc +
                                     (oy * win->stride_h - win->pad_top + ky * win->dil_h) * x->sh +
                                     (ox * win->stride_w - win->pad_left) * x->sw;
                    const FC_T *wr = wc + ky * win->k_w * c_in;
                    for (int64_t kx = 0; kx < win->k_w; kx++) {
                        const DW_VEC wv = *(const DW_VEC *)(wr + kx * c_in);
                        const FC_T *xk = xr + kx * win->dil_w * x->sw;
#pragma GCC unroll 8
                        for (int i = 0; i < DW_BLOCK; i++)
                            acc[i] += *(const DW_VEC *)(xk + i * sw) * wv;
                    }
                }
#pragma GCC unroll 8
                for (int i = 0; i < DW_BLOCK; i++)
                    *(DW_VEC *)(yrow + (ox + i) * y->sw + c0) = acc[i];
                ox += DW_BLOCK - 1;
                continue;
            }
            int64_t kx0, kx1;
            fc_valid_taps(ox, win->stride_w, win->pad_left, win->dil_w, win->k_w, x->w, &kx0, &kx1);
            *(DW_VEC *)(yrow + ox * y->sw + c0) =
                FC_FN(dw_pixel)(d, x, xc, wc, oy, ox, ky0, ky1, kx0, kx1, b);
        }
    }
    if (d->activation != FC_ACT_NONE)
        for (int64_t ox = 0; ox < y->w; ox++)
            FC_FN(epilogue_store)(yrow + ox * y->sw, full, NULL, d->activation, yrow + ox * y->sw,
                                  1);
    return full;
}

void DW_FN(depthwise_rows)(const fc_conv_desc *d, const fc_view *x, const FC_T *w, const FC_T *bias,
                           const fc_view *y, int64_t n, int64_t oy0, int64_t oy1, FC_T *acc) {
    const fc_window *win = &d->win;
    const int64_t c_in = x->c, oc = y->c, mult = oc / c_in;
    const FC_T *xn = (const FC_T *)x->data + n * x->sn;
    FC_T *yn = (FC_T *)y->data + n * y->sn;

    for (int64_t oy = oy0; oy < oy1; oy++) {
        /* channels [first, C) take the generic path: all of them, or the vector tail */
        const int64_t first =
            mult == 1 && y->sc == 1 ? FC_FN(depthwise_row_vectors)(d, x, w, bias, y, n, oy) : 0;
        if (first == c_in) continue;
        int64_t ky0, ky1;
        fc_valid_taps(oy, win->stride_h, win->pad_top, win->dil_h, win->k_h, x->h, &ky0, &ky1);
        for (int64_t ox = 0; ox < y->w; ox++) {
            int64_t kx0, kx1;
            fc_valid_taps(ox, win->stride_w, win->pad_left, win->dil_w, win->k_w, x->w, &kx0, &kx1);
            FC_T *restrict a = acc;
            for (int64_t j = first; j < oc; j++) a[j] = bias ? bias[j] : 0;
            for (int64_t ky = ky0; ky < ky1; ky++) {
                const int64_t iy = oy * win->stride_h - win->pad_top + ky * win->dil_h;
                for (int64_t kx = kx0; kx < kx1; kx++) {
                    const int64_t ix = ox * win->stride_w - win->pad_left + kx * win->dil_w;
                    const FC_T *restrict xp = xn + iy * x->sh + ix * x->sw;
                    const FC_T *restrict wp = w + (ky * win->k_w + kx) * oc;
                    if (mult == 1) {
                        for (int64_t c = first; c < c_in; c++) a[c] += xp[c] * wp[c];
                    } else {
                        for (int64_t c = 0; c < c_in; c++)
                            for (int64_t m = 0; m < mult; m++)
                                a[c * mult + m] += xp[c] * wp[c * mult + m];
                    }
                }
            }
            /* bias is already in the accumulators */
            FC_FN(epilogue_store)(a + first, oc - first, NULL, d->activation,
                                  yn + oy * y->sh + ox * y->sw + first * y->sc, y->sc);
        }
    }
}

#undef DW_FN
#undef DW_BLOCK
#undef DW_VEC
#undef DW_LANES
