/* Declarations shared by the filter-gradient kernels (conv/backprop_filter_tmpl.h,
 * conv/depthwise_backprop_filter_tmpl.h) and their operator
 * (operators/conv2d_backprop_filter_tmpl.h). */
#ifndef FC_BACKPROP_FILTER_H
#define FC_BACKPROP_FILTER_H

#include "fc_internal.h"

#define FC_DECLARE_BACKPROP_FILTER(T, SFX)                                                  \
    typedef struct {                                                                        \
        int64_t cg, og, taps, r, npanel, kc;                                                \
        int mr, nr;                                                                         \
    } FC_CAT(bf_dims, SFX);                                                                 \
    FC_CAT(bf_dims, SFX) FC_CAT(bf_gemm_dims, SFX)(const fc_cntx *cx, const fc_conv_desc *d, \
                                                   const fc_view *x, const fc_view *dy);    \
    void FC_CAT(bf_transpose_dy, SFX)(const fc_view *dy, int64_t qbase, int64_t q0,         \
                                      int64_t q1, T *dyt, int64_t ldt);                     \
    size_t FC_CAT(bf_gemm_workspace, SFX)(const FC_CAT(bf_dims, SFX) *s, int64_t rows);     \
    void FC_CAT(bf_gemm_block, SFX)(const fc_cntx *cx, const fc_conv_desc *d,               \
                                    const fc_view *x, const fc_view *dy,                    \
                                    const FC_CAT(bf_dims, SFX) *s, const T *dyt,            \
                                    int64_t ldt, int64_t qbase, int64_t q0, int64_t q1,     \
                                    int64_t g, int64_t p, int64_t o0, int64_t o1,           \
                                    int accumulate, T *ct, void *ws);                       \
    void FC_CAT(bf_depthwise, SFX)(const fc_cntx *cx, const fc_conv_desc *d,                \
                                   const fc_view *x, const fc_view *dy, int64_t c0,         \
                                   int64_t c1, int64_t ky0, int64_t ky1, T *dw,             \
                                   int64_t dw_st, int64_t dw_sc, T *db, int64_t db_sc,      \
                                   T *acc);                                                 \
    int FC_CAT(bf_depthwise_lanes, SFX)(const fc_cntx *cx);

FC_DECLARE_BACKPROP_FILTER(float, f32)
FC_DECLARE_BACKPROP_FILTER(double, f64)

#endif
