/* A plain image filter: one input channel, one output channel (template: FC_T, FC_SFX, and
 * FL_ISA: each ISA's file compiles the loops at its own vector width).
 *
 * With one channel there is nothing to vectorize across channels, so the output row is the
 * vector: for each valid tap (ky, kx), acc[ox] += w[ky][kx] * x[iy][ox * stride + off] over
 * the output columns whose input column is real (per-tap column ranges: padding taps are
 * skipped, never read as zeros).  A strided row is first split into `stride` phase rows
 * (phase p holds columns p, p + stride, ...), so that every tap reads a contiguous run.
 * Summation order per output value: taps in (ky, kx) order, as the generic direct kernel,
 * fixed whatever the thread split. */
#include "fc_epilogue_tmpl.h"

#define FL_FN(name) FC_CAT(FC_FN(name), FL_ISA)

/* acc[0, n) += w * src[0, n): the loop the compiler vectorizes at this file's width. */
static inline void FC_FN(fl_axpy)(FC_T *restrict acc, const FC_T *restrict src, FC_T w,
                                  int64_t n) {
    for (int64_t i = 0; i < n; i++) acc[i] += w * src[i];
}

/* Whether filter_rows copies each input row into phase rows (strided, or a row whose
 * columns are not adjacent). */
static inline int FC_FN(fl_split)(const fc_conv_desc *d, const fc_view *x) {
    return d->win.stride_w > 1 || x->sw != 1;
}

/* Workspace of filter_rows: the accumulator row, and the phase rows where needed. */
size_t FL_FN(filter_workspace)(const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    const int64_t split = FC_FN(fl_split)(d, x) ? x->w + d->win.stride_w : 0;
    return sizeof(FC_T) * (size_t)(y->w + split);
}

void FL_FN(filter_rows)(const fc_conv_desc *d, const fc_view *x, const FC_T *w,
                        const FC_T *bias, const fc_view *y, int64_t n, int64_t oy0,
                        int64_t oy1, FC_T *ws) {
    const fc_window *win = &d->win;
    const int64_t s = win->stride_w, wo = y->w, phase_len = (x->w + s - 1) / s;
    const int split = FC_FN(fl_split)(d, x);
    FC_T *acc = ws, *phases = ws + wo;
    const FC_T *xn = (const FC_T *)x->data + n * x->sn;
    FC_T *yn = (FC_T *)y->data + n * y->sn;
    for (int64_t oy = oy0; oy < oy1; oy++) {
        int64_t ky0, ky1;
        fc_valid_taps(oy, win->stride_h, win->pad_top, win->dil_h, win->k_h, x->h, &ky0, &ky1);
        for (int64_t ox = 0; ox < wo; ox++) acc[ox] = 0;
        for (int64_t ky = ky0; ky < ky1; ky++) {
            const FC_T *row = xn + (oy * win->stride_h - win->pad_top + ky * win->dil_h) * x->sh;
            if (split) {   /* phase p at phases + p * phase_len */
                for (int64_t p = 0; p < s; p++)
                    for (int64_t j = 0, ix = p; ix < x->w; j++, ix += s)
                        phases[p * phase_len + j] = row[ix * x->sw];
                row = phases;
            }
            for (int64_t kx = 0; kx < win->k_w; kx++) {
                /* output column ox reads input column ox * s + off: real for ox in [lo, hi) */
                const int64_t off = kx * win->dil_w - win->pad_left;
                const int64_t lo = off < 0 ? (-off + s - 1) / s : 0;
                int64_t hi = off >= x->w ? 0 : (x->w - 1 - off) / s + 1;
                if (hi > wo) hi = wo;
                if (lo >= hi) continue;
                const int64_t first = lo * s + off;   /* its phase, and its place in it */
                FC_FN(fl_axpy)(acc + lo, row + first % s * phase_len + first / s,
                               w[ky * win->k_w + kx], hi - lo);
            }
        }
        if (bias)   /* one output channel: one bias for every pixel, before the activation */
            for (int64_t ox = 0; ox < wo; ox++) acc[ox] += bias[0];
        FC_FN(epilogue_store)(acc, wo, NULL, d->activation, yn + oy * y->sh, y->sw);
    }
}
