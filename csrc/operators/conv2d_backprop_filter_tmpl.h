/* conv2d_backprop_filter for one dtype (template: FC_T, FC_SFX): describe the call as
 * phases of tasks for the parallel layer (runtime/parallel.c).  Work is split over blocks
 * of the filter gradient (and of the bias gradient), never over the reduction (the
 * pixels), so every value is summed in the same order whatever the thread count: results
 * are bit-identical for any count. */

/* The GEMM path (conv/backprop_filter_tmpl.h): tasks own blocks of dW^T (rows of a group
 * x a range of panels), sum every pixel into them and store them into dW. */
typedef struct {
    const fc_cntx *cx;
    const fc_conv_desc *d;
    const fc_view *x, *dy;
    FC_T *dw, *db;
    FC_FN(bf_dims) s;
    int swapped;                /* the GEMM the other way round (few filter rows) */
    int64_t m, n_panels;        /* C's rows and NR-wide column panels (per group) */
    int64_t rows, row_blocks;   /* rows of C per task, their blocks per group */
    int64_t panels, col_blocks; /* panels per task, their blocks */
} FC_FN(bf_call);

/* Task order: column blocks fastest, then row blocks, then groups.  The bias gradient of
 * a block of channels is summed by one task. */
static void FC_FN(bf_gemm_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(bf_call) *c = ctx;
    const int64_t cb = t % c->col_blocks, rb = t / c->col_blocks % c->row_blocks;
    const int64_t g = t / (c->col_blocks * c->row_blocks);
    const int64_t i0 = rb * c->rows, i1 = i0 + c->rows < c->m ? i0 + c->rows : c->m;
    const int64_t p0 = cb * c->panels;
    const int64_t p1 = p0 + c->panels < c->n_panels ? p0 + c->panels : c->n_panels;
    if (c->swapped) /* the first row block sums the bias gradient of its channels */
        FC_FN(bf_gemm_block_swapped)(c->cx, c->d, c->x, c->dy, &c->s, g, i0, i1, p0, p1, c->dw,
                                     rb == 0 ? c->db : NULL, ws);
    else
        FC_FN(bf_gemm_block)(c->cx, c->d, c->x, c->dy, &c->s, g, i0, i1, p0, p1, c->dw,
                             cb == 0 ? c->db : NULL, ws);
}

/* The split: a task's block of C stays within half of L2 (it is swept once per pixel
 * block; the task's workspace holds it), and there are about four tasks a thread to balance.  Splitting columns repeats
 * the transposition of out_backprop (out_C x pixels), splitting rows the packing of the
 * patches (r x pixels, usually more), so columns are split first.  The split never
 * changes a result. */
static void FC_FN(bf_split)(FC_FN(bf_call) * c, int threads) {
    const FC_FN(bf_dims) *s = &c->s;
    const int64_t groups = c->d->groups, want = threads > 1 ? 4 * threads : 1;
    const int64_t budget = (int64_t)(fc_cache_bytes(2) / 2 / sizeof(FC_T));
    c->rows = c->m;
    c->panels = budget / (c->rows * s->nr);
    if (c->panels < 1) { /* one panel of all rows is too big: fewer rows */
        c->panels = 1;
        c->rows = budget / s->nr / s->mr * s->mr;
        if (c->rows < s->mr) c->rows = s->mr;
    }
    if (c->panels > c->n_panels) c->panels = c->n_panels;
    c->col_blocks = (c->n_panels + c->panels - 1) / c->panels;
    c->row_blocks = (c->m + c->rows - 1) / c->rows;
    if (groups * c->row_blocks * c->col_blocks < want) {
        const int64_t more = (want + groups * c->row_blocks - 1) / (groups * c->row_blocks);
        c->col_blocks = more < c->n_panels ? more : c->n_panels;
        c->panels = (c->n_panels + c->col_blocks - 1) / c->col_blocks;
        c->col_blocks = (c->n_panels + c->panels - 1) / c->panels;
    }
    if (groups * c->row_blocks * c->col_blocks < want) {
        int64_t blocks = (want + groups * c->col_blocks - 1) / (groups * c->col_blocks);
        c->rows = (c->m + blocks - 1) / blocks;
        c->rows = (c->rows + s->mr - 1) / s->mr * s->mr;
        c->row_blocks = (c->m + c->rows - 1) / c->rows;
    }
}

