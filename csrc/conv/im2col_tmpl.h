/* Implicit im2col + GEMM convolution (template: FC_T, FC_SFX).
 *
 * The convolution is the GEMM Y[M x out_C] = P[M x K] * W[K x out_C] per group, with M the
 * output pixels of the whole batch, K = k_h * k_w * C/groups (tap-major, channel-minor, the
 * order of HWIO filters) and P the patch matrix.  P is never materialized: each thread packs
 * the rows of its block, one K block at a time, straight from the NHWC input (padding cells
 * as zeros), into a workspace of MC x KC values.  A 1x1, stride-1, unpadded convolution of
 * a dense NHWC input reads P in place: the input already is P.  W is packed once per call
 * into the micro-kernel's panel format and shared by every block and image. */
#include <string.h>

typedef struct {
    int64_t cg, og, kdim, kc, npanel;
} FC_FN(im2col_dims);

static FC_FN(im2col_dims) FC_FN(dims)(const fc_conv_desc *d, const fc_view *x,
                                      const fc_view *y) {
    const FC_FN(fc_ukernel) *uk = FC_FN(fc_ukernel_for)(fc_get_isa());
    FC_FN(im2col_dims) s;
    s.cg = x->c / d->groups;
    s.og = y->c / d->groups;
    s.kdim = d->win.k_h * d->win.k_w * s.cg;
    s.kc = FC_GEMM_KC_BYTES / (int64_t)sizeof(FC_T);
    s.npanel = (s.og + uk->nr - 1) / uk->nr;
    return s;
}

int64_t FC_FN(im2col_panels)(const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    return FC_FN(dims)(d, x, y).npanel;
}

size_t FC_FN(im2col_packed_weights_size)(const fc_conv_desc *d, const fc_view *x,
                                         const fc_view *y) {
    const FC_FN(im2col_dims) s = FC_FN(dims)(d, x, y);
    const int64_t nr = FC_FN(fc_ukernel_for)(fc_get_isa())->nr;
    return (size_t)(d->groups * s.npanel * s.kdim * nr);
}

/* Pack weight panels [first, last) of every group: HWIO is already W[K][out_C]. */
void FC_FN(im2col_pack_weights)(const fc_conv_desc *d, const fc_view *x, const fc_view *y,
                                const FC_T *w, int64_t first, int64_t last, FC_T *wpack) {
    const FC_FN(im2col_dims) s = FC_FN(dims)(d, x, y);
    const int64_t nr = FC_FN(fc_ukernel_for)(fc_get_isa())->nr;
    for (int64_t g = 0; g < d->groups; g++)
        FC_FN(gemm_pack_b)(nr, s.kdim, s.og, w + g * s.og, y->c, first, last,
                           wpack + g * s.npanel * s.kdim * nr);
}

size_t FC_FN(im2col_workspace)(const fc_conv_desc *d, const fc_view *x, const fc_view *y,
                               int64_t mc) {
    const FC_FN(im2col_dims) s = FC_FN(dims)(d, x, y);
    const int64_t mr = FC_FN(fc_ukernel_for)(fc_get_isa())->mr;
    return (size_t)((mc + mr) * s.kc);   /* the block, then the zero-padded tail panel */
}

/* The input is its own patch matrix: 1x1, stride 1, output pixels = input pixels, dense
 * NHWC. */
static int FC_FN(reads_in_place)(const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    const fc_window *w = &d->win;
    return w->k_h == 1 && w->k_w == 1 && w->stride_h == 1 && w->stride_w == 1 &&
           w->pad_top == 0 && w->pad_left == 0 && y->h == x->h && y->w == x->w &&
           fc_is_dense(x);
}

/* Rows [m0, m1) of the patch matrix of group g, columns [k0, k0 + kc), row-major. */
static void FC_FN(pack_patches)(const fc_conv_desc *d, const fc_view *x, const fc_view *y,
                                int64_t cg, int64_t g, int64_t m0, int64_t m1, int64_t k0,
                                int64_t kc, FC_T *dst) {
    const fc_window *win = &d->win;
    const int64_t pixels = y->h * y->w;
    for (int64_t m = m0; m < m1; m++) {
        const int64_t n = m / pixels, pix = m % pixels;
        const int64_t iy0 = (pix / y->w) * win->stride_h - win->pad_top;
        const int64_t ix0 = (pix % y->w) * win->stride_w - win->pad_left;
        const FC_T *xn = (const FC_T *)x->data + n * x->sn + g * cg * x->sc;
        FC_T *row = dst + (m - m0) * kc;
        for (int64_t k = k0; k < k0 + kc;) {
            const int64_t tap = k / cg, ic = k % cg;
            const int64_t len = cg - ic < k0 + kc - k ? cg - ic : k0 + kc - k;
            const int64_t iy = iy0 + (tap / win->k_w) * win->dil_h;
            const int64_t ix = ix0 + (tap % win->k_w) * win->dil_w;
            FC_T *out = row + (k - k0);
            if (iy < 0 || iy >= x->h || ix < 0 || ix >= x->w) {
                memset(out, 0, sizeof(FC_T) * (size_t)len);
            } else {
                const FC_T *src = xn + iy * x->sh + ix * x->sw + ic * x->sc;
                if (x->sc == 1) memcpy(out, src, sizeof(FC_T) * (size_t)len);
                else for (int64_t t = 0; t < len; t++) out[t] = src[t * x->sc];
            }
            k += len;
        }
    }
}

/* Output rows [m0, m1) (pixels of the batch), panels [p0, p1) of group g, into the dense
 * NHWC output yd [M][out_C]; bias and activation fused after the last K block. */
void FC_FN(im2col_conv_block)(const fc_conv_desc *d, const fc_view *x, const fc_view *y,
                              const FC_T *wpack, const FC_T *bias, FC_T *yd, int64_t m0,
                              int64_t m1, int64_t g, int64_t p0, int64_t p1, FC_T *ws) {
    const FC_FN(fc_ukernel) *uk = FC_FN(fc_ukernel_for)(fc_get_isa());
    const FC_FN(im2col_dims) s = FC_FN(dims)(d, x, y);
    const int in_place = FC_FN(reads_in_place)(d, x, y);
    const int64_t rows = m1 - m0, j0 = p0 * uk->nr;
    const int64_t cols = (p1 * uk->nr < s.og ? p1 * uk->nr : s.og) - j0;
    const FC_T *panels = wpack + (g * s.npanel + p0) * s.kdim * uk->nr;
    FC_T *atail = ws + rows * s.kc;

    for (int64_t k0 = 0; k0 < s.kdim; k0 += s.kc) {
        const int64_t kc = s.kdim - k0 < s.kc ? s.kdim - k0 : s.kc;
        const FC_T *a;
        int64_t rs_a;
        if (in_place) {
            a = (const FC_T *)x->data + m0 * x->c + g * s.cg + k0;
            rs_a = x->c;
        } else {
            FC_FN(pack_patches)(d, x, y, s.cg, g, m0, m1, k0, kc, ws);
            a = ws;
            rs_a = kc;
        }
        FC_FN(gemm_macro)(uk, rows, cols, kc, a, rs_a, panels + k0 * uk->nr,
                          s.kdim * uk->nr, yd + m0 * y->c + g * s.og + j0, y->c, k0 > 0,
                          k0 + kc == s.kdim, bias ? bias + g * s.og + j0 : NULL,
                          d->activation, atail);
    }
}
