/* pool2d: check arguments -> split the work -> kernel. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "fc_pool.h"
#include "fc_parallel.h"
#include "fc_runtime.h"

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
    const int64_t d = *pad - (out - 1) * stride - 1; /* every start is at or before -1 - d */
    if (d > 0) {
        *pad -= d;
        *k -= d;
    }
    const int64_t e = *k - *pad - in - 1; /* every end is at or past in + 1 + e */
    if (e > 0) *k -= e;
}

static fc_status run(fc_dtype dtype, fc_pool_kind kind, const fc_window *win, const fc_view *x,
                     const fc_view *y, const double *div_h, const double *div_w) {
    fc_window clipped = *win;
    clip_window(y->h, win->stride_h, x->h, &clipped.k_h, &clipped.pad_top);
    clip_window(y->w, win->stride_w, x->w, &clipped.k_w, &clipped.pad_left);
    const fc_cntx cx = fc_cntx_now();
    switch (dtype) {
    case FC_FLOAT32: return pool2d_run_f32(&cx, kind, &clipped, x, y, div_h, div_w);
    case FC_FLOAT64: return pool2d_run_f64(&cx, kind, &clipped, x, y, div_h, div_w);
    }
    return FC_ERR_ARG;
}

/* Output columns [o0, o1) as a call of their own, on the input columns [a, b) they reach
 * (a: the first window's start, or 0; b: the last one's end, or the input's): every
 * window keeps its real cells, and padding on a side exactly where it had some. */
