/* The layout transpose (NCHW <-> NHWC copies, conv2d_tmpl.h): the entry points, forwarding
 * to the call context's ISA's instantiation of transpose_tmpl.h. */
#include "fc_transpose.h"

#define TR_PARAMS(T)                                                                               \
    const T *src, int64_t lds, T *dst, int64_t ldd, int64_t r0, int64_t r1, int64_t cols
#define TR_DISPATCH(T, SFX)                                                                        \
    FC_ISA_DECLARE(void, SFX, transpose, (TR_PARAMS(T)))                                           \
    void FC_CAT(transpose, SFX)(const fc_cntx *cx, TR_PARAMS(T)) {                                 \
        FC_ISA_FORWARD(cx->isa, SFX, transpose, (src, lds, dst, ldd, r0, r1, cols))                \
    }

TR_DISPATCH(float, f32)
TR_DISPATCH(double, f64)
