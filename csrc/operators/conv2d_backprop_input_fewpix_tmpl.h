/* The input gradient of a stride-1, one-group convolution with few pixels (template: FC_T,
 * FC_SFX; included by conv2d_backprop_input_tmpl.h).
 *
 * The phase path (conv2d_backprop_input.c) copies the filter flipped and transposed before
 * its forward convolution: taps x C x out_C values, which on a 7x7x512 layer (49 pixels,
 * 2.4 M weights) took as long as the convolution itself.  Here the filter is read as it
 * is: dx^T[ci][p] = sum over taps t and channels o of w[t][ci][o] * dy[p shifted by t][o],
 * a GEMM whose A rows are the filter's own rows w[t][ci][:] (the micro-kernel reads them
 * through its indirection buffer, one pointer per tap) and whose B panels are out_backprop
 * at NR dx pixels, transposed -- packed per task, one panel and one block of out_C at a
 * time (never the whole patch matrix).  A task owns a block of dx channels (C's rows),
 * sums every tap and channel block into it in a fixed order and stores it transposed into
 * dx, so results are bit-identical for any thread count. */

typedef struct {
    const fc_cntx *cx;
    const fc_conv_desc *d;
    const fc_view *dy, *dx;
    const FC_T *w;
    int64_t pixels, panels; /* dx pixels, NR-wide panels of them */
    int64_t kcb, kblocks;   /* out_C in blocks of kcb channels (the last may be shorter) */
    int64_t rows;           /* dx channels per task (a multiple of MR) */
} FC_FN(bpi_fp_call);

/* The B panel of dx pixels [p0, p0 + NR) and channels [o0, o0 + kc), every tap:
 * b[t][k][j] = dy at (pixel p0 + j shifted by tap t, channel o0 + k), zero past the
 * image, the padding or the last pixel. */
static void FC_FN(bpi_fp_pack)(const FC_FN(bpi_fp_call) * c, int64_t nr, int64_t p0, int64_t o0,
                               int64_t kc, FC_T *restrict b) {
    const fc_view *dy = c->dy, *dx = c->dx;
    const fc_window *win = &c->d->win;
    const int64_t taps = win->k_h * win->k_w;
    for (int64_t t = 0; t < taps; t++) {
        const int64_t ky = t / win->k_w, kx = t % win->k_w;
        FC_T *restrict bt = b + t * kc * nr;
        for (int64_t j = 0; j < nr; j++) {
            const int64_t p = p0 + j, n = p / (dx->h * dx->w);
            const int64_t oy = p / dx->w % dx->h + win->pad_top - ky * win->dil_h;
            const int64_t ox = p % dx->w + win->pad_left - kx * win->dil_w;
            if (p >= c->pixels || oy < 0 || oy >= dy->h || ox < 0 || ox >= dy->w) {
                for (int64_t k = 0; k < kc; k++) bt[k * nr + j] = 0;
                continue;
            }
            const FC_T *restrict src =
                (const FC_T *)dy->data + n * dy->sn + oy * dy->sh + ox * dy->sw + o0 * dy->sc;
            for (int64_t k = 0; k < kc; k++) bt[k * nr + j] = src[k * dy->sc];
        }
    }
}

/* dx channels [i0, i0 + rows) of every pixel from the task's block of dx^T ([rows][ldc]),
 * in tiles of 16 channels: 16 sequential streams on the workspace side. */
static void FC_FN(bpi_fp_store)(const FC_FN(bpi_fp_call) * c, const FC_T *restrict ct, int64_t ldc,
                                int64_t i0, int64_t rows) {
    const fc_view *dx = c->dx;
    enum { TB = 16 };
    for (int64_t r0 = 0; r0 < rows; r0 += TB) {
        const int64_t r1 = r0 + TB < rows ? r0 + TB : rows;
        for (int64_t p = 0; p < c->pixels; p++) {
            const int64_t n = p / (dx->h * dx->w), y = p / dx->w % dx->h, x = p % dx->w;
            FC_T *restrict dst =
                (FC_T *)dx->data + n * dx->sn + y * dx->sh + x * dx->sw + i0 * dx->sc;
            for (int64_t r = r0; r < r1; r++) dst[r * dx->sc] = ct[r * ldc + p];
        }
    }
}

/* The per-task workspace: the block of dx^T, one B panel block, the indirection buffer. */
static size_t FC_FN(bpi_fp_sizes)(const FC_FN(bpi_fp_call) * c, size_t sizes[3]) {
    const FC_FN(fc_ukernel) *uk = FC_UKERNEL(c->cx);
    const int64_t taps = c->d->win.k_h * c->d->win.k_w;
    sizes[0] = fc_align_up(sizeof(FC_T) * (size_t)(c->rows * c->panels * uk->nr));
    sizes[1] = fc_align_up(sizeof(FC_T) * (size_t)(taps * c->kcb * uk->nr));
    sizes[2] = fc_align_up(sizeof(FC_T *) * (size_t)(c->rows * taps));
    return sizes[0] + sizes[1] + sizes[2];
}

