/* conv2d operator for one dtype (template: FC_T, FC_SFX): split the work, run the kernel.
 * The only OpenMP in the convolution path.  Work is split over output rows (direct) or
 * over blocks of output pixels x output-channel panels (im2col + GEMM), never over the
 * reduction, so every output value is summed in the same order whatever the thread count:
 * results are bit-identical for any count. */


/* A dense NCHW array seen as an NHWC view: planes of H x W, one per channel. */
static int FC_FN(is_planar)(const fc_view *v) {
    return v->sw == 1 && v->sh == v->w && v->sc == v->h * v->w && v->sn == v->c * v->h * v->w;
}

/* dst[j * ldd + i] = src[i * lds + j] for rows [r0, r1) and all cols, in 16x16 tiles so that
 * both sides are walked in cache lines. */
static void FC_FN(transpose_rows)(const FC_T *src, int64_t lds, FC_T *dst, int64_t ldd,
                                  int64_t r0, int64_t r1, int64_t cols) {
    enum { TB = 16 };
    for (int64_t j0 = 0; j0 < cols; j0 += TB) {
        const int64_t j1 = j0 + TB < cols ? j0 + TB : cols;
        for (int64_t i = r0; i < r1; i++) {
            const FC_T *s = src + i * lds;
            FC_T *d = dst + i;
            for (int64_t j = j0; j < j1; j++) d[j * ldd] = s[j];
        }
    }
}

/* Copy one view into another of the same shape (NCHW to and from dense NHWC workspaces).
 * NCHW <-> dense NHWC is a transpose of each image's [C][H*W] matrix, done in tiles; other
 * views go channel-block by channel-block, so that a channel-strided side is walked as 16
 * sequential streams instead of one page per channel per pixel (which thrashed the TLB:
 * vgg-3x3-224 in NCHW spent 28 ms here). */
static void FC_FN(copy_view)(const fc_view *src, const fc_view *dst, int threads) {
    enum { CB = 16, RB = 64 };
    const int64_t hw = src->h * src->w;
    const int to_nhwc = FC_FN(is_planar)(src) && fc_is_dense(dst);
    const int to_nchw = fc_is_dense(src) && FC_FN(is_planar)(dst);
    if (to_nhwc || to_nchw) {
        /* rows of the source matrix: channels (NCHW -> NHWC) or pixels (NHWC -> NCHW) */
        const int64_t rows = to_nhwc ? src->c : hw, cols = to_nhwc ? hw : src->c;
        const int64_t blocks = (rows + RB - 1) / RB, tasks = src->n * blocks;
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
        for (int64_t t = 0; t < tasks; t++) {
            const int64_t n = t / blocks, r0 = (t % blocks) * RB;
            const int64_t r1 = r0 + RB < rows ? r0 + RB : rows;
            FC_FN(transpose_rows)((const FC_T *)src->data + n * src->sn, cols,
                                  (FC_T *)dst->data + n * dst->sn, rows, r0, r1, cols);
        }
        return;
    }
    const int64_t rows = src->n * src->h;
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t n = r / src->h, iy = r % src->h;
        const FC_T *s = (const FC_T *)src->data + n * src->sn + iy * src->sh;
        FC_T *o = (FC_T *)dst->data + n * dst->sn + iy * dst->sh;
        for (int64_t c0 = 0; c0 < src->c; c0 += CB) {
            const int64_t c1 = c0 + CB < src->c ? c0 + CB : src->c;
            for (int64_t ix = 0; ix < src->w; ix++)
                for (int64_t c = c0; c < c1; c++) o[ix * dst->sw + c * dst->sc] = s[ix * src->sw + c * src->sc];
        }
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

/* Every algorithm below reads an input with contiguous channels and writes a dense NHWC
 * output (conv2d_run converts other layouts once). */

/* The direct kernels, over output rows.  Depthwise-shaped problems (one input channel per
 * group) run the depthwise kernel. */
static fc_status FC_FN(direct_run)(const fc_conv_desc *d, const fc_view *x, const FC_T *w,
                                   const FC_T *bias, const fc_view *y, int threads) {
    const int depthwise = d->groups == x->c && d->groups > 1;
    const int64_t tasks = y->n * y->h;
    int failed = 0;
    if (threads == 1) {   /* small problems: no parallel region, no allocation */
        FC_T *acc = fc_scratch(FC_SCRATCH_TASK, sizeof(FC_T) * (size_t)y->c);
        if (!acc) return FC_ERR_NOMEM;
        for (int64_t n = 0; n < y->n; n++) {
            if (depthwise) FC_FN(depthwise_rows)(d, x, w, bias, y, n, 0, y->h, acc);
            else FC_FN(direct_conv_rows)(d, x, w, bias, y, n, 0, y->h, acc);
        }
        return FC_OK;
    }
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
            if (depthwise) FC_FN(depthwise_rows)(d, x, w, bias, y, n, oy, oy + 1, acc);
            else FC_FN(direct_conv_rows)(d, x, w, bias, y, n, oy, oy + 1, acc);
        }
    }
    return failed ? FC_ERR_NOMEM : FC_OK;
}

