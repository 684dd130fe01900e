/* pool2d operator for one dtype (template: FC_T, FC_SFX): split output rows over threads. */
static fc_status FC_FN(pool2d_run)(fc_pool_kind kind, const fc_window *win, const fc_view *x,
                                   const fc_view *y) {
    const double work = (double)(y->n * y->h * y->w * y->c) * (double)(win->k_h * win->k_w);
    const int threads = fc_threads_for(work);
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
        for (int64_t t = 0; t < tasks; t++) {
            if (!acc) continue;
            if (kind == FC_POOL_MAX)
                FC_FN(maxpool_rows)(win, x, y, t / y->h, t % y->h, t % y->h + 1, acc);
            else
                FC_FN(avgpool_rows)(win, x, y, t / y->h, t % y->h, t % y->h + 1, acc);
        }
        free(acc);
    }
    return failed ? FC_ERR_NOMEM : FC_OK;
}