static fc_status FC_FN(bf_gemm_run)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                    const fc_view *dy, FC_T *dw, FC_T *db, int threads) {
    FC_FN(bf_call) c = {.cx = cx, .d = d, .x = x, .dy = dy, .dw = dw, .db = db};
    c.s = FC_FN(bf_gemm_dims)(cx, d, x, dy);
    /* Few filter rows (one-channel first layers): the GEMM the other way round, which
     * transposes the patches (r x pixels) instead of out_backprop (og x pixels).  (Few
     * pixels, as on 7x7 ResNet layers, would favour it too by that count, but its
     * transposed patch writes cost more there: measured 1.8x slower on r50-3x3-14.) */
    c.swapped = c.s.r < c.s.og;
    c.m = c.swapped ? c.s.r : c.s.og;
    c.n_panels = c.swapped ? (c.s.og + c.s.nr - 1) / c.s.nr : c.s.npanel;
    FC_FN(bf_split)(&c, threads);
    fc_parallel_job job = {.phases = 0};
    job.ws_bytes = FC_FN(bf_gemm_workspace)(&c.s, c.rows, c.panels, !c.swapped);
    fc_job_add(&job, d->groups * c.row_blocks * c.col_blocks, FC_FN(bf_gemm_task), &c);
    return fc_parallel_run(&job, threads);
}

/* The depthwise path (conv/depthwise_backprop_filter_tmpl.h): tasks own a multiplier slice,
 * a vector of channels and, when those are too few to keep every thread busy, one filter
 * row. */
typedef struct {
    const fc_cntx *cx;
    const fc_conv_desc *d;
    const fc_view *x, *dy;
    FC_T *dw, *db;
    int64_t lanes, cblocks, row_split;
} FC_FN(bf_dw_call);

static void FC_FN(bf_dw_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(bf_dw_call) *c = ctx;
    const fc_view *x = c->x;
    const int64_t c_in = x->c, mult = c->dy->c / c_in, kh = c->d->win.k_h;
    const int64_t split = c->row_split ? kh : 1;
    const int64_t ky0 = c->row_split ? t % split : 0, ky1 = c->row_split ? ky0 + 1 : kh;
    const int64_t cb = t / split % c->cblocks, m = t / (split * c->cblocks);
    const int64_t c0 = cb * c->lanes, c1 = c0 + c->lanes < c_in ? c0 + c->lanes : c_in;
    /* out_backprop channel c * mult + m, as a view of C channels */
    fc_view dym = *c->dy;
    dym.data = (FC_T *)c->dy->data + m * c->dy->sc;
    dym.sc = c->dy->sc * mult;
    dym.c = c_in;
    FC_FN(bf_depthwise)(c->cx, c->d, x, &dym, c0, c1, ky0, ky1, c->dw + m, c_in * mult, mult,
                        c->db && ky0 == 0 ? c->db + m : NULL, mult, ws);
}

static fc_status FC_FN(bf_depthwise_run)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                         const fc_view *dy, FC_T *dw, FC_T *db, int threads) {
    FC_FN(bf_dw_call) c = {.cx = cx, .d = d, .x = x, .dy = dy, .dw = dw, .db = db};
    const int64_t mult = dy->c / x->c;
    c.lanes = FC_FN(bf_depthwise_lanes)(cx);
    c.cblocks = (x->c + c.lanes - 1) / c.lanes;
    c.row_split = mult * c.cblocks < 2 * threads && d->win.k_h > 1;
    fc_parallel_job job = {.phases = 0};
    job.ws_bytes = sizeof(FC_T) * (size_t)(c.lanes * d->win.k_h * d->win.k_w);
    fc_job_add(&job, mult * c.cblocks * (c.row_split ? d->win.k_h : 1), FC_FN(bf_dw_task), &c);
    return fc_parallel_run(&job, threads);
}

/* dw: dense HWIO [k_h][k_w][C / groups][out_C]; db: NULL or [out_C].  Every value is
 * written: zeros where no pixel contributes (an empty batch or output). */
static fc_status FC_FN(bf_run)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                               const fc_view *dy, void *dw_, void *db_) {
    FC_T *dw = dw_, *db = db_;
    const int64_t k = dy->n * dy->h * dy->w, cg = x->c / d->groups;
    const int64_t r = d->win.k_h * d->win.k_w * cg;
    if (k == 0 || dy->c == 0) {
        memset(dw, 0, sizeof(FC_T) * (size_t)(r * dy->c));
        if (db) memset(db, 0, sizeof(FC_T) * (size_t)dy->c);
        return FC_OK;
    }
    const int threads = fc_threads_for(2.0 * (double)k * (double)r * (double)dy->c);
    if (cg == 1 && d->groups > 1) return FC_FN(bf_depthwise_run)(cx, d, x, dy, dw, db, threads);
    return FC_FN(bf_gemm_run)(cx, d, x, dy, dw, db, threads);
}
