/* Image filters: a few input and output channels, too few for the channel vectors of the
 * other kernels (template: FC_T, FC_SFX, and FL_ISA: each ISA's file compiles the loops at
 * its own vector width).
 *
 * With so few channels the output row is the vector: for each valid tap (ky, kx), input
 * channel ic and output channel oc, acc[oc][ox] += w[ky][kx][ic][oc] * x[iy][ox * stride +
 * off][ic] over the output columns whose input column is real (per-tap column ranges:
 * padding taps are skipped, never read as zeros).  Each input row is first split, per
 * channel, into `stride` phase rows (phase p holds columns p, p + stride, ...), so that every
 * tap reads a contiguous run (a row of adjacent columns at stride 1 is read in place: one
 * channel, or the planes of an NCHW image, which the operator passes as they are).  Summation
 * order per output value: (ky, kx, ic), as the generic direct kernel, whatever the thread
 * split. */
#include "fc_epilogue_tmpl.h"
#include "fc_gather_tmpl.h"

#define FL_FN(name) FC_CAT(FC_FN(name), FL_ISA)

/* acc[0, n) += w * src[0, n): the loop the compiler vectorizes at this file's width. */
static inline void FC_FN(fl_axpy)(FC_T *restrict acc, const FC_T *restrict src, FC_T w, int64_t n) {
    for (int64_t i = 0; i < n; i++) acc[i] += w * src[i];
}

/* Whether filter_rows copies each input row into phase rows (strided, several channels, or
 * a row whose columns are not adjacent). */
static inline int FC_FN(fl_split)(const fc_conv_desc *d, const fc_view *x) {
    return d->win.stride_w > 1 || x->sw != 1;
}

/* Workspace of filter_rows: a row of accumulators per output channel, and the phase rows of
 * every input channel where needed. */
size_t FL_FN(filter_workspace)(const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    const int64_t split = FC_FN(fl_split)(d, x) ? x->c * (x->w + d->win.stride_w) : 0;
    return sizeof(FC_T) * (size_t)(y->c * y->w + split);
}

void FL_FN(filter_rows)(const fc_conv_desc *d, const fc_view *x, const FC_T *w, const FC_T *bias,
                        const fc_view *y, int64_t n, int64_t oy0, int64_t oy1, FC_T *ws) {
    const fc_window *win = &d->win;
    const int64_t s = win->stride_w, wo = y->w, c_in = x->c, c_out = y->c;
    const int64_t phase_len = (x->w + s - 1) / s, chan_len = s * phase_len;
    const int split = FC_FN(fl_split)(d, x);
    /* where channel ic of a row starts: its phase rows, or in place (planar NCHW rows) */
    const int64_t chan_step = split ? chan_len : x->sc;
    FC_T *acc = ws, *phases = ws + c_out * wo;
    const FC_T *xn = (const FC_T *)x->data + n * x->sn;
    FC_T *yn = (FC_T *)y->data + n * y->sn;
    for (int64_t oy = oy0; oy < oy1; oy++) {
        int64_t ky0, ky1;
        fc_valid_taps(oy, win->stride_h, win->pad_top, win->dil_h, win->k_h, x->h, &ky0, &ky1);
        for (int64_t i = 0; i < c_out * wo; i++) acc[i] = 0;
        for (int64_t ky = ky0; ky < ky1; ky++) {
            const FC_T *row = xn + (oy * win->stride_h - win->pad_top + ky * win->dil_h) * x->sh;
            if (split) { /* channel ic, phase p at phases + ic * chan_len + p * phase_len */
                for (int64_t ic = 0; ic < c_in; ic++)
                    for (int64_t p = 0; p < s; p++)
                        FC_FN(gather)(phases + ic * chan_len + p * phase_len,
                                      row + p * x->sw + ic * x->sc, s * x->sw,
                                      (x->w - p + s - 1) / s);
                row = phases;
            }
            for (int64_t kx = 0; kx < win->k_w; kx++) {
                /* output column ox reads input column ox * s + off: real for ox in [lo, hi) */
                const int64_t off = kx * win->dil_w - win->pad_left;
                const int64_t lo = off < 0 ? (-off + s - 1) / s : 0;
                int64_t hi = off >= x->w ? 0 : (x->w - 1 - off) / s + 1;
                if (hi > wo) hi = wo;
                if (lo >= hi) continue;
                const int64_t first = lo * s + off; /* its phase, and its place in it */
                const FC_T *src = row + first % s * phase_len + first / s;
                const FC_T *wk = w + (ky * win->k_w + kx) * c_in * c_out;
                for (int64_t ic = 0; ic < c_in; ic++)
                    for (int64_t oc = 0; oc < c_out; oc++)
                        FC_FN(fl_axpy)(acc + oc * wo + lo, src + ic * chan_step,
                                       wk[ic * c_out + oc], hi - lo);
            }
        }
        for (int64_t oc = 0; oc < c_out; oc++) {
            FC_T *a = acc + oc * wo;
            if (bias) /* one bias per channel, before the activation */
                for (int64_t ox = 0; ox < wo; ox++) a[ox] += bias[oc];
            FC_FN(epilogue_store)(a, wo, NULL, d->activation, yn + oy * y->sh + oc * y->sc, y->sw);
        }
    }
}
