/* pool2d: check arguments -> split the work -> kernel. */
#include <stdlib.h>
#include "fc_internal.h"
#include "fc_parallel.h"

#define FC_TEMPLATE "pool2d_tmpl.h"
#include "fc_instantiate.h"

/* Whether a window along one axis holds no real cell (the Python layer keeps padding under
 * the window size, so never); windows move monotonically: the first and last ones tell. */
static int window_empty(int64_t out, int64_t stride, int64_t pad, int64_t k, int64_t in) {
    int64_t k0, k1, l0, l1;
    fc_valid_taps(0, stride, pad, 1, k, in, &k0, &k1);
    fc_valid_taps(out - 1, stride, pad, 1, k, in, &l0, &l1);
    return k0 == k1 || l0 == l1;
}

fc_status fc_pool2d(fc_dtype dtype, fc_pool_kind kind, const fc_window *win, const fc_view *x,
                    const fc_view *y) {
    if (x->n != y->n || x->c != y->c) return FC_ERR_ARG;
    if (y->n == 0 || y->h == 0 || y->w == 0 || y->c == 0) return FC_OK;
    if (window_empty(y->h, win->stride_h, win->pad_top, win->k_h, x->h) ||
        window_empty(y->w, win->stride_w, win->pad_left, win->k_w, x->w))
        return FC_ERR_ARG;
    const fc_cntx cx = fc_cntx_now();
    switch (dtype) {
    case FC_FLOAT32: return pool2d_run_f32(&cx, kind, win, x, y);
    case FC_FLOAT64: return pool2d_run_f64(&cx, kind, win, x, y);
    }
    return FC_ERR_ARG;
}
