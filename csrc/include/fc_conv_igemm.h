/* The implicit-im2col convolution (conv/igemm_tmpl.h): an indirect GEMM over the input
 * pixels, never the whole patch matrix; algorithm "im2col". */
#ifndef FC_CONV_IGEMM_H
#define FC_CONV_IGEMM_H

#include "fc_internal.h"
#include "fc_gemm.h"

/* The entry points, per dtype, forwarding to the call context's ISA. */
#define FC_DECLARE_CONV_IM2COL(T, SFX)                                                             \
    int64_t FC_CAT(igemm_panels, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,  \
                                      const fc_view *y);                                           \
    size_t FC_CAT(igemm_packed_weights_size, SFX)(const fc_cntx *cx, const fc_conv_desc *d,        \
                                                  const fc_view *x, const fc_view *y);             \
    int64_t FC_CAT(igemm_pack_units, SFX)(const fc_cntx *cx, const fc_conv_desc *d,                \
                                          const fc_view *x, const fc_view *y);                     \
    int FC_CAT(igemm_pack_weights, SFX)(const fc_cntx *cx, const fc_conv_desc *d,                  \
                                        const fc_view *x, const fc_view *y, const T *w,            \
                                        int64_t unit, T *wpack);                                   \
    int FC_CAT(igemm_can_pack_own, SFX)(const fc_cntx *cx, const fc_conv_desc *d,                  \
                                        const fc_view *x, const fc_view *y);                       \
    size_t FC_CAT(igemm_workspace, SFX)(const fc_cntx *cx, const fc_conv_desc *d,                  \
                                        const fc_view *x, const fc_view *y, int64_t mc,            \
                                        int64_t own_panels);                                       \
    int FC_CAT(igemm_conv_block, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,  \
                                      const fc_view *y, const T *w, int own, const T *bias, T *yd, \
                                      int64_t m0, int64_t m1, int64_t g, int64_t p0, int64_t p1,   \
                                      void *ws);
FC_DECLARE_CONV_IM2COL(float, f32)
FC_DECLARE_CONV_IM2COL(double, f64)

#endif
