/* 1x1 convolutions on NCHW planes, instantiated for float32 and float64 from one template. */
#include "fc_conv_pointwise.h"

int fc_pointwise_planes_applies(const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    const fc_window *win = &d->win;
    return win->k_h == 1 && win->k_w == 1 && win->stride_h == 1 && win->stride_w == 1 &&
           win->pad_top == 0 && win->pad_left == 0 && x->h == y->h && x->w == y->w && x->sc != 1 &&
           y->sc != 1 && fc_is_planar(x) && fc_is_planar(y);
}

#define FC_TEMPLATE "pointwise_planes_tmpl.h"
#include "fc_instantiate.h"
