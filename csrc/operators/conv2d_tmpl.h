/* conv2d operator for one dtype (template: FC_T, FC_SFX): split the work, run the kernel.
 * The only OpenMP in the convolution path.  Work is split over output rows (direct) or
 * over blocks of output pixels x output-channel panels (im2col + GEMM), never over the
 * reduction, so every output value is summed in the same order whatever the thread count:
 * results are bit-identical for any count. */


/* Copy one view into another of the same shape (to and from dense NHWC workspaces). */
static void FC_FN(copy_view)(const fc_view *src, const fc_view *dst, int threads) {
    const int64_t rows = src->n * src->h;
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t n = r / src->h, iy = r % src->h;
        const FC_T *s = (const FC_T *)src->data + n * src->sn + iy * src->sh;
        FC_T *o = (FC_T *)dst->data + n * dst->sn + iy * dst->sh;
        for (int64_t ix = 0; ix < src->w; ix++)
            for (int64_t c = 0; c < src->c; c++) o[ix * dst->sw + c * dst->sc] = s[ix * src->sw + c * src->sc];
    }
}

static fc_view FC_FN(dense_like)(const fc_view *v, void *data) {
    fc_view d = {data, v->n, v->h, v->w, v->c, v->h * v->w * v->c, v->w * v->c, v->c, 1};
    return d;
}

/* The input with contiguous channels: itself, or (NCHW and other views) a dense NHWC copy
 * in the calling thread's scratch.  NULL data when that allocation fails. */
static fc_view FC_FN(channels_contiguous)(const fc_view *x, int threads) {
    if (x->sc == 1) return *x;
    FC_T *xd = fc_scratch(FC_SCRATCH_INPUT, sizeof(FC_T) * (size_t)(x->n * x->h * x->w * x->c));
    const fc_view dense = FC_FN(dense_like)(x, xd);
    if (xd) FC_FN(copy_view)(x, &dense, threads);
    return dense;
}

/* The direct kernels, over output rows.  Depthwise-shaped problems (one input channel per
 * group) run the depthwise kernel, which wants contiguous channels. */
static fc_status FC_FN(direct_run)(const fc_conv_desc *d, const fc_view *x_in, const FC_T *w,
                                   const FC_T *bias, const fc_view *y, int threads) {
    const int depthwise = d->groups == x_in->c;
    const fc_view x = depthwise ? FC_FN(channels_contiguous)(x_in, threads) : *x_in;
    const int64_t tasks = y->n * y->h;
    int failed = !x.data;
    if (!failed && threads == 1) {   /* small problems: no parallel region, no allocation */
        FC_T *acc = fc_scratch(FC_SCRATCH_TASK, sizeof(FC_T) * (size_t)y->c);
        if (!acc) failed = 1;
        for (int64_t n = 0; acc && n < y->n; n++) {
            if (depthwise) FC_FN(depthwise_rows)(d, &x, w, bias, y, n, 0, y->h, acc);
            else FC_FN(direct_conv_rows)(d, &x, w, bias, y, n, 0, y->h, acc);
        }
    } else if (!failed) {
#pragma omp parallel num_threads(threads)
        {
            FC_T *acc = fc_scratch(FC_SCRATCH_TASK, sizeof(FC_T) * (size_t)y->c);
            if (!acc) {
#pragma omp atomic write
                failed = 1;
            }
#pragma omp for schedule(static)
            for (int64_t t = 0; t < tasks; t++) {
                const int64_t n = t / y->h, oy = t % y->h;
                if (!acc) continue;
                if (depthwise) FC_FN(depthwise_rows)(d, &x, w, bias, y, n, oy, oy + 1, acc);
                else FC_FN(direct_conv_rows)(d, &x, w, bias, y, n, oy, oy + 1, acc);
            }
        }
    }
    fc_scratch_release(FC_SCRATCH_INPUT);
    return failed ? FC_ERR_NOMEM : FC_OK;
}

static fc_status FC_FN(winograd_run)(const fc_conv_desc *d, const fc_view *x_in, const FC_T *w,
                                     const FC_T *bias, const fc_view *y, int threads) {
    const fc_view x = FC_FN(channels_contiguous)(x_in, threads);
    const int64_t tiles = FC_FN(winograd_tiles)(&x, y), block = FC_FN(winograd_block_tiles)();
    const int64_t tasks = (tiles + block - 1) / block;
    FC_T *upack = fc_scratch(FC_SCRATCH_WEIGHTS, sizeof(FC_T) * FC_FN(winograd_packed_weights_size)(&x, y));
    const size_t ws_size = FC_FN(winograd_workspace)(&x, y);
    int failed = !upack || !x.data;

    if (!failed) {
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
#pragma omp for schedule(static)
            for (int64_t c = 0; c < x.c; c++) FC_FN(winograd_pack_weights)(&x, y, w, c, c + 1, upack);
            void *ws = fc_scratch(FC_SCRATCH_TASK, ws_size);
            if (!ws) {
#pragma omp atomic write
                failed = 1;
            }
#pragma omp for schedule(dynamic, 1)
            for (int64_t t = 0; t < tasks; t++) {
                const int64_t t0 = t * block, t1 = t0 + block < tiles ? t0 + block : tiles;
                if (ws) FC_FN(winograd_block)(d, &x, y, upack, bias, t0, t1, ws);
            }
        }
    }
    fc_scratch_release(FC_SCRATCH_INPUT);
    fc_scratch_release(FC_SCRATCH_WEIGHTS);
    return failed ? FC_ERR_NOMEM : FC_OK;
}

