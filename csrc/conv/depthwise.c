/* Depthwise convolution: the entry point, forwarding to the call context's ISA's instantiation. */
#include "fc_conv_depthwise.h"

#define DW_DISPATCH(T, SFX)                                                                        \
    FC_ISA_DECLARE(void, SFX, depthwise_rows, (DW_PARAMS(T)))                                      \
    void FC_CAT(depthwise_rows, SFX)(const fc_cntx *cx, DW_PARAMS(T)) {                            \
        FC_ISA_FORWARD(cx->isa, SFX, depthwise_rows, (d, x, w, bias, y, n, oy0, oy1, acc))         \
    }
#define DW_PARAMS(T)                                                                               \
    const fc_conv_desc *d, const fc_view *x, const T *w, const T *bias, const fc_view *y,          \
        int64_t n, int64_t oy0, int64_t oy1, T *acc

DW_DISPATCH(float, f32)
DW_DISPATCH(double, f64)
