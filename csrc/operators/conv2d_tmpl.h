/* conv2d operator for one dtype (template: FC_T, FC_SFX): split the work, run the kernel.
 * The only OpenMP in the convolution path.  Work is split over output rows (direct) or
 * over blocks of output pixels x output-channel panels (im2col + GEMM), never over the
 * reduction, so every output value is summed in the same order whatever the thread count:
 * results are bit-identical for any count. */

/* Output pixels per GEMM task: a multiple of every MR, large enough to amortize a task,
 * small enough that 2 threads get several tasks on a 14x14 layer. */
#define GEMM_MC 96

static fc_status FC_FN(direct_run)(const fc_conv_desc *d, const fc_view *x, const FC_T *w,
                                   const FC_T *bias, const fc_view *y, int threads) {
    const int64_t tasks = y->n * y->h;
    int failed = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        FC_T *acc = malloc(sizeof(FC_T) * (size_t)y->c);
        if (!acc) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (int64_t t = 0; t < tasks; t++)
            if (acc) FC_FN(direct_conv_rows)(d, x, w, bias, y, t / y->h, t % y->h, t % y->h + 1, acc);
        free(acc);
    }
    return failed ? FC_ERR_NOMEM : FC_OK;
}

/* Copy a dense NHWC result into a strided output view (NCHW, or any view). */
static void FC_FN(scatter_dense)(const FC_T *yd, const fc_view *y, int threads) {
    const int64_t rows = y->n * y->h;
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t n = r / y->h, oy = r % y->h;
        const FC_T *src = yd + r * y->w * y->c;
        FC_T *dst = (FC_T *)y->data + n * y->sn + oy * y->sh;
        for (int64_t ox = 0; ox < y->w; ox++)
            for (int64_t c = 0; c < y->c; c++) dst[ox * y->sw + c * y->sc] = src[ox * y->c + c];
    }
}

static fc_status FC_FN(im2col_run)(const fc_conv_desc *d, const fc_view *x, const FC_T *w,
                                   const FC_T *bias, const fc_view *y, int threads) {
    const int64_t m = y->n * y->h * y->w, groups = d->groups;
    const int64_t npanel = FC_FN(im2col_panels)(d, x, y);
    const int64_t mblocks = (m + GEMM_MC - 1) / GEMM_MC;
    /* Split the channel panels too when there are too few pixel blocks to balance. */
    int64_t chunks = (4 * threads + mblocks * groups - 1) / (mblocks * groups);
    if (chunks > npanel) chunks = npanel;
    if (chunks < 1) chunks = 1;
    const int64_t tasks = chunks * groups * mblocks;
    const int dense_out = fc_is_dense(y);
    FC_T *yd = dense_out ? (FC_T *)y->data : fc_alloc(sizeof(FC_T) * (size_t)(m * y->c));
    FC_T *wpack = fc_alloc(sizeof(FC_T) * FC_FN(im2col_packed_weights_size)(d, x, y));
    const size_t ws_size = sizeof(FC_T) * FC_FN(im2col_workspace)(d, x, y, GEMM_MC);
    int failed = !yd || !wpack;

    if (!failed) {
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
#pragma omp for schedule(static)
            for (int64_t p = 0; p < npanel; p++) FC_FN(im2col_pack_weights)(d, x, y, w, p, p + 1, wpack);
            FC_T *ws = fc_alloc(ws_size);
            if (!ws) {
#pragma omp atomic write
                failed = 1;
            }
            /* task order: pixel blocks fastest, so a thread's consecutive tasks reuse the
             * same weight panels from L2 */
#pragma omp for schedule(static)
            for (int64_t t = 0; t < tasks; t++) {
                const int64_t mb = t % mblocks, g = (t / mblocks) % groups, ch = t / (mblocks * groups);
                const int64_t m0 = mb * GEMM_MC, m1 = m0 + GEMM_MC < m ? m0 + GEMM_MC : m;
                if (ws)
                    FC_FN(im2col_conv_block)(d, x, y, wpack, bias, yd, m0, m1, g,
                                             ch * npanel / chunks, (ch + 1) * npanel / chunks, ws);
            }
            free(ws);
        }
        if (!failed && !dense_out) FC_FN(scatter_dense)(yd, y, threads);
    }
    if (!dense_out) free(yd);
    free(wpack);
    return failed ? FC_ERR_NOMEM : FC_OK;
}

static fc_status FC_FN(conv2d_run)(const fc_conv_desc *d, fc_algorithm algo, const fc_view *x,
                                   const FC_T *w, const FC_T *bias, const fc_view *y) {
    const double flops = 2.0 * (double)(y->n * y->h * y->w * y->c) * (double)d->win.k_h *
                         (double)d->win.k_w * (double)(x->c / d->groups);
    const int threads = fc_threads_for(flops);
    return algo == FC_ALGO_DIRECT ? FC_FN(direct_run)(d, x, w, bias, y, threads)
                                  : FC_FN(im2col_run)(d, x, w, bias, y, threads);
}

#undef GEMM_MC
