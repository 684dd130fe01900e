/* The portable direct convolution (conv/direct_tmpl.h): any window, stride,
 * dilation, padding and groups. */
#ifndef FC_CONV_DIRECT_H
#define FC_CONV_DIRECT_H

#include "fc_internal.h"

/* The entry points, per dtype, forwarding to the call context's ISA. */
#define FC_DECLARE_CONV_DIRECT(T, SFX)                                                             \
    void FC_CAT(direct_conv_rows, SFX)(const fc_conv_desc *d, const fc_view *x, const T *w,        \
                                       const T *bias, const fc_view *y, int64_t n, int64_t oy0,    \
                                       int64_t oy1, T *acc);
FC_DECLARE_CONV_DIRECT(float, f32)
FC_DECLARE_CONV_DIRECT(double, f64)

#endif