static fc_status run_cols(fc_dtype dtype, fc_pool_kind kind, const fc_window *win, const fc_view *x,
                          const fc_view *y, const double *div_h, const double *div_w, int64_t o0,
                          int64_t o1) {
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
    return run(dtype, kind, &w, &xs, &ys, div_h, div_w ? div_w + o0 : NULL);
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

/* A dilated window along one axis as several undilated ones.  Output o's taps start at
 * cell o * s - pad and step d: all of them have that start's residue r mod d.  With
 * g = gcd(s, d), the outputs o0, o0 + T, o0 + 2T, ... (T = d / g) share a residue and their
 * windows start s / g cells of it apart: an undilated pool (stride s / g) over the input's
 * cells r, r + d, r + 2d, ... (a strided view), written to every T-th output.  Each output
 * is still reduced over the same real cells in the same order: results equal the dilated
 * kernel's would, and stay bit-identical for any thread count.  Dilation is where a window
 * can hold only padding: exactly where its phase has no input cells (the padding before and
 * after the input is under the window, so each phase window reaches its phase's first cell). */
typedef struct {
    int64_t out_n, out_step; /* this phase's outputs, and their spacing (T) */
    int64_t in0, in_n;       /* its first input cell and how many (d apart) */
    int64_t stride, pad;     /* its undilated window's stride and padding */
} pool_phase;

static pool_phase axis_phase(int64_t o0, int64_t out, int64_t in, int64_t s, int64_t d,
                             int64_t pad) {
    const int64_t step = d / fc_gcd(s, d), c0 = o0 * s - pad;
    const int64_t r = (c0 % d + d) % d, j0 = (c0 - r) / d;   /* c0 = r + j0 * d */
    const int64_t cells = r < in ? (in - r + d - 1) / d : 0; /* input cells of residue r */
    pool_phase p = {(out - o0 + step - 1) / step, step, r, cells, s / (d / step), -j0};
    if (j0 > 0) { /* the first window starts inside the input: no padding before it */
        p.in0 = r + j0 * d;
        p.in_n = cells > j0 ? cells - j0 : 0;
        p.pad = 0;
    }
    return p;
}

/* A phase without input cells (the input shorter than the dilation, the windows' taps
 * all falling into the padding on either side of it): its windows hold only padding, and
 * give what PyTorch gives: max the identity, -inf; avg 0 over the divisor (0 / 0 = NaN where
 * it counts real cells only). */
static void fill_empty(fc_dtype dtype, fc_pool_kind kind, const fc_view *y, const double *dh,
                       const double *dw) {
    for (int64_t n = 0; n < y->n; n++)
        for (int64_t r = 0; r < y->h; r++)
            for (int64_t o = 0; o < y->w; o++) {
                const double v = kind == FC_POOL_MAX ? -INFINITY : 0.0 / (dh ? dh[r] * dw[o] : 0.0);
                const int64_t at = n * y->sn + r * y->sh + o * y->sw;
                for (int64_t c = 0; c < y->c; c++) {
                    if (dtype == FC_FLOAT64) ((double *)y->data)[at + c * y->sc] = v;
                    else ((float *)y->data)[at + c * y->sc] = (float)v;
                }
            }
}

static fc_status run_dilated(fc_dtype dtype, fc_pool_kind kind, const fc_window *win,
                             const fc_view *x, const fc_view *y, const double *div_h,
                             const double *div_w) {
    const int64_t size = dtype == FC_FLOAT64 ? sizeof(double) : sizeof(float);
    const int64_t th = win->dil_h / fc_gcd(win->stride_h, win->dil_h);
    const int64_t tw = win->dil_w / fc_gcd(win->stride_w, win->dil_w);
    /* the phases' divisors: every th-th row's and tw-th column's */
    double *dh = NULL, *dw = NULL;
    if (div_h && div_w) {
        dh = malloc(sizeof(double) * (size_t)(y->h + y->w));
        if (!dh) return FC_ERR_NOMEM;
        dw = dh + y->h;
    }
    fc_status st = FC_OK;
    for (int64_t oh = 0; oh < th && oh < y->h && st == FC_OK; oh++) {
        const pool_phase ph = axis_phase(oh, y->h, x->h, win->stride_h, win->dil_h, win->pad_top);
        for (int64_t ow = 0; ow < tw && ow < y->w && st == FC_OK; ow++) {
            const pool_phase pw =
                axis_phase(ow, y->w, x->w, win->stride_w, win->dil_w, win->pad_left);
            fc_window w = *win;
            w.stride_h = ph.stride, w.dil_h = 1, w.pad_top = ph.pad;
            w.stride_w = pw.stride, w.dil_w = 1, w.pad_left = pw.pad;
            fc_view xs = *x, ys = *y;
            xs.data = (char *)x->data + (ptrdiff_t)((ph.in0 * x->sh + pw.in0 * x->sw) * size);
            xs.h = ph.in_n, xs.sh = x->sh * win->dil_h;
            xs.w = pw.in_n, xs.sw = x->sw * win->dil_w;
            ys.data = (char *)y->data + (ptrdiff_t)((oh * y->sh + ow * y->sw) * size);
            ys.h = ph.out_n, ys.sh = y->sh * th;
            ys.w = pw.out_n, ys.sw = y->sw * tw;
            for (int64_t t = 0; dh && t < ph.out_n; t++) dh[t] = div_h[oh + t * th];
            for (int64_t t = 0; dw && t < pw.out_n; t++) dw[t] = div_w[ow + t * tw];
            if (xs.h == 0 || xs.w == 0) fill_empty(dtype, kind, &ys, dh, dw);
            else st = fc_pool2d(dtype, kind, &w, &xs, &ys, dh, dw);
        }
    }
    free(dh);
    return st;
}

fc_status fc_pool2d(fc_dtype dtype, fc_pool_kind kind, const fc_window *win, const fc_view *x,
                    const fc_view *y, const double *div_h, const double *div_w) {
    if (x->n != y->n || x->c != y->c) return FC_ERR_ARG;
    if ((div_h == NULL) != (div_w == NULL)) return FC_ERR_ARG;
    if (y->n == 0 || y->h == 0 || y->w == 0 || y->c == 0) return FC_OK;
    if (win->dil_h < 1 || win->dil_w < 1) return FC_ERR_ARG;
    if (win->dil_h > 1 || win->dil_w > 1) return run_dilated(dtype, kind, win, x, y, div_h, div_w);
    if (window_empty(y->h, win->stride_h, win->pad_top, win->k_h, x->h) ||
        window_empty(y->w, win->stride_w, win->pad_left, win->k_w, x->w))
        return FC_ERR_ARG;
    if (dtype != FC_FLOAT32 && dtype != FC_FLOAT64) return FC_ERR_ARG;
    const int64_t wo = y->w, s = win->stride_w, W = x->w;
    int64_t k = win->k_w, pad = win->pad_left;
    clip_window(wo, s, W, &k, &pad);
    if ((wo - 1) * s + k <= SPLIT_SPAN(W)) return run(dtype, kind, win, x, y, div_h, div_w);
    /* oa: the windows that start before the input; ob: the first that ends past it */
    const int64_t pl = win->pad_left, kw = win->k_w;
    int64_t oa = (pl + s - 1) / s, ob = W + pl - kw < 0 ? 0 : (W + pl - kw) / s + 1;
    oa = oa < wo ? oa : wo;
    ob = ob < wo ? ob : wo;
    const int64_t lo = oa < ob ? oa : ob, hi = oa < ob ? ob : oa;
    fc_status st = FC_OK;
    if (lo > 0) st = run_cols(dtype, kind, win, x, y, div_h, div_w, 0, lo);
    if (st == FC_OK && hi > lo)
        st = run_cols(dtype, kind, win, x, y, div_h, div_w, lo, ob < oa ? lo + 1 : hi);
    if (st == FC_OK && hi < wo) st = run_cols(dtype, kind, win, x, y, div_h, div_w, hi, wo);
    if (st != FC_OK || ob >= oa) return st;
    /* A caller's divisor may differ between such windows (count_include_pad with a ceil_mode
     * window past the padding): those are computed on their own, not copied. */
    for (int64_t o = lo + 1; div_w && o < hi && st == FC_OK; o++)
        if (div_w[o] != div_w[lo]) st = run_cols(dtype, kind, win, x, y, div_h, div_w, o, o + 1);
    const int64_t size = dtype == FC_FLOAT64 ? sizeof(double) : sizeof(float);
    for (int64_t n = 0; n < y->n; n++) /* windows over all the input: copies of the first */
        for (int64_t r = 0; r < y->h; r++)
            for (int64_t c = 0; c < y->c; c++) {
                char *p = (char *)y->data + (ptrdiff_t)((n * y->sn + r * y->sh + c * y->sc) * size);
                const char *first = p + (ptrdiff_t)(lo * y->sw * size);
                for (int64_t o = lo + 1; o < hi; o++)
                    if (!div_w || div_w[o] == div_w[lo])
                        memcpy(p + (ptrdiff_t)(o * y->sw * size), first, (size_t)size);
            }
    return st;
}
