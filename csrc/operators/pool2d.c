/* pool2d: check arguments -> split the work -> kernel. */
#include <stdlib.h>
#include "fc_internal.h"

#define FC_TEMPLATE "pool2d_tmpl.h"
#include "fc_instantiate.h"

fc_status fc_pool2d(fc_dtype dtype, fc_pool_kind kind, const fc_window *win, const fc_view *x,
                    const fc_view *y) {
    if (x->n != y->n || x->c != y->c) return FC_ERR_ARG;
    if (y->n == 0 || y->h == 0 || y->w == 0 || y->c == 0) return FC_OK;
    switch (dtype) {
    case FC_FLOAT32: return pool2d_run_f32(kind, win, x, y);
    case FC_FLOAT64: return pool2d_run_f64(kind, win, x, y);
    }
    return FC_ERR_ARG;
}
