/* The NCHW <-> NHWC layout copies' transpose (operators/transpose_tmpl.h): in-register
 * tiles per ISA. */
#ifndef FC_TRANSPOSE_H
#define FC_TRANSPOSE_H

#include "fc_internal.h"

/* The entry points, per dtype, forwarding to the call context's ISA. */
#define FC_DECLARE_TRANSPOSE(T, SFX)                                                               \
    /* dst[j * ldd + i] = src[i * lds + j], rows [r0, r1), columns [0, cols) */                    \
    void FC_CAT(transpose, SFX)(const fc_cntx *cx, const T *src, int64_t lds, T *dst, int64_t ldd, \
                                int64_t r0, int64_t r1, int64_t cols);
FC_DECLARE_TRANSPOSE(float, f32)
FC_DECLARE_TRANSPOSE(double, f64)

#endif
