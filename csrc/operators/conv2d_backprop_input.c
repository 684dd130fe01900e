/* conv2d_backprop_input: the gradient of conv2d with respect to its input (and
 * conv2d_transpose, the same operation with an optional bias and activation).
 *
 * dx[iy] = sum over taps ky and output rows oy with oy * s - pad + ky * d = iy of
 * dy[oy] * w[ky] (per channel pair).  The input rows of one residue r = iy mod s (a
 * "phase") are reached from the same taps, those with (ky * d - r - pad) divisible by s,
 * and from consecutive output rows: for each phase the gradient is a stride-1 forward
 * convolution of dy with those taps in reverse order (the flipped filter) and with input
 * and output channels swapped, written into the rows r, r + s, ... of dx.  So the strided
 * case is s_h * s_w small convolutions written in place through strided views of dx
 * (fc_view carries element strides) -- never a zero-stuffed dy, and every phase runs the
 * whole forward machinery (algorithm choice, Winograd, im2col + GEMM, direct kernels,
 * parallel layer).  Each dx element belongs to exactly one phase and is summed by one
 * forward convolution, so results are bit-identical for any thread count, as conv2d's are.
 *
 * Why phases run as separate forward calls rather than one parallel job: the forward
 * operator already plans each problem (algorithm, layout copies, weight packing) as one
 * job of up to FC_MAX_PHASES phases, and a phase problem has the shape of an ordinary
 * convolution; running s_h * s_w of them one after the other costs one parallel-region
 * start each (microseconds) and keeps a single copy of the planning logic.
 *
 * A stride-1 gradient of few pixels skips the phase filter's copy altogether
 * (conv2d_backprop_input_fewpix_tmpl.h). */
#include <stdlib.h>
#include "fc_runtime.h"
#include "fc_gemm.h"
#include "fc_parallel.h"

/* One phase along one dimension: the dx cells r, r + s, ... and the taps that reach them. */
typedef struct {
    int64_t count;       /* dx cells of this residue */
    int64_t taps;        /* filter taps that reach them (0: the cells get no gradient) */
    int64_t first, step; /* the taps are first, first + step, ... (forward filter index) */
    int64_t dil;         /* the phase convolution's dilation over dy */
    int64_t pad;         /* its padding before dy (>= 0) */
    int64_t skip;        /* dy cells skipped at the start (the padding would be negative) */
} bpi_axis;

static int64_t floor_div(int64_t a, int64_t b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* dx cell i = s * q + r is reached by tap k from dy cell o = (i + pad - k * d) / s when that
 * divides exactly; with the taps reversed, phase tap t (forward tap first + (taps-1-t) *
 * step) reads dy cell q - e_last + t * (d / g), e_last = (k_last * d - r - pad) / s. */
static bpi_axis bpi_axis_for(int64_t r, int64_t in_len, int64_t out_len, int64_t k, int64_t s,
                             int64_t d, int64_t pad) {
    bpi_axis a = {0, 0, 0, 1, 1, 0, 0};
    a.count = r < in_len ? (in_len - r + s - 1) / s : 0;
    const int64_t g = fc_gcd(d, s);
    a.step = s / g;
    a.dil = d / g;
    int64_t first = -1;
    for (int64_t kk = 0; kk < k && kk < a.step; kk++)
        if (((kk * d - r - pad) % s + s) % s == 0) {
            first = kk;
            break;
        }
    if (first < 0) return a;
    a.first = first;
    a.taps = (k - first + a.step - 1) / a.step;
    const int64_t last = first + (a.taps - 1) * a.step;
    const int64_t e_last = floor_div(last * d - r - pad, s);
    if (e_last >= 0) {
        a.pad = e_last;
    } else { /* the first dy cells are never read: start the view past them */
        a.skip = -e_last < out_len ? -e_last : out_len;
        a.pad = 0;
    }
    return a;
}

/* Up to this many dx pixels, a stride-1 gradient reads the filter in place
 * (conv2d_backprop_input_fewpix_tmpl.h) instead of copying it flipped: the copy costs
 * taps x C x out_C, about as much as the convolution when there are few pixels. */
#ifndef FC_BPI_FEWPIX_MAX
#define FC_BPI_FEWPIX_MAX 128
#endif

#define FC_TEMPLATE "conv2d_backprop_input_tmpl.h"
#include "fc_instantiate.h"

fc_status fc_conv2d_backprop_input(fc_dtype dtype, const fc_conv_desc *d, const fc_view *dy,
                                   const void *filters, const void *bias, const fc_view *dx) {
    if (d->groups < 1 || dx->c % d->groups || dy->c % d->groups || dx->n != dy->n)
        return FC_ERR_ARG;
    if (dx->n == 0 || dx->h == 0 || dx->w == 0 || dx->c == 0) return FC_OK;
    const fc_cntx cx = fc_cntx_now();
    switch (dtype) {
    case FC_FLOAT32: return conv2d_backprop_input_run_f32(&cx, d, dy, filters, bias, dx);
    case FC_FLOAT64: return conv2d_backprop_input_run_f64(&cx, d, dy, filters, bias, dx);
    }
    return FC_ERR_ARG;
}
