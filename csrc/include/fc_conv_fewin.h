/* A few input channels into NCHW planes (conv/fewin_planes_tmpl.h): a network's first layer
 * read and written in its NCHW layout, output pixels in the vector lanes. */
#ifndef FC_CONV_FEWIN_H
#define FC_CONV_FEWIN_H

#include "fc_internal.h"
#include "fc_conv_blocked.h"
#include "fc_conv_filter.h"

/* Whether the kernel can run a call: one group, at most FC_FEWCH_MAX_C input channels whose
 * rows are contiguous, more output channels than the image filter takes (it reads and
 * writes planes itself), and an output of contiguous rows, one plane per channel. */
static inline int fc_fewin_planes_applies(const fc_conv_desc *d, const fc_view *x,
                                          const fc_view *y) {
    return d->groups == 1 && x->c <= FC_FEWCH_MAX_C && y->c > FC_FILTER_MAX_OUT && x->sw == 1 &&
           y->sw == 1;
}

/* The entry points, per dtype, forwarding to the call context's ISA. */
#define FC_DECLARE_CONV_FEWIN(T, SFX)                                                              \
    void FC_CAT(fewin_planes_rows,                                                                 \
                SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x, const T *w,       \
                     const T *bias, const fc_view *y, int64_t n, int64_t oy0, int64_t oy1, T *ws); \
    size_t FC_CAT(fewin_planes_workspace, SFX)(const fc_cntx *cx, const fc_conv_desc *d,           \
                                               const fc_view *x, const fc_view *y);                \
    int FC_CAT(fewin_planes_pays, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x, \
                                       const fc_view *y);
FC_DECLARE_CONV_FEWIN(float, f32)
FC_DECLARE_CONV_FEWIN(double, f64)

#endif
