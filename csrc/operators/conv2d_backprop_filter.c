/* conv2d_backprop_filter: check arguments -> choose the kernel -> split the work -> kernel.
 * One entry point for conv2d's and depthwise_conv2d's filter gradients: a depthwise filter
 * [k_h][k_w][C][M] is the grouped HWIO filter with groups = C. */
#include <string.h>
#include "fc_backprop_filter.h"
#include "fc_parallel.h"

#define FC_TEMPLATE "conv2d_backprop_filter_tmpl.h"
#include "fc_instantiate.h"

fc_status fc_conv2d_backprop_filter(fc_dtype dtype, const fc_conv_desc *d, const fc_view *x,
                                    const fc_view *dy, void *dw, void *db) {
    if (d->groups < 1 || x->c % d->groups || dy->c % d->groups || x->n != dy->n) return FC_ERR_ARG;
    const fc_cntx cx = fc_cntx_now();
    switch (dtype) {
    case FC_FLOAT32: return bf_run_f32(&cx, d, x, dy, dw, db);
    case FC_FLOAT64: return bf_run_f64(&cx, d, x, dy, dw, db);
    }
    return FC_ERR_ARG;
}