static fc_status FC_FN(im2col_run)(const fc_conv_desc *d, const fc_view *x_in, const FC_T *w,
                                   const FC_T *bias, const fc_view *y, int threads) {
    const int64_t m = y->n * y->h * y->w, groups = d->groups;
    const int64_t npanel = FC_FN(im2col_panels)(d, x_in, y), units = groups * npanel;
    const int64_t mblocks = (m + FC_GEMM_MC - 1) / FC_GEMM_MC;
    /* Split the channel panels too when there are too few pixel blocks to balance. */
    int64_t chunks = (4 * threads + mblocks * groups - 1) / (mblocks * groups);
    if (chunks > npanel) chunks = npanel;
    if (chunks < 1) chunks = 1;
    const int64_t tasks = chunks * groups * mblocks;
    /* The indirection buffer points at pixels whose channels must be contiguous (NCHW
     * inputs are transposed once); the GEMM writes a dense NHWC output. */
    const int dense_out = fc_is_dense(y);
    const fc_view x = FC_FN(channels_contiguous)(x_in, threads);
    FC_T *yd = dense_out ? (FC_T *)y->data : fc_scratch(FC_SCRATCH_OUTPUT, sizeof(FC_T) * (size_t)(m * y->c));
    FC_T *wpack = fc_scratch(FC_SCRATCH_WEIGHTS, sizeof(FC_T) * FC_FN(im2col_packed_weights_size)(d, x_in, y));
    const size_t ws_size = FC_FN(im2col_workspace)(d, x_in, y, FC_GEMM_MC);
    int failed = !yd || !wpack || !x.data;

    if (!failed) {
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
#pragma omp for schedule(static)
            for (int64_t u = 0; u < units; u++) FC_FN(im2col_pack_weights)(d, &x, y, w, u, wpack);
            void *ws = fc_scratch(FC_SCRATCH_TASK, ws_size);
            if (!ws) {
#pragma omp atomic write
                failed = 1;
            }
            /* Task order: pixel blocks fastest, so a thread's consecutive tasks reuse the
             * same weight panels from L2.  Dynamic: a thread that loses its core to another
             * process does not hold the others back (the tasks, hence the bits, are the
             * same whoever runs them). */
#pragma omp for schedule(dynamic, 1)
            for (int64_t t = 0; t < tasks; t++) {
                const int64_t mb = t % mblocks, g = (t / mblocks) % groups, ch = t / (mblocks * groups);
                const int64_t m0 = mb * FC_GEMM_MC, m1 = m0 + FC_GEMM_MC < m ? m0 + FC_GEMM_MC : m;
                if (ws)
                    FC_FN(im2col_conv_block)(d, &x, y, wpack, bias, yd, m0, m1, g,
                                             ch * npanel / chunks, (ch + 1) * npanel / chunks, ws);
            }
        }
        if (!failed && !dense_out) {
            const fc_view yv = FC_FN(dense_like)(y, yd);
            FC_FN(copy_view)(&yv, y, threads);
        }
    }
    fc_scratch_release(FC_SCRATCH_INPUT);
    fc_scratch_release(FC_SCRATCH_OUTPUT);
    fc_scratch_release(FC_SCRATCH_WEIGHTS);
    return failed ? FC_ERR_NOMEM : FC_OK;
}

static fc_status FC_FN(conv2d_run)(const fc_conv_desc *d, fc_algorithm algo, const fc_view *x,
                                   const FC_T *w, const FC_T *bias, const fc_view *y) {
    const double flops = 2.0 * (double)(y->n * y->h * y->w * y->c) * (double)d->win.k_h *
                         (double)d->win.k_w * (double)(x->c / d->groups);
    const int threads = fc_threads_for(flops);
    switch (algo) {
    case FC_ALGO_DIRECT: return FC_FN(direct_run)(d, x, w, bias, y, threads);
    case FC_ALGO_WINOGRAD: return FC_FN(winograd_run)(d, x, w, bias, y, threads);
    default: return FC_FN(im2col_run)(d, x, w, bias, y, threads);
    }
}

