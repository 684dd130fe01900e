/* Pooling gradients and max pooling with its argmax: the call as the kernels see it and
 * their declarations (pool/pool_grad_tmpl.h, operators/pool2d_grad.c). */
#ifndef FC_POOL_GRAD_H
#define FC_POOL_GRAD_H

#include "fc_internal.h"

/* One call, filled once by the operator.  The gradient ops read x (the forward input; its
 * values only for max) and g (the output's gradient) and write dx; the argmax op reads x and
 * writes y and argmax (int64 elements), whose values are index_strides . (b, y, x, c) of
 * the winning cell.  c0/c1 bound a task's channels, set per task. */
typedef struct {
    fc_pool_kind kind;
    const fc_window *win;
    const fc_view *x, *g, *dx;
    const fc_view *y, *argmax;
    int64_t index_strides[4];
} fc_pool_grad_job;

/* The kernels, per dtype, forwarding to the call context's ISA.
 * pool_grad_rows: dx rows [iy0, iy1) of image n, channels [c0, c1), written whole.
 * pool_argmax_rows: y and argmax rows [oy0, oy1) of image n, channels [c0, c1). */
#define FC_DECLARE_POOL_GRAD(T, SFX)                                                               \
    void FC_CAT(pool_grad_rows, SFX)(const fc_cntx *cx, const fc_pool_grad_job *j, int64_t n,      \
                                     int64_t c0, int64_t c1, int64_t iy0, int64_t iy1);            \
    void FC_CAT(pool_argmax_rows, SFX)(const fc_cntx *cx, const fc_pool_grad_job *j, int64_t n,    \
                                       int64_t c0, int64_t c1, int64_t oy0, int64_t oy1);
FC_DECLARE_POOL_GRAD(float, f32)
FC_DECLARE_POOL_GRAD(double, f64)

#endif
