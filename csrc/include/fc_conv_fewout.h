/* The few-output-channel direct kernel (conv/fewout_tmpl.h). */
#ifndef FC_CONV_FEWOUT_H
#define FC_CONV_FEWOUT_H

#include "fc_internal.h"

/* The few-output-channel direct kernel (conv/fewout_tmpl.h): at most this many output
 * channels, and at least one 64-byte group of input channels (its partial sums), one group.
 * Its workspace is the filter repacked with channels contiguous. */
#define FC_FEWOUT_MAX_OUT 4
static inline int fc_fewout_applies(const fc_conv_desc *d, const fc_view *x, const fc_view *y,
                                    size_t elem) {
    return d->groups == 1 && y->c <= FC_FEWOUT_MAX_OUT && x->c >= (int64_t)(64 / elem);
}

/* The entry points, per dtype, forwarding to the call context's ISA. */
#define FC_DECLARE_CONV_FEWOUT(T, SFX)                                                             \
    void FC_CAT(fewout_rows, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,      \
                                  const T *w, const T *bias, const fc_view *y, int64_t n,          \
                                  int64_t oy0, int64_t oy1, T *ws);
FC_DECLARE_CONV_FEWOUT(float, f32)
FC_DECLARE_CONV_FEWOUT(double, f64)

#endif
