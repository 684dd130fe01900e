/* conv2d operator for one dtype (template: FC_T, FC_SFX): split the work, run the kernel.
 * The only OpenMP in the convolution path.  Work is split over output rows (direct) or
 * output-pixel tiles (im2col), never over the reduction, so every output value is summed
 * in the same order whatever the thread count: results are bit-identical for any count. */
#define IM2COL_TILE 64

static fc_status FC_FN(conv2d_run)(const fc_conv_desc *d, fc_algorithm algo, const fc_view *x,
                                   const FC_T *w, const FC_T *bias, const fc_view *y) {
    const double flops = 2.0 * (double)(y->n * y->h * y->w * y->c) * (double)d->win.k_h *
                         (double)d->win.k_w * (double)(x->c / d->groups);
    const int threads = fc_threads_for(flops);
    int failed = 0;

    if (algo == FC_ALGO_DIRECT) {
        const int64_t tasks = y->n * y->h;
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
    } else {
        const int64_t pixels = y->h * y->w, tiles = (pixels + IM2COL_TILE - 1) / IM2COL_TILE;
        const int64_t tasks = y->n * tiles;
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
            FC_T *ws = malloc(sizeof(FC_T) * FC_FN(im2col_workspace)(d, x, y, IM2COL_TILE));
            if (!ws) {
#pragma omp atomic write
                failed = 1;
            }
#pragma omp for schedule(static)
            for (int64_t t = 0; t < tasks; t++) {
                const int64_t n = t / tiles, p0 = (t % tiles) * IM2COL_TILE;
                const int64_t p1 = p0 + IM2COL_TILE < pixels ? p0 + IM2COL_TILE : pixels;
                if (ws) FC_FN(im2col_conv_tile)(d, x, w, bias, y, n, p0, p1, ws);
            }
            free(ws);
        }
    }
    return failed ? FC_ERR_NOMEM : FC_OK;
}

#undef IM2COL_TILE
