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

/* Clip one axis of the window to what can touch real cells.  Pooling never reads padding
 * (max: the identity -inf; avg: 0, and the divisor counts real cells only), so where every
 * output's window starts before the input (pad > (out - 1) * stride), all of them can start
 * later, one cell before it; and where every window ends past the input (the first one's
 * end, k - pad, > in), all can end one cell past it.  Each output keeps the same real
 * cells in the same order, and a padding cell on each side where it had one (so even the
 * sign of a zero average is unchanged: the sums are bit-identical), and fc_valid_taps, the
 * divisors and the rows visited are the same.  The window then spans at most the input,
 * two cells and the outputs' spread ((out - 1) * stride, less than the input under SAME),
 * whatever ksize was: without the clip the kernels' buffers and horizontal passes grew
 * with it (SAME, ksize 10**6, a 10x10 input: 2e6-cell rows, minutes of work).
 * It belongs here, where the call is planned, not in _geometry.py: the resolved window
 * (output size, padding split, error messages) stays TF's and is shared with the reference
 * and the GPU path; this is an equivalence of the kernels' work only. */
static void clip_window(int64_t out, int64_t stride, int64_t in, int64_t *k, int64_t *pad) {
    const int64_t d = *pad - (out - 1) * stride - 1;   /* every start is at or before -1 - d */
    if (d > 0) {
        *pad -= d;
        *k -= d;
    }
    const int64_t e = *k - *pad - in - 1;   /* every end is at or past in + 1 + e */
    if (e > 0) *k -= e;
}

fc_status fc_pool2d(fc_dtype dtype, fc_pool_kind kind, const fc_window *win, const fc_view *x,
                    const fc_view *y) {
    if (x->n != y->n || x->c != y->c) return FC_ERR_ARG;
    if (y->n == 0 || y->h == 0 || y->w == 0 || y->c == 0) return FC_OK;
    if (window_empty(y->h, win->stride_h, win->pad_top, win->k_h, x->h) ||
        window_empty(y->w, win->stride_w, win->pad_left, win->k_w, x->w))
        return FC_ERR_ARG;
    fc_window clipped = *win;
    clip_window(y->h, win->stride_h, x->h, &clipped.k_h, &clipped.pad_top);
    clip_window(y->w, win->stride_w, x->w, &clipped.k_w, &clipped.pad_left);
    const fc_cntx cx = fc_cntx_now();
    switch (dtype) {
    case FC_FLOAT32: return pool2d_run_f32(&cx, kind, &clipped, x, y);
    case FC_FLOAT64: return pool2d_run_f64(&cx, kind, &clipped, x, y);
    }
    return FC_ERR_ARG;
}
