/* conv2d: check arguments -> choose the algorithm -> split the work -> kernel. */
#include <stdlib.h>
#include "fc_internal.h"

#define FC_TEMPLATE "conv2d_tmpl.h"
#include "fc_instantiate.h"

fc_algorithm fc_conv2d_choose(const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    /* Measured on the suite (1 thread, Zen 5): the indirect GEMM beats the generic direct
     * kernel on every layer with two or more output channels per group, down to a single
     * input channel (lenet-c1: 3.1 ms against 10.5 ms).  With one output channel per group
     * (depthwise-like) the GEMM tile is mostly padding and the two tie. */
    (void)x;
    return y->c / d->groups >= 2 ? FC_ALGO_IM2COL : FC_ALGO_DIRECT;
}

fc_status fc_conv2d(fc_dtype dtype, const fc_conv_desc *d, fc_algorithm algo, const fc_view *x,
                    const void *filters, const void *bias, const fc_view *y) {
    if (d->groups < 1 || x->c % d->groups || y->c % d->groups || x->n != y->n)
        return FC_ERR_ARG;
    if (y->n == 0 || y->h == 0 || y->w == 0 || y->c == 0) return FC_OK;
    if (algo == FC_ALGO_AUTO) algo = fc_conv2d_choose(d, x, y);
    switch (dtype) {
    case FC_FLOAT32: return conv2d_run_f32(d, algo, x, filters, bias, y);
    case FC_FLOAT64: return conv2d_run_f64(d, algo, x, filters, bias, y);
    }
    return FC_ERR_ARG;
}
