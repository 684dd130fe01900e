/* The grouped-convolution direct kernel (conv/grouped_tmpl.h): narrow groups. */
#ifndef FC_CONV_GROUPED_H
#define FC_CONV_GROUPED_H

#include "fc_internal.h"

/* Output rows per band of the grouped kernel's broadcasts (grouped_broadcast_tmpl.h): a task
 * reorders the input rows of one band at a time into its workspace, 6 input rows for 4 of a
 * 3x3 window's output (1.5 passes over the input, cheap beside 9 x 8 FMAs per value). */
#define FC_GROUPED_BAND 4

/* Taps at most of the kernel on NCHW planes (conv/grouped_planes_tmpl.h): its copy of a
 * group's weights lives on the stack. */
#define FC_GROUPED_PLANES_TAPS 64

/* Whether the kernel on NCHW planes can run a call: groups of 2 or 4 inputs and outputs, a
 * window of at most FC_GROUPED_PLANES_TAPS, adjacent columns, channels not adjacent. */
int fc_grouped_planes_applies(const fc_conv_desc *d, const fc_view *x, const fc_view *y);

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
                                     const fc_view *y);                                            \
    /* group g of image n on NCHW planes (x->sw == y->sw == 1); brow: y->w values of workspace */  \
    void FC_CAT(grouped_planes, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,   \
                                     const T *w, const T *bias, const fc_view *y, int64_t n,       \
                                     int64_t g, T *brow);
FC_DECLARE_CONV_GROUPED(float, f32)
FC_DECLARE_CONV_GROUPED(double, f64)

#endif
