/* The grouped-convolution direct kernel (conv/grouped_tmpl.h): narrow groups. */
#ifndef FC_CONV_GROUPED_H
#define FC_CONV_GROUPED_H

#include "fc_internal.h"

/* Output rows per band of the grouped kernel's broadcasts (grouped_broadcast_tmpl.h): a task
 * reorders the input rows of one band at a time into its workspace, 6 input rows for 4 of a
 * 3x3 window's output (1.5 passes over the input, cheap beside 9 x 8 FMAs per value). */
#define FC_GROUPED_BAND 4

/* The entry points, per dtype, forwarding to the call context's ISA. */
#define FC_DECLARE_CONV_GROUPED(T, SFX)                                                            \
    void FC_CAT(grouped_rows, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,     \
                                   const T *wr, const T *bias, const fc_view *y, int64_t n,        \
                                   int64_t oy0, int64_t oy1, void *ws);                            \
    size_t FC_CAT(grouped_workspace, SFX)(const fc_cntx *cx, const fc_conv_desc *d,                \
                                          const fc_view *x, const fc_view *y);                     \
    void FC_CAT(grouped_pack, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *y,     \
                                   const T *w, int64_t tap, T *wr);                                \
    int FC_CAT(grouped_applies, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,   \
                                     const fc_view *y);
FC_DECLARE_CONV_GROUPED(float, f32)
FC_DECLARE_CONV_GROUPED(double, f64)

#endif
