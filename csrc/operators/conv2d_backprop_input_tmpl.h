/* conv2d_backprop_input for one dtype (template: FC_T, FC_SFX): the phases of
 * conv2d_backprop_input.c, each a forward convolution (fc_conv2d_in) into a strided view
 * of dx. */
#include "fc_epilogue_tmpl.h"

/* The phase filter, HWIO [th][tw][out_C / groups][C]: forward taps (ah, aw) reversed, input
 * and output channels swapped within each group. */
static void FC_FN(bpi_phase_filter)(const FC_T *w, int64_t k_w, int64_t cg, int64_t og,
                                    int64_t groups, const bpi_axis *ah, const bpi_axis *aw,
                                    FC_T *sub) {
    const int64_t c = cg * groups, oc = og * groups;
    for (int64_t th = 0; th < ah->taps; th++) {
        const int64_t ky = ah->first + (ah->taps - 1 - th) * ah->step;
        for (int64_t tw = 0; tw < aw->taps; tw++) {
            const int64_t kx = aw->first + (aw->taps - 1 - tw) * aw->step;
            const FC_T *src = w + (ky * k_w + kx) * cg * oc;   /* [cg][oc] */
            FC_T *dst = sub + (th * aw->taps + tw) * og * c;   /* [og][c] */
            for (int64_t g = 0; g < groups; g++)
                for (int64_t j = 0; j < og; j++)
                    for (int64_t i = 0; i < cg; i++)
                        dst[j * c + g * cg + i] = src[i * oc + g * og + j];
        }
    }
}

/* dx cells no tap reaches: activation(bias), or 0. */
static void FC_FN(bpi_fill)(const fc_view *v, const FC_T *zeros, const FC_T *bias,
                            fc_activation act) {
    for (int64_t n = 0; n < v->n; n++)
        for (int64_t y = 0; y < v->h; y++)
            for (int64_t x = 0; x < v->w; x++)
                FC_FN(epilogue_store)(zeros, v->c, bias, act,
                                      (FC_T *)v->data + n * v->sn + y * v->sh + x * v->sw,
                                      v->sc);
}

static fc_status FC_FN(conv2d_backprop_input_run)(const fc_cntx *cx, const fc_conv_desc *d,
                                                  const fc_view *dy, const FC_T *w,
                                                  const FC_T *bias, const fc_view *dx) {
    const fc_window *win = &d->win;
    const int64_t groups = d->groups, cg = dx->c / groups, og = dy->c / groups;
    const int64_t sh = win->stride_h, sw = win->stride_w;
    /* The largest phase filter (taps in each dimension at most ceil(k / step)) and a row of
     * zeros for the cells no tap reaches. */
    FC_T *sub = fc_alloc(sizeof(FC_T) * (size_t)(win->k_h * win->k_w * og * dx->c));
    FC_T *zeros = calloc((size_t)dx->c, sizeof(FC_T));
    fc_status status = sub && zeros ? FC_OK : FC_ERR_NOMEM;
    for (int64_t rh = 0; rh < sh && rh < dx->h && status == FC_OK; rh++) {
        const bpi_axis ah = bpi_axis_for(rh, dx->h, dy->h, win->k_h, sh, win->dil_h,
                                         win->pad_top);
        for (int64_t rw = 0; rw < sw && rw < dx->w && status == FC_OK; rw++) {
            const bpi_axis aw = bpi_axis_for(rw, dx->w, dy->w, win->k_w, sw, win->dil_w,
                                             win->pad_left);
            const fc_view out = {(FC_T *)dx->data + rh * dx->sh + rw * dx->sw, dx->n, ah.count,
                                 aw.count, dx->c, dx->sn, dx->sh * sh, dx->sw * sw, dx->sc};
            const fc_view in = {(FC_T *)dy->data + ah.skip * dy->sh + aw.skip * dy->sw, dy->n,
                                dy->h - ah.skip, dy->w - aw.skip, dy->c,
                                dy->sn, dy->sh, dy->sw, dy->sc};
            if (ah.taps == 0 || aw.taps == 0 || in.h == 0 || in.w == 0 || in.c == 0) {
                FC_FN(bpi_fill)(&out, zeros, bias, d->activation);
                continue;
            }
            FC_FN(bpi_phase_filter)(w, win->k_w, cg, og, groups, &ah, &aw, sub);
            const fc_conv_desc pd = {{ah.taps, aw.taps, 1, 1, ah.dil, aw.dil, ah.pad, aw.pad},
                                     groups, d->activation};
            status = fc_conv2d_in(cx, FC_T_IS_DOUBLE ? FC_FLOAT64 : FC_FLOAT32, &pd, FC_ALGO_AUTO, &in, sub, bias, &out);
        }
    }
    free(sub);
    free(zeros);
    return status;
}
