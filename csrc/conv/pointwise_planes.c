/* 1x1 convolutions on NCHW planes, instantiated for float32 and float64 from one template. */
#include "fc_conv_pointwise.h"
#include "fc_transpose.h"

int fc_pointwise_planes_applies(const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    return fc_is_pointwise(&d->win, x, y) && x->sc != 1 && y->sc != 1 && fc_is_planar(x) &&
           fc_is_planar(y);
}

#define FC_TEMPLATE "pointwise_planes_tmpl.h"
#include "fc_instantiate.h"
