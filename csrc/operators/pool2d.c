/* pool2d: check arguments -> split the work -> kernel. */
#include <stdlib.h>
#include <string.h>
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

static fc_status run(fc_dtype dtype, fc_pool_kind kind, const fc_window *win, const fc_view *x,
                     const fc_view *y) {
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

/* Output columns [o0, o1) as a call of their own, on the input columns [a, b) they reach
 * (a: the first window's start, or 0; b: the last one's end, or the input's): every
 * window keeps its real cells, and padding on a side exactly where it had some. */
static fc_status run_cols(fc_dtype dtype, fc_pool_kind kind, const fc_window *win,
                          const fc_view *x, const fc_view *y, int64_t o0, int64_t o1) {
    const int64_t size = dtype == FC_FLOAT64 ? sizeof(double) : sizeof(float);
    const int64_t s = win->stride_w, start = o0 * s - win->pad_left;
    const int64_t end = (o1 - 1) * s - win->pad_left + win->k_w;
    const int64_t a = start > 0 ? start : 0, b = end < x->w ? end : x->w;
    fc_window w = *win;
    w.pad_left = win->pad_left - o0 * s + a;
    fc_view xs = *x, ys = *y;
    xs.data = (char *)x->data + (ptrdiff_t)(a * x->sw * size);
    xs.w = b - a;
    ys.data = (char *)y->data + (ptrdiff_t)(o0 * y->sw * size);
    ys.w = o1 - o0;
    return run(dtype, kind, &w, &xs, &ys);
}

/* Where the clipped window still spans far more than the input, the windows are far
 * apart (a stride past the input) with padding to match, explicitly asked for (SAME's
 * padding stays under the window and its outputs' spread under the input): say W = 10,
 * k = 10**7 with 10**7 - 1 cells of padding a side, stride 10**7 + 8, each window
 * holding one real cell and the buffer 2e7 cells.  Such a call runs as up to three, on
 * the output columns whose windows start before the input (and end in it), those inside
 * it, and those ending past it (and starting in it): each spans at most three inputs
 * after the clip.  Windows that both start before and end past the input hold all of it,
 * the same cells with padding on both sides: the first is computed and copied.  Other
 * calls (every ordinary pool) run whole, as before. */
#define SPLIT_SPAN(in) (4 * (in) + 64)

fc_status fc_pool2d(fc_dtype dtype, fc_pool_kind kind, const fc_window *win, const fc_view *x,
                    const fc_view *y) {
    if (x->n != y->n || x->c != y->c) return FC_ERR_ARG;
    if (y->n == 0 || y->h == 0 || y->w == 0 || y->c == 0) return FC_OK;
    if (window_empty(y->h, win->stride_h, win->pad_top, win->k_h, x->h) ||
        window_empty(y->w, win->stride_w, win->pad_left, win->k_w, x->w))
        return FC_ERR_ARG;
    if (dtype != FC_FLOAT32 && dtype != FC_FLOAT64) return FC_ERR_ARG;
    const int64_t wo = y->w, s = win->stride_w, W = x->w;
    int64_t k = win->k_w, pad = win->pad_left;
    clip_window(wo, s, W, &k, &pad);
    if ((wo - 1) * s + k <= SPLIT_SPAN(W)) return run(dtype, kind, win, x, y);
    /* oa: the windows that start before the input; ob: the first that ends past it */
    const int64_t pl = win->pad_left, kw = win->k_w;
    int64_t oa = (pl + s - 1) / s, ob = W + pl - kw < 0 ? 0 : (W + pl - kw) / s + 1;
    oa = oa < wo ? oa : wo;
    ob = ob < wo ? ob : wo;
    const int64_t lo = oa < ob ? oa : ob, hi = oa < ob ? ob : oa;
    fc_status st = FC_OK;
    if (lo > 0) st = run_cols(dtype, kind, win, x, y, 0, lo);
    if (st == FC_OK && hi > lo) st = run_cols(dtype, kind, win, x, y, lo, ob < oa ? lo + 1 : hi);
    if (st == FC_OK && hi < wo) st = run_cols(dtype, kind, win, x, y, hi, wo);
    if (st != FC_OK || ob >= oa) return st;
    const int64_t size = dtype == FC_FLOAT64 ? sizeof(double) : sizeof(float);
    for (int64_t n = 0; n < y->n; n++)   /* windows over all the input: copies of the first */
        for (int64_t r = 0; r < y->h; r++)
            for (int64_t c = 0; c < y->c; c++) {
                char *p = (char *)y->data + (ptrdiff_t)((n * y->sn + r * y->sh + c * y->sc) * size);
                const char *first = p + (ptrdiff_t)(lo * y->sw * size);
                for (int64_t o = lo + 1; o < hi; o++)
                    memcpy(p + (ptrdiff_t)(o * y->sw * size), first, (size_t)size);
            }
    return FC_OK;
}
