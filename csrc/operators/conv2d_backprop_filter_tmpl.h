/* conv2d_backprop_filter for one dtype (template: FC_T, FC_SFX): describe the call as
 * phases of tasks for the parallel layer (runtime/parallel.c).  Work is split over blocks
 * of the filter gradient (and of the bias gradient), never over the reduction (the
 * pixels), so every value is summed in the same order whatever the thread count: results
 * are bit-identical for any count. */

/* The GEMM path (conv/backprop_filter_tmpl.h) for one chunk of pixels [q0, q1): transpose
 * out_backprop, multiply into C = dW^T (and sum the bias gradient), and after the last
 * chunk store C into dW. */
typedef struct {
    const fc_cntx *cx;
    const fc_conv_desc *d;
    const fc_view *x, *dy;
    FC_T *dw, *db;
    FC_FN(bf_dims) s;
    FC_T *dyt, *ct;        /* out_backprop transposed [out_C][ldt], C [out_C][r] */
    int64_t ldt, q0, q1;
    int first;             /* the first chunk assigns C and db; later ones add */
    int64_t rows, blocks;  /* rows of C per GEMM task, row blocks per (group, panel) */
    int64_t gemm_tasks;    /* bias tasks follow the GEMM tasks */
} FC_FN(bf_call);

static void FC_FN(bf_transpose_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(bf_call) *c = ctx;
    const int64_t q0 = c->q0 + t * BF_TB, q1 = q0 + BF_TB < c->q1 ? q0 + BF_TB : c->q1;
    FC_FN(bf_transpose_dy)(c->dy, c->q0, q0, q1, c->dyt, c->ldt);
}

/* Bias rows [o0, o1): out_backprop summed over the chunk's pixels, one row of dyT each. */
static void FC_FN(bf_bias_rows)(const FC_FN(bf_call) *c, int64_t o0, int64_t o1) {
    const int64_t len = c->q1 - c->q0;
    for (int64_t o = o0; o < o1; o++) {
        const FC_T *row = c->dyt + o * c->ldt;
        FC_T sum = 0;
        for (int64_t q = 0; q < len; q++) sum += row[q];
        c->db[o] = c->first ? sum : c->db[o] + sum;
    }
}

/* Task order: row blocks fastest, then panels, then groups. */
static void FC_FN(bf_gemm_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(bf_call) *c = ctx;
    if (t >= c->gemm_tasks) {
        const int64_t o0 = (t - c->gemm_tasks) * BF_BIAS_ROWS;
        FC_FN(bf_bias_rows)(c, o0, o0 + BF_BIAS_ROWS < c->dy->c ? o0 + BF_BIAS_ROWS : c->dy->c);
        return;
    }
    const int64_t b = t % c->blocks, p = t / c->blocks % c->s.npanel;
    const int64_t g = t / (c->blocks * c->s.npanel);
    const int64_t o0 = b * c->rows, o1 = o0 + c->rows < c->s.og ? o0 + c->rows : c->s.og;
    FC_FN(bf_gemm_block)(c->cx, c->d, c->x, c->dy, &c->s, c->dyt, c->ldt, c->q0, c->q0, c->q1,
                         g, p, o0, o1, !c->first, c->ct, ws);
}

/* dW [r][out_C] from C [out_C][r], filter rows [r0, r0 + BF_STORE_ROWS). */
static void FC_FN(bf_store_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(bf_call) *c = ctx;
    const int64_t r = c->s.r, oc = c->dy->c;
    const int64_t r0 = t * BF_STORE_ROWS, r1 = r0 + BF_STORE_ROWS < r ? r0 + BF_STORE_ROWS : r;
    for (int64_t o = 0; o < oc; o++) {
        const FC_T *src = c->ct + o * r;
        for (int64_t i = r0; i < r1; i++) c->dw[i * oc + o] = src[i];
    }
}

static fc_status FC_FN(bf_gemm_run)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                    const fc_view *dy, FC_T *dw, FC_T *db, int threads) {
    FC_FN(bf_call) c = {.cx = cx, .d = d, .x = x, .dy = dy, .dw = dw, .db = db};
    c.s = FC_FN(bf_gemm_dims)(cx, d, x, dy);
    const int64_t k = dy->n * dy->h * dy->w, oc = dy->c, groups = d->groups;
    /* Pixels per chunk: all of them when out_backprop transposed fits the budget, else
     * whole B panels' worth.  Depends on the shapes and the cache only, never on threads. */
    int64_t chunk = (int64_t)(BF_DYT_BYTES / sizeof(FC_T)) / oc / c.s.kc * c.s.kc;
    if (chunk < c.s.kc) chunk = c.s.kc;
    if (chunk > k) chunk = k;
    c.ldt = chunk;
    /* Row blocks of C: whole MR panels, enough tasks (about 4 a thread) to balance. */
    const int64_t units = groups * c.s.npanel;
    c.blocks = (4 * threads + units - 1) / units;
    c.rows = (c.s.og + c.blocks - 1) / c.blocks;
    c.rows = (c.rows + c.s.mr - 1) / c.s.mr * c.s.mr;
    c.blocks = (c.s.og + c.rows - 1) / c.rows;
    c.gemm_tasks = units * c.blocks;
    const int64_t bias_tasks = db ? (oc + BF_BIAS_ROWS - 1) / BF_BIAS_ROWS : 0;

    c.dyt = fc_scratch(FC_SCRATCH_INPUT, sizeof(FC_T) * (size_t)(oc * chunk));
    c.ct = fc_scratch(FC_SCRATCH_OUTPUT, sizeof(FC_T) * (size_t)(oc * c.s.r));
    if (!c.dyt || !c.ct) return FC_ERR_NOMEM;
    fc_status status = FC_OK;
    for (int64_t q0 = 0; q0 < k && status == FC_OK; q0 += chunk) {
        c.q0 = q0;
        c.q1 = q0 + chunk < k ? q0 + chunk : k;
        c.first = q0 == 0;
        fc_parallel_job job = {.phases = 0};
        job.ws_bytes = FC_FN(bf_gemm_workspace)(&c.s, c.rows);
        fc_job_add(&job, (c.q1 - c.q0 + BF_TB - 1) / BF_TB, FC_FN(bf_transpose_task), &c);
        fc_job_add(&job, c.gemm_tasks + bias_tasks, FC_FN(bf_gemm_task), &c);
        if (c.q1 == k)
            fc_job_add(&job, (c.s.r + BF_STORE_ROWS - 1) / BF_STORE_ROWS, FC_FN(bf_store_task),
                       &c);
        status = fc_parallel_run(&job, threads);
    }
    return status;
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

static fc_status FC_FN(bf_depthwise_run)(const fc_cntx *cx, const fc_conv_desc *d,
                                         const fc_view *x, const fc_view *dy, FC_T *dw,
                                         FC_T *db, int threads) {
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
    const fc_status status = FC_FN(bf_gemm_run)(cx, d, x, dy, dw, db, threads);
    fc_scratch_release(FC_SCRATCH_INPUT);
    fc_scratch_release(FC_SCRATCH_OUTPUT);
    return status;
}
