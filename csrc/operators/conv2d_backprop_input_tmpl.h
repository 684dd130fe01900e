/* conv2d_backprop_input for one dtype (template: FC_T, FC_SFX): the phases of
 * conv2d_backprop_input.c, each a forward convolution (fc_conv2d_in) into a strided view
 * of dx. */
#include "fc_epilogue_tmpl.h"
#include "conv2d_backprop_input_fewpix_tmpl.h"

/* The phase filter, HWIO [th][tw][out_C / groups][C]: forward taps (ah, aw) reversed, input
 * and output channels swapped within each group; one task per phase tap. */
typedef struct {
    const FC_T *w;
    int64_t k_w, cg, og, groups;
    const bpi_axis *ah, *aw;
    FC_T *sub;
} FC_FN(bpi_filter_job);

static void FC_FN(bpi_filter_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(bpi_filter_job) *j = ctx;
    const int64_t th = t / j->aw->taps, tw = t % j->aw->taps;
    const int64_t cg = j->cg, og = j->og, c = cg * j->groups, oc = og * j->groups;
    const int64_t ky = j->ah->first + (j->ah->taps - 1 - th) * j->ah->step;
    const int64_t kx = j->aw->first + (j->aw->taps - 1 - tw) * j->aw->step;
    const FC_T *src = j->w + (ky * j->k_w + kx) * cg * oc; /* [cg][oc] */
    FC_T *dst = j->sub + t * og * c;                       /* [og][c] */
    /* In tiles of 16 source x 8 destination rows, whose lines stay in L1 even when both row
     * strides are a power of two (3x3x512x512: 2 KiB, which maps every row to the same two
     * L1 sets; a row-at-a-time copy missed on every store and took 2-3x longer). */
    for (int64_t g = 0; g < j->groups; g++)
        for (int64_t i0 = 0; i0 < cg; i0 += 16)
            for (int64_t j0 = 0; j0 < og; j0 += 8) {
                const int64_t i1 = i0 + 16 < cg ? i0 + 16 : cg;
                const int64_t j1 = j0 + 8 < og ? j0 + 8 : og;
                for (int64_t jj = j0; jj < j1; jj++)
                    for (int64_t i = i0; i < i1; i++)
                        dst[jj * c + g * cg + i] = src[i * oc + g * og + jj];
            }
}

/* dx cells no tap reaches: activation(bias), or 0. */
static void FC_FN(bpi_fill)(const fc_view *v, const FC_T *zeros, const FC_T *bias,
                            fc_activation act) {
    for (int64_t n = 0; n < v->n; n++)
        for (int64_t y = 0; y < v->h; y++)
            for (int64_t x = 0; x < v->w; x++)
                FC_FN(epilogue_store)(zeros, v->c, bias, act,
                                      (FC_T *)v->data + n * v->sn + y * v->sh + x * v->sw, v->sc);
}

static fc_status FC_FN(conv2d_backprop_input_run)(const fc_cntx *cx, const fc_conv_desc *d,
                                                  const fc_view *dy, const FC_T *w,
                                                  const FC_T *bias, const fc_view *dx) {
    const fc_window *win = &d->win;
    const int64_t groups = d->groups, cg = dx->c / groups, og = dy->c / groups;
    const int64_t sh = win->stride_h, sw = win->stride_w;
    /* Few pixels: read the filter in place rather than copy it flipped. */
    if (FC_FN(bpi_fp_applies)(d, dy, dx, bias)) return FC_FN(bpi_fp_run)(cx, d, dy, w, dx);
    /* The largest phase filter (taps in each dimension at most ceil(k / step)) and a row of
     * zeros for the cells no tap reaches. */
    FC_T *sub = fc_scratch(FC_SCRATCH_PHASE_FILTER,
                           sizeof(FC_T) * (size_t)(win->k_h * win->k_w * og * dx->c));
    FC_T *zeros = calloc((size_t)dx->c, sizeof(FC_T));
    fc_status status = sub && zeros ? FC_OK : FC_ERR_NOMEM;
    for (int64_t rh = 0; rh < sh && rh < dx->h && status == FC_OK; rh++) {
        const bpi_axis ah = bpi_axis_for(rh, dx->h, dy->h, win->k_h, sh, win->dil_h, win->pad_top);
        for (int64_t rw = 0; rw < sw && rw < dx->w && status == FC_OK; rw++) {
            const bpi_axis aw =
                bpi_axis_for(rw, dx->w, dy->w, win->k_w, sw, win->dil_w, win->pad_left);
            const fc_view out = {(FC_T *)dx->data + rh * dx->sh + rw * dx->sw,
                                 dx->n,
                                 ah.count,
                                 aw.count,
                                 dx->c,
                                 dx->sn,
                                 dx->sh * sh,
                                 dx->sw * sw,
                                 dx->sc};
            const fc_view in = {(FC_T *)dy->data + ah.skip * dy->sh + aw.skip * dy->sw,
                                dy->n,
                                dy->h - ah.skip,
                                dy->w - aw.skip,
                                dy->c,
                                dy->sn,
                                dy->sh,
                                dy->sw,
                                dy->sc};
            if (ah.taps == 0 || aw.taps == 0 || in.h == 0 || in.w == 0 || in.c == 0) {
                FC_FN(bpi_fill)(&out, zeros, bias, d->activation);
                continue;
            }
            /* A copied element costs about as much time as 8 multiply-adds. */
            const FC_FN(bpi_filter_job) fj = {w, win->k_w, cg, og, groups, &ah, &aw, sub};
            fc_parallel_job job = {.phases = 0};
            fc_job_add(&job, ah.taps * aw.taps, FC_FN(bpi_filter_task), &fj);
            status = fc_parallel_run(
                &job, fc_threads_for(16.0 * (double)(ah.taps * aw.taps * og * dx->c)));
            if (status != FC_OK) break;
            const fc_conv_desc pd = {
                {ah.taps, aw.taps, 1, 1, ah.dil, aw.dil, ah.pad, aw.pad}, groups, d->activation};
            status = fc_conv2d_in(cx, FC_T_IS_DOUBLE ? FC_FLOAT64 : FC_FLOAT32, &pd, FC_ALGO_AUTO,
                                  NULL, &in, sub, bias, &out);
        }
    }
    fc_scratch_release(FC_SCRATCH_PHASE_FILTER);
    free(zeros);
    return status;
}
