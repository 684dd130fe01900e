/* conv2d_backprop_filter for one dtype (template: FC_T, FC_SFX): describe the call as
 * phases of tasks for the parallel layer (runtime/parallel.c).  Work is split over blocks
 * of the filter gradient (and of the bias gradient), never over the reduction (the
 * pixels), so every value is summed in the same order whatever the thread count: results
 * are bit-identical for any count. */

/* The unpacked path (conv/backprop_filter_direct_tmpl.h): tasks own a group, a block of
 * output channels and a range of chunks of filter rows. */
typedef struct {
    const fc_cntx *cx;
    const fc_conv_desc *d;
    const fc_view *x, *dy;
    FC_T *dw, *db;
    fc_bf_direct p;
    int64_t chunks; /* chunks per task */
    int64_t splits; /* chunk ranges per block of channels */
} FC_FN(bf_direct_call);

static void FC_FN(bf_direct_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(bf_direct_call) *c = ctx;
    const int64_t sp = t % c->splits, ob = t / c->splits % c->p.oblocks;
    const int64_t g = t / (c->splits * c->p.oblocks);
    const int64_t ch0 = sp * c->chunks;
    const int64_t ch1 = ch0 + c->chunks < c->p.chunks ? ch0 + c->chunks : c->p.chunks;
    FC_FN(bf_direct)(c->cx, c->d, c->x, c->dy, &c->p, g, ob, ch0, ch1, c->dw,
                     sp == 0 ? c->db : NULL, ws);
}

/* At least a task a thread: blocks of channels first, then, when they are fewer than the
 * threads, each block's filter-row chunks split in as many ranges as make a task a thread.
 * Every task of a split reads all of the block's dy (and fills its own bands), so splits
 * are kept few: lenet-c1's 6 MiB dy read by 4 tasks took a 2-thread call to 1.7x the
 * 1-thread CPU time, and its tasks are of equal size. */
static fc_status FC_FN(bf_direct_run)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                      const fc_view *dy, FC_T *dw, FC_T *db, int threads) {
    FC_FN(bf_direct_call) c = {.cx = cx, .d = d, .x = x, .dy = dy, .dw = dw, .db = db};
    FC_FN(bf_direct_shape)(cx, d, x, dy, &c.p);
    const int64_t blocks = d->groups * c.p.oblocks, want = threads;
    c.splits = blocks < want ? (want + blocks - 1) / blocks : 1;
    if (c.splits > c.p.chunks) c.splits = c.p.chunks;
    c.chunks = (c.p.chunks + c.splits - 1) / c.splits;
    c.splits = (c.p.chunks + c.chunks - 1) / c.chunks;
    /* Tasks that split a block's chunks each fill the band buffers: where no value the tiles
     * read is padding (chunks within a tap skip it; or the window has none) they read x
     * itself instead of copying it again (8 tasks' copies took vgg-3x3-224 to 1.7x its
     * 1-thread CPU time).  One task a block copies: the copy streams x into cache for the
     * tiles, 3-8% faster than reading it in place on VGG's 3x3 layers. */
    c.p.x_direct = c.splits > 1 && (c.p.per_tap || !c.p.padded);
    fc_parallel_job job = {.phases = 0};
    job.ws_bytes = fc_bf_direct_workspace(&c.p, dy->w, sizeof(FC_T));
    fc_job_add(&job, blocks * c.splits, FC_FN(bf_direct_task), &c);
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
    return FC_FN(bf_direct_run)(cx, d, x, dy, dw, db, threads);
}
