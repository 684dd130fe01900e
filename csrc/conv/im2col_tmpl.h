/* im2col + GEMM convolution, one tile of output pixels at a time (template: FC_T, FC_SFX).
 *
 * A tile of `tile` consecutive output pixels of one image is unfolded, group by group, into
 * a patch matrix P[tile][k_h * k_w * C/groups] (padding cells are zeros) and multiplied by
 * the group's HWIO weights, which already are a [k_h * k_w * C/groups][out_C] row-major
 * matrix (leading dimension out_C).  The workspace is bounded by the tile, not the image. */
#include "fc_epilogue_tmpl.h"

size_t FC_FN(im2col_workspace)(const fc_conv_desc *d, const fc_view *x, const fc_view *y,
                               int64_t tile) {
    const int64_t kdim = d->win.k_h * d->win.k_w * (x->c / d->groups);
    return (size_t)(tile * kdim + tile * (y->c / d->groups));
}

void FC_FN(im2col_conv_tile)(const fc_conv_desc *d, const fc_view *x, const FC_T *w,
                             const FC_T *bias, const fc_view *y, int64_t n, int64_t p0,
                             int64_t p1, FC_T *ws) {
    const fc_window *win = &d->win;
    const int64_t groups = d->groups, cg = x->c / groups, out_c = y->c, og = out_c / groups;
    const int64_t kdim = win->k_h * win->k_w * cg, rows = p1 - p0;
    const FC_T *xn = (const FC_T *)x->data + n * x->sn;
    FC_T *yn = (FC_T *)y->data + n * y->sn;
    FC_T *patches = ws, *prod = ws + rows * kdim;

    for (int64_t g = 0; g < groups; g++) {
        for (int64_t p = p0; p < p1; p++) {
            const int64_t oy = p / y->w, ox = p % y->w;
            FC_T *row = patches + (p - p0) * kdim;
            for (int64_t ky = 0; ky < win->k_h; ky++) {
                const int64_t iy = oy * win->stride_h - win->pad_top + ky * win->dil_h;
                for (int64_t kx = 0; kx < win->k_w; kx++) {
                    const int64_t ix = ox * win->stride_w - win->pad_left + kx * win->dil_w;
                    FC_T *dst = row + (ky * win->k_w + kx) * cg;
                    if (iy < 0 || iy >= x->h || ix < 0 || ix >= x->w) {
                        for (int64_t ic = 0; ic < cg; ic++) dst[ic] = 0;
                    } else {
                        const FC_T *src = xn + iy * x->sh + ix * x->sw + g * cg * x->sc;
                        for (int64_t ic = 0; ic < cg; ic++) dst[ic] = src[ic * x->sc];
                    }
                }
            }
        }
        FC_FN(gemm)(rows, og, kdim, patches, kdim, w + g * og, out_c, prod, og);
        for (int64_t p = p0; p < p1; p++) {
            const int64_t oy = p / y->w, ox = p % y->w;
            FC_FN(epilogue_store)(prod + (p - p0) * og, og, bias ? bias + g * og : NULL,
                                  d->activation, yn + oy * y->sh + ox * y->sw + g * og * y->sc,
                                  y->sc);
        }
    }
}
