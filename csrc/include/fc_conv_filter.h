/* The image-filter kernel (conv/filter_tmpl.h): a few channels in and out. */
#ifndef FC_CONV_FILTER_H
#define FC_CONV_FILTER_H

#include "fc_internal.h"

/* Whether the image-filter kernel (conv/filter_tmpl.h) runs a direct convolution: a few
 * channels in and out, one group. */
#define FC_FILTER_MAX_C 4
#define FC_FILTER_MAX_OUT 4
static inline int fc_image_filter_applies(const fc_conv_desc *d, const fc_view *x,
                                          const fc_view *y) {
    return d->groups == 1 && x->c <= FC_FILTER_MAX_C && y->c <= FC_FILTER_MAX_OUT;
}

/* The entry points, per dtype, forwarding to the call context's ISA. */
#define FC_DECLARE_CONV_FILTER(T, SFX)                                                             \
    void FC_CAT(filter_rows, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,      \
                                  const T *w, const T *bias, const fc_view *y, int64_t n,          \
                                  int64_t oy0, int64_t oy1, T *ws);                                \
    size_t FC_CAT(filter_workspace, SFX)(const fc_cntx *cx, const fc_conv_desc *d,                 \
                                         const fc_view *x, const fc_view *y);
FC_DECLARE_CONV_FILTER(float, f32)
FC_DECLARE_CONV_FILTER(double, f64)

#endif
