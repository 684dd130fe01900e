/* Direct convolution, any stride/dilation/padding/groups/layout (template: FC_T, FC_SFX).
 *
 * One output pixel at a time: its out_C accumulators live in `acc`; for each valid tap and
 * input channel the whole group's row of HWIO weights is added, which is contiguous in
 * both `acc` and the filter, so the inner loop vectorizes.  The summation order per output
 * value is fixed (ky, kx, ic), independent of the thread split. */
#include "fc_epilogue_tmpl.h"

void FC_FN(direct_conv_rows)(const fc_conv_desc *d, const fc_view *x, const FC_T *w,
                             const FC_T *bias, const fc_view *y, int64_t n, int64_t oy0,
                             int64_t oy1, FC_T *acc) {
    const fc_window *win = &d->win;
    const int64_t out_c = y->c, groups = d->groups;
    const int64_t cg = x->c / groups, og = out_c / groups;
    const FC_T *xn = (const FC_T *)x->data + n * x->sn;
    FC_T *yn = (FC_T *)y->data + n * y->sn;

    for (int64_t oy = oy0; oy < oy1; oy++) {
        int64_t ky0, ky1;
        fc_valid_taps(oy, win->stride_h, win->pad_top, win->dil_h, win->k_h, x->h, &ky0, &ky1);
        for (int64_t ox = 0; ox < y->w; ox++) {
            int64_t kx0, kx1;
            fc_valid_taps(ox, win->stride_w, win->pad_left, win->dil_w, win->k_w, x->w, &kx0, &kx1);
            if (out_c == 1) { /* one output channel (a plain image filter): a dot product */
                FC_T sum = 0;
                for (int64_t ky = ky0; ky < ky1; ky++) {
                    const int64_t iy = oy * win->stride_h - win->pad_top + ky * win->dil_h;
                    for (int64_t kx = kx0; kx < kx1; kx++) {
                        const int64_t ix = ox * win->stride_w - win->pad_left + kx * win->dil_w;
                        const FC_T *xp = xn + iy * x->sh + ix * x->sw;
                        const FC_T *wk = w + (ky * win->k_w + kx) * cg;
                        for (int64_t ic = 0; ic < cg; ic++) sum += xp[ic * x->sc] * wk[ic];
                    }
                }
                FC_FN(epilogue_store)(&sum, 1, bias, d->activation, yn + oy * y->sh + ox * y->sw,
                                      1);
                continue;
            }
            for (int64_t oc = 0; oc < out_c; oc++) acc[oc] = 0;
            for (int64_t ky = ky0; ky < ky1; ky++) {
                const int64_t iy = oy * win->stride_h - win->pad_top + ky * win->dil_h;
                for (int64_t kx = kx0; kx < kx1; kx++) {
                    const int64_t ix = ox * win->stride_w - win->pad_left + kx * win->dil_w;
                    const FC_T *xp = xn + iy * x->sh + ix * x->sw;
                    const FC_T *wk = w + (ky * win->k_w + kx) * cg * out_c;
                    for (int64_t g = 0; g < groups; g++) {
                        FC_T *ag = acc + g * og;
                        for (int64_t ic = 0; ic < cg; ic++) {
                            const FC_T xv = xp[(g * cg + ic) * x->sc];
                            const FC_T *wr = wk + ic * out_c + g * og;
                            for (int64_t j = 0; j < og; j++) ag[j] += xv * wr[j];
                        }
                    }
                }
            }
            FC_FN(epilogue_store)(acc, out_c, bias, d->activation, yn + oy * y->sh + ox * y->sw,
                                  y->sc);
        }
    }
}