static fc_status FC_FN(winograd_run)(const fc_conv_desc *d, const fc_view *x, const FC_T *w,
                                     const FC_T *bias, const fc_view *y, int threads) {
    const int64_t tiles = FC_FN(winograd_tiles)(x, y), most = FC_FN(winograd_block_tiles)();
    /* Blocks of at most `most` tiles, smaller on several threads so that each gets about
     * four (14x14: 49 tiles were one block of 48 and one of 1).  A multiple of 12 keeps
     * whole micro-tile rows; the block size does not change any result. */
    int64_t block = most;
    if (threads > 1) {
        block = (tiles + 4 * threads - 1) / (4 * threads);
        block = (block + 11) / 12 * 12;
        if (block > most) block = most;
    }
    const int64_t tasks = (tiles + block - 1) / block;
    FC_T *upack = fc_scratch(FC_SCRATCH_WEIGHTS, sizeof(FC_T) * FC_FN(winograd_packed_weights_size)(x, y));
    const size_t ws_size = FC_FN(winograd_workspace)(x, y);
    int failed = !upack;

    if (!failed) {
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
#pragma omp for schedule(static)
            for (int64_t c = 0; c < x->c; c++) FC_FN(winograd_pack_weights)(x, y, w, c, c + 1, upack);
            void *ws = fc_scratch(FC_SCRATCH_TASK, ws_size);
            if (!ws) {
#pragma omp atomic write
                failed = 1;
            }
#pragma omp for schedule(dynamic, 1)
            for (int64_t t = 0; t < tasks; t++) {
                const int64_t t0 = t * block, t1 = t0 + block < tiles ? t0 + block : tiles;
                if (ws) FC_FN(winograd_block)(d, x, y, upack, bias, t0, t1, ws);
            }
        }
    }
    fc_scratch_release(FC_SCRATCH_WEIGHTS);
    return failed ? FC_ERR_NOMEM : FC_OK;
}

static fc_status FC_FN(im2col_run)(const fc_conv_desc *d, const fc_view *x, const FC_T *w,
                                   const FC_T *bias, const fc_view *y, int threads) {
    const int64_t m = y->n * y->h * y->w, groups = d->groups;
    const int64_t npanel = FC_FN(im2col_panels)(d, x, y), units = groups * npanel;
    const int64_t mblocks = (m + FC_GEMM_MC - 1) / FC_GEMM_MC;
    /* Split the channel panels too when there are too few pixel blocks to balance. */
    int64_t chunks = (4 * threads + mblocks * groups - 1) / (mblocks * groups);
    if (chunks > npanel) chunks = npanel;
    if (chunks < 1) chunks = 1;
    const int64_t tasks = chunks * groups * mblocks;
    FC_T *wpack = fc_scratch(FC_SCRATCH_WEIGHTS, sizeof(FC_T) * FC_FN(im2col_packed_weights_size)(d, x, y));
    const size_t ws_size = FC_FN(im2col_workspace)(d, x, y, FC_GEMM_MC);
    int failed = !wpack;

    if (!failed) {
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
#pragma omp for schedule(static)
            for (int64_t u = 0; u < units; u++) FC_FN(im2col_pack_weights)(d, x, y, w, u, wpack);
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
                    FC_FN(im2col_conv_block)(d, x, y, wpack, bias, y->data, m0, m1, g,
                                             ch * npanel / chunks, (ch + 1) * npanel / chunks, ws);
            }
        }
    }
    fc_scratch_release(FC_SCRATCH_WEIGHTS);
    return failed ? FC_ERR_NOMEM : FC_OK;
}

/* Layouts once, then the algorithm: NCHW or other views are copied (blocked) into dense
 * NHWC workspaces on the way in and out. */
static fc_status FC_FN(conv2d_run)(const fc_conv_desc *d, fc_algorithm algo, const fc_view *x_in,
                                   const FC_T *w, const FC_T *bias, const fc_view *y_out) {
    const double flops = 2.0 * (double)(y_out->n * y_out->h * y_out->w * y_out->c) *
                         (double)d->win.k_h * (double)d->win.k_w * (double)(x_in->c / d->groups);
    const int threads = fc_threads_for(flops);
    const fc_view x = FC_FN(channels_contiguous)(x_in, threads);
    const int dense_out = fc_is_dense(y_out);
    const size_t out_bytes = sizeof(FC_T) * (size_t)(y_out->n * y_out->h * y_out->w * y_out->c);
    FC_T *yd = dense_out ? y_out->data : fc_scratch(FC_SCRATCH_OUTPUT, out_bytes);
    const fc_view y = dense_out ? *y_out : FC_FN(dense_like)(y_out, yd);
    fc_status status = FC_ERR_NOMEM;
    if (x.data && yd) {
        switch (algo) {
        case FC_ALGO_DIRECT: status = FC_FN(direct_run)(d, &x, w, bias, &y, threads); break;
        case FC_ALGO_WINOGRAD: status = FC_FN(winograd_run)(d, &x, w, bias, &y, threads); break;
        default: status = FC_FN(im2col_run)(d, &x, w, bias, &y, threads); break;
        }
        if (status == FC_OK && !dense_out) FC_FN(copy_view)(&y, y_out, threads);
    }
    fc_scratch_release(FC_SCRATCH_INPUT);
    fc_scratch_release(FC_SCRATCH_OUTPUT);
    return status;
}