static void FC_FN(bpi_fp_task)(const void *ctx, int64_t task, void *ws) {
    const FC_FN(bpi_fp_call) *c = ctx;
    const FC_FN(fc_ukernel) *uk = FC_UKERNEL(c->cx);
    const fc_window *win = &c->d->win;
    const int64_t taps = win->k_h * win->k_w, mr = uk->mr, nr = uk->nr;
    const int64_t cin = c->dx->c, oc = c->dy->c, ldc = c->panels * nr;
    const int64_t i0 = task * c->rows, rows = cin - i0 < c->rows ? cin - i0 : c->rows;
    size_t sizes[3];
    FC_FN(bpi_fp_sizes)(c, sizes);
    FC_T *ct = ws, *b = (FC_T *)((char *)ws + sizes[0]);
    const FC_T **ind = (const FC_T **)((char *)ws + sizes[0] + sizes[1]);
    /* A rows: w[t][ci][:] for the task's channels; rows past the last repeat the first
     * (the macro-kernel computes them into a local tile and never stores them). */
    const int64_t ptrs = (rows + mr - 1) / mr * mr;
    for (int64_t i = 0; i < ptrs; i++)
        for (int64_t t = 0; t < taps; t++)
            ind[i / mr * taps * mr + t * mr + i % mr] =
                c->w + (t * cin + i0 + (i < rows ? i : 0)) * oc;
    for (int64_t kb = 0; kb < c->kblocks; kb++) {
        const int64_t o0 = kb * c->kcb, kc = oc - o0 < c->kcb ? oc - o0 : c->kcb;
        for (int64_t q = 0; q < c->panels; q++) {
            const int64_t cols = c->pixels - q * nr < nr ? c->pixels - q * nr : nr;
            FC_FN(bpi_fp_pack)(c, nr, q * nr, o0, kc, b);
            FC_FN(gemm_macro)(uk, rows, cols, taps, kc, ind, o0, b, 0, ct + q * nr, ldc, NULL,
                              kb > 0, 0, NULL, FC_ACT_NONE, 0, NULL);
        }
    }
    FC_FN(bpi_fp_store)(c, ct, ldc, i0, rows);
}

/* Whether this path runs the call: stride 1, one group, no bias or activation (a plain
 * gradient), at most FC_BPI_FEWPIX_MAX dx pixels and a GEMM's worth of channels. */
static int FC_FN(bpi_fp_applies)(const fc_conv_desc *d, const fc_view *dy, const fc_view *dx,
                                 const FC_T *bias) {
    const fc_window *win = &d->win;
    return win->stride_h == 1 && win->stride_w == 1 && d->groups == 1 && !bias &&
           d->activation == FC_ACT_NONE && dx->n * dx->h * dx->w <= FC_BPI_FEWPIX_MAX &&
           dx->c >= 16 && dy->c >= 16;
}

static fc_status FC_FN(bpi_fp_run)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *dy,
                                   const FC_T *w, const fc_view *dx) {
    const FC_FN(fc_ukernel) *uk = FC_UKERNEL(cx);
    const fc_window *win = &d->win;
    const int64_t taps = win->k_h * win->k_w;
    FC_FN(bpi_fp_call) c = {.cx = cx, .d = d, .dy = dy, .dx = dx, .w = w};
    c.pixels = dx->n * dx->h * dx->w;
    c.panels = (c.pixels + uk->nr - 1) / uk->nr;
    /* A B panel block stays in L2 while the task's row tiles stream past it. */
    const int64_t most = fc_gemm_panel_bytes() / (int64_t)sizeof(FC_T) / (taps * uk->nr);
    c.kblocks = (dy->c + (most > 16 ? most : 16) - 1) / (most > 16 ? most : 16);
    c.kcb = (dy->c + c.kblocks - 1) / c.kblocks;
    const int threads = fc_threads_for(2.0 * (double)(c.pixels * dx->c) * (double)(taps * dy->c));
    /* Serial: one task (B packed once).  Parallel: two tasks a thread, whole MR tiles. */
    const int64_t tasks = threads > 1 ? 2 * threads : 1;
    c.rows = (dx->c + tasks - 1) / tasks;
    c.rows = (c.rows + uk->mr - 1) / uk->mr * uk->mr;
    fc_parallel_job job = {.phases = 0};
    size_t sizes[3];
    job.ws_bytes = FC_FN(bpi_fp_sizes)(&c, sizes);
    fc_job_add(&job, (dx->c + c.rows - 1) / c.rows, FC_FN(bpi_fp_task), &c);
    return fc_parallel_run(&job, threads);
}
