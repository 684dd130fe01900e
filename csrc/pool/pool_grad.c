/* Pooling gradients and argmax: the entry points, forwarding to the call context's ISA's
 * instantiation of pool_grad_tmpl.h. */
#include "fc_pool_grad.h"

#define PG_DISPATCH(T, SFX)                                                                        \
    FC_ISA_DECLARE(void, SFX, pool_grad_rows,                                                      \
                   (const fc_pool_grad_job *, int64_t, int64_t, int64_t, int64_t, int64_t))        \
    FC_ISA_DECLARE(void, SFX, pool_argmax_rows,                                                    \
                   (const fc_pool_grad_job *, int64_t, int64_t, int64_t, int64_t, int64_t))        \
    void FC_CAT(pool_grad_rows, SFX)(const fc_cntx *cx, const fc_pool_grad_job *j, int64_t n,      \
                                     int64_t c0, int64_t c1, int64_t iy0, int64_t iy1) {           \
        FC_ISA_FORWARD(cx->isa, SFX, pool_grad_rows, (j, n, c0, c1, iy0, iy1))                     \
    }                                                                                              \
    void FC_CAT(pool_argmax_rows, SFX)(const fc_cntx *cx, const fc_pool_grad_job *j, int64_t n,    \
                                       int64_t c0, int64_t c1, int64_t oy0, int64_t oy1) {         \
        FC_ISA_FORWARD(cx->isa, SFX, pool_argmax_rows, (j, n, c0, c1, oy0, oy1))                   \
    }

PG_DISPATCH(float, f32)
PG_DISPATCH(double, f64)
