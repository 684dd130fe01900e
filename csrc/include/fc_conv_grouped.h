/* The grouped-convolution direct kernel (conv/grouped_tmpl.h): narrow groups. */
#ifndef FC_CONV_GROUPED_H
#define FC_CONV_GROUPED_H

#include "fc_internal.h"

/* The entry points, per dtype, forwarding to the call context's ISA. */
#define FC_DECLARE_CONV_GROUPED(T, SFX)                                                            \
    void FC_CAT(grouped_rows, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,     \
                                   const T *wr, const T *bias, const fc_view *y, int64_t n,        \
                                   int64_t oy0, int64_t oy1);                                      \
    void FC_CAT(grouped_pack, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *y,     \
                                   const T *w, int64_t tap, T *wr);                                \
    int FC_CAT(grouped_applies, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,   \
                                     const fc_view *y);
FC_DECLARE_CONV_GROUPED(float, f32)
FC_DECLARE_CONV_GROUPED(double, f64)

#endif
