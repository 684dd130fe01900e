/* Depthwise convolution on NCHW planes: the entry point, forwarding to the call context's
 * ISA's instantiation of depthwise_planes_tmpl.h. */
#include "fc_conv_depthwise.h"

#define DP_PARAMS(T)                                                                               \
    const fc_conv_desc *d, const fc_view *x, const T *w, const T *bias, const fc_view *y,          \
        int64_t n, int64_t ch
#define DP_DISPATCH(T, SFX)                                                                        \
    FC_ISA_DECLARE(void, SFX, depthwise_planes, (DP_PARAMS(T)))                                    \
    void FC_CAT(depthwise_planes, SFX)(const fc_cntx *cx, DP_PARAMS(T)) {                          \
        FC_ISA_FORWARD(cx->isa, SFX, depthwise_planes, (d, x, w, bias, y, n, ch))                  \
    }

DP_DISPATCH(float, f32)
DP_DISPATCH(double, f64)
