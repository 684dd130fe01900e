/* The depthwise kernel (conv/depthwise_tmpl.h): one output channel per group, channel
 * vectors, pixel blocks. */
#ifndef FC_CONV_DEPTHWISE_H
#define FC_CONV_DEPTHWISE_H

#include "fc_internal.h"

/* The entry points, per dtype, forwarding to the call context's ISA. */
#define FC_DECLARE_CONV_DEPTHWISE(T, SFX)                                                          \
    void FC_CAT(depthwise_rows, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,   \
                                     const T *w, const T *bias, const fc_view *y, int64_t n,       \
                                     int64_t oy0, int64_t oy1, T *acc);                            \
    /* input plane ch of image n into its output planes (NCHW: x->sw == y->sw == 1) */             \
    void FC_CAT(depthwise_planes, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x, \
                                       const T *w, const T *bias, const fc_view *y, int64_t n,     \
                                       int64_t ch);
FC_DECLARE_CONV_DEPTHWISE(float, f32)
FC_DECLARE_CONV_DEPTHWISE(double, f64)

#endif
