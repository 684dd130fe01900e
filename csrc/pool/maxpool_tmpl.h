/* Max pooling over rows [oy0, oy1) of image n (template: FC_T, FC_SFX).  Padding cells are
 * skipped, never compared.  NaN propagates: once a window has met a NaN it keeps it. */
#include <math.h>

void FC_FN(maxpool_rows)(const fc_window *win, const fc_view *x, const fc_view *y, int64_t n,
                         int64_t oy0, int64_t oy1, FC_T *acc) {
    const FC_T *xn = (const FC_T *)x->data + n * x->sn;
    FC_T *yn = (FC_T *)y->data + n * y->sn;
    for (int64_t oy = oy0; oy < oy1; oy++) {
        int64_t ky0, ky1;
        fc_valid_taps(oy, win->stride_h, win->pad_top, 1, win->k_h, x->h, &ky0, &ky1);
        for (int64_t ox = 0; ox < y->w; ox++) {
            int64_t kx0, kx1;
            fc_valid_taps(ox, win->stride_w, win->pad_left, 1, win->k_w, x->w, &kx0, &kx1);
            for (int64_t c = 0; c < x->c; c++) acc[c] = -INFINITY;
            for (int64_t ky = ky0; ky < ky1; ky++) {
                for (int64_t kx = kx0; kx < kx1; kx++) {
                    const FC_T *xp = xn + (oy * win->stride_h - win->pad_top + ky) * x->sh +
                                     (ox * win->stride_w - win->pad_left + kx) * x->sw;
                    for (int64_t c = 0; c < x->c; c++) {
                        const FC_T v = xp[c * x->sc];
                        /* acc stays NaN once NaN: neither test is true against a NaN acc */
                        acc[c] = (v > acc[c] || v != v) ? v : acc[c];
                    }
                }
            }
            FC_T *yp = yn + oy * y->sh + ox * y->sw;
            for (int64_t c = 0; c < x->c; c++) yp[c * y->sc] = acc[c];
        }
    }
}
