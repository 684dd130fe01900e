/* 1x1 convolutions from NCHW planes into NCHW planes (conv/pointwise_planes_tmpl.h): the
 * GEMM with the pixels in the vector lanes, the input and output read and written in place. */
#ifndef FC_CONV_POINTWISE_H
#define FC_CONV_POINTWISE_H

#include "fc_internal.h"
#include "fc_gemm.h"

/* Whether a call is one: 1x1, stride 1, no padding, x and y dense NCHW (planes). */
int fc_pointwise_planes_applies(const fc_conv_desc *d, const fc_view *x, const fc_view *y);

/* The entry points, per dtype. */
#define FC_DECLARE_POINTWISE_PLANES(T, SFX)                                                        \
    /* wt[co][c] = w[c][co] for output channels [co0, co1), c over co's group: [out_C][C/g] */     \
    void FC_CAT(pointwise_planes_pack, SFX)(const fc_cntx *cx, const fc_conv_desc *d,              \
                                            const fc_view *x, const fc_view *y, const T *w,        \
                                            int64_t co0, int64_t co1, T *wt);                      \
    size_t FC_CAT(pointwise_planes_workspace, SFX)(const fc_cntx *cx, const fc_conv_desc *d,       \
                                                   const fc_view *x, const fc_view *y);            \
    /* pixels before the first panel read in place (a run may start there), or -1 */               \
    int64_t FC_CAT(pointwise_planes_head, SFX)(const fc_cntx *cx, const fc_conv_desc *d,           \
                                               const fc_view *x, const fc_view *y);                \
    /* pixels [q0, q1) of image n, group g */                                                      \
    void FC_CAT(pointwise_planes, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x, \
                                       const fc_view *y, const T *wt, const T *bias, int64_t n,    \
                                       int64_t g, int64_t q0, int64_t q1, void *ws);
FC_DECLARE_POINTWISE_PLANES(float, f32)
FC_DECLARE_POINTWISE_PLANES(double, f64)

#endif
