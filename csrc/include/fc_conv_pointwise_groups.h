/* 1x1 convolutions on NHWC pixels whose groups are five vectors of output channels
 * (conv/pointwise_groups_tmpl.h): ShuffleNet's 80-channel groups on AVX-512. */
#ifndef FC_CONV_POINTWISE_GROUPS_H
#define FC_CONV_POINTWISE_GROUPS_H

#include "fc_internal.h"

/* The entry points, per dtype: whether a call is one (1x1, stride 1, no padding, each
 * group's output channels five of cx's vectors, the input's pixels evenly spaced across
 * rows), and output rows [oy0, oy1) of image n (the output dense NHWC). */
#define FC_DECLARE_POINTWISE_GROUPS(T, SFX)                                                        \
    int FC_CAT(pointwise_groups_applies, SFX)(const fc_cntx *cx, const fc_conv_desc *d,            \
                                              const fc_view *x, const fc_view *y);                 \
    void FC_CAT(pointwise_groups_rows,                                                             \
                SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x, const T *w,       \
                     const T *bias, const fc_view *y, int64_t n, int64_t oy0, int64_t oy1);
FC_DECLARE_POINTWISE_GROUPS(float, f32)
FC_DECLARE_POINTWISE_GROUPS(double, f64)

#endif
