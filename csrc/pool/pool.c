/* Pooling: the entry point, forwarding to the call context's ISA's instantiation of pool_tmpl.h. */
#include "fc_pool.h"

#define PL_DISPATCH(T, SFX)                                                                        \
    FC_ISA_DECLARE(void, SFX, pool_rows, (const fc_pool_job *, int64_t, int64_t, int64_t, T *))    \
    void FC_CAT(pool_rows, SFX)(const fc_cntx *cx, const fc_pool_job *j, int64_t plane,            \
                                int64_t oy0, int64_t oy1, T *buf) {                                \
        FC_ISA_FORWARD(cx->isa, SFX, pool_rows, (j, plane, oy0, oy1, buf))                         \
    }

PL_DISPATCH(float, f32)
PL_DISPATCH(double, f64)
