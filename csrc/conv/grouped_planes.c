/* Narrow-group convolution on NCHW planes: the entry point, forwarding to the call context's
 * ISA's instantiation of grouped_planes_tmpl.h. */
#include "fc_conv_grouped.h"

int fc_grouped_planes_applies(const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    const int64_t og = y->c / d->groups;
    return d->groups > 1 && x->c == y->c && (og == 2 || og == 4) && d->win.stride_w == 1 &&
           d->win.k_h * d->win.k_w <= FC_GROUPED_PLANES_TAPS && x->sw == 1 && y->sw == 1 &&
           x->sc != 1 && y->sc != 1;
}

#define GP_PARAMS(T)                                                                               \
    const fc_conv_desc *d, const fc_view *x, const T *w, const T *bias, const fc_view *y,          \
        int64_t n, int64_t g, T *brow
#define GP_DISPATCH(T, SFX)                                                                        \
    FC_ISA_DECLARE(void, SFX, grouped_planes, (GP_PARAMS(T)))                                      \
    void FC_CAT(grouped_planes, SFX)(const fc_cntx *cx, GP_PARAMS(T)) {                            \
        FC_ISA_FORWARD(cx->isa, SFX, grouped_planes, (d, x, w, bias, y, n, g, brow))               \
    }

GP_DISPATCH(float, f32)
GP_DISPATCH(double, f64)
