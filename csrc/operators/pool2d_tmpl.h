/* pool2d operator for one dtype (template: FC_T, FC_SFX): the per-call tables, the layout's
 * mode, the split of output rows into tasks for the parallel layer.  Every output value is
 * computed by one kernel call in a fixed order, so results are bit-identical for any thread
 * count. */

/* Work per task: about 32K window cells (output rows of a plane, or several small planes),
 * enough to amortize taking a task, few enough that two threads get many tasks (taken
 * dynamically: a core that another process shares just takes fewer). */
#define PL_TASK_CELLS 32768
#define PL_SHARED_ROWS 8 /* see pool2d_run: row blocks where windows share rows */
/* The kernel's buffer of vertically reduced columns: 4 KiB stays in L1 next to the input
 * rows streaming through it (measured: 1.2x faster than 16 KiB on 8x56x56x256). */
#define PL_BUF_BYTES 4096
#define PL_MAX_LANES 16 /* the widest vector's lanes: slack at the buffer's end */
/* Software prefetch distance in width mode, and the input size above which channels
 * mode prefetches far rows (see pool2d_run). */
#define PL_PF_BYTES 8192
#define PL_PF_MIN_BYTES 8e6

/* The tasks: task t runs units [t * per_task, (t + 1) * per_task); unit u is block
 * u % blocks (of `rows` output rows) of plane u / blocks. */
typedef struct {
    const fc_cntx *cx;
    const fc_pool_job *job;
    int64_t blocks, rows, units, per_task;
} FC_FN(pool_call);

static void FC_FN(pool_task)(const void *ctx, int64_t t, void *buf) {
    const FC_FN(pool_call) *c = ctx;
    const int64_t u1 = (t + 1) * c->per_task < c->units ? (t + 1) * c->per_task : c->units;
    for (int64_t u = t * c->per_task; u < u1; u++) {
        const int64_t oy0 = u % c->blocks * c->rows;
        const int64_t oy1 = oy0 + c->rows < c->job->y->h ? oy0 + c->rows : c->job->y->h;
        FC_FN(pool_rows)(c->cx, c->job, u / c->blocks, oy0, oy1, buf);
    }
}

static fc_status FC_FN(pool2d_run)(const fc_cntx *cx, fc_pool_kind kind, const fc_window *win,
                                   const fc_view *x, const fc_view *y, const double *div_h,
                                   const double *div_w) {
    /* Width mode (output columns in the vector lanes) where rows are contiguous and the
     * channels are not (NCHW) or too few to fill a vector; channels mode otherwise. */
    const int width = x->sw == 1 && y->sw == 1 && !(x->sc == 1 && y->sc == 1 && x->c >= 8);
    const int64_t wo = y->w, s = win->stride_w, k = win->k_w, e = width ? 1 : x->c;
    /* The kernel's buffer (pool/pool_tmpl.h): channels mode reduces blocks of output
     * columns whose input columns fit PL_BUF_BYTES (evened out); width mode reduces
     * batches of rows that fit it, each row `pitch` windows long (its windows and margins
     * reach pitch * s cells), all of a batch's windows at once (flat) where rows are
     * shorter than a vector or the windows fill the output rows exactly.  Rows sit
     * row_len cells apart: pitch * s, which flat batches need (the next row's windows go
     * on at stride s), is under 2 * span where s <= span; a stride past the span (one
     * window a row) would size the buffer by the stride (382 MiB at s = 10**8 on a 10x10
     * input), so such rows are not flat and sit span cells apart, all their windows and
     * margins need.  With the window clipped (pool2d.c), span is bounded by the input and
     * the outputs' spread, and so is every buffer. */
    const int64_t slack = 2 * PL_MAX_LANES + k, cap = (int64_t)(PL_BUF_BYTES / sizeof(FC_T));
    int64_t span = (wo - 1) * s + k;
    if (span < win->pad_left + x->w) span = win->pad_left + x->w;
    const int64_t pitch = (span + s - 1) / s;
    const int flat = width && s <= span && (wo < PL_MAX_LANES || (pitch == wo && y->sh == wo));
    const int64_t row_len = s <= span ? pitch * s : span;
    int64_t cols = (cap / e - k) / s + 1, batch = cap / row_len;
    cols = cols < 1 ? 1 : cols > wo ? wo : cols;
    cols = (wo + (wo + cols - 1) / cols - 1) / ((wo + cols - 1) / cols);
    batch = batch < 1 ? 1 : batch > y->h ? y->h : batch;
    /* Non-temporal output stores where the output is larger than the last-level cache: it
     * cannot wait there for the next layer anyway, and plain stores would read each line in
     * first and push the input out.  Measured on an AMD EPYC (Zen 4) KVM guest, 32 MiB L3,
     * max 3x3 stride 1 SAME on 4x112x112x256 (51 MB each way), best of 4 processes: 1 thread
     * 9.4 -> 7.1 ms, 11.5 -> 9.2 ms followed by a NumPy sum of the output; 2 threads 10.1 ->
     * 9.3 ms.  Under the L3 size it only moves the cost: max-3x3s2-b8's 6.4 MB output took
     * the pool 1.73 -> 1.35 ms (avg-2x2s2-b8: 1.20 -> 0.90 ms) but the sum after it read the
     * output from memory, 1.88 -> 1.96 ms for both (1.42 -> 1.45 ms), so such outputs stay
     * cached.  Needs contiguous output pixels, cells aligned to FC_T (the copy aligns whole
     * vectors from there). */
    const double y_bytes = (double)(y->n * y->h * y->w * y->c) * sizeof(FC_T);
    const int nt = !width && y->sc == 1 && y->sw == x->c &&
                   (uintptr_t)y->data % sizeof(FC_T) == 0 && y_bytes > (double)fc_cache_bytes(3);
    /* width mode: the rows, the slack, then the staging area (flat: pitch outputs a row);
     * channels mode: the input columns, the slack, then (nt) a block's outputs */
    const int64_t buf_len = width ? batch * (row_len + pitch) + 2 * slack
                                  : ((cols - 1) * s + k) * e + 2 * slack + (nt ? cols * e : 0);
    /* The averages' divisors, once per call: each output column's and row's factor (the
     * caller's, or the real input columns and rows: cells, rows), and for flat batches every
     * window's product of the two (divs).  Products of small integers: exact. */
    const int64_t ndivs = flat && kind == FC_POOL_AVG ? y->h * pitch : 0;
    FC_T *cells = malloc(sizeof(FC_T) * (size_t)(wo + y->h + ndivs));
    if (!cells) return FC_ERR_NOMEM;
    FC_T *rows_div = cells + wo, *divs = rows_div + y->h;
    for (int64_t ox = 0; ox < wo; ox++) {
        int64_t k0, k1;
        fc_valid_taps(ox, s, win->pad_left, 1, k, x->w, &k0, &k1);
        cells[ox] = div_w ? (FC_T)div_w[ox] : (FC_T)(k1 - k0);
    }
    for (int64_t oy = 0; oy < y->h; oy++) {
        int64_t k0, k1;
        fc_valid_taps(oy, win->stride_h, win->pad_top, 1, win->k_h, x->h, &k0, &k1);
        rows_div[oy] = div_h ? (FC_T)div_h[oy] : (FC_T)(k1 - k0);
        for (int64_t ox = 0; ox < pitch && ndivs; ox++) /* windows past Wo are dropped */
            divs[oy * pitch + ox] = rows_div[oy] * (ox < wo ? cells[ox] : 1);
    }
    /* Software prefetch: width mode streams whole planes, prefetched PL_PF_BYTES ahead
     * (1.6x faster from DRAM); channels mode prefetches the next output row's window rows
     * at the same columns, unless they are far ahead (their lines would wait in L1 while
     * the current rows pass) and the input small enough to come from cache: measured 1.1x
     * faster at 26 MB and 1.2x slower at 3 MB with rows 57 KB apart.  0: none.
     * Where windows share no rows (k_h <= stride_h) only within half the L1, and into L2
     * where the distance passes half the L1 (the current rows need the rest): rows read
     * once, in order, far apart, are streamed by the hardware prefetcher, and prefetching
     * them too only cost; short rows close together are not (lenet-pool, 64x28x28x32 2x2
     * stride 2, rows 7 KB ahead: 0.144 ms without prefetch against 0.128 with, min of 8
     * alternating processes).
     * Measured on an AMD EPYC (Zen 4) KVM guest, 1 thread, median of 8 processes' best of
     * 50 calls, a benchmark running on the other core: avg 2x2 stride 2 on 8x56x56x256 1.65
     * -> 1.35 ms without prefetch (2 threads: 0.94 -> 0.74), max 2x2 stride 2 on
     * 8x112x112x64 1.73 -> 1.51; max 3x3 stride 2 SAME on 8x112x112x64 2.22 -> 1.68 ms
     * prefetching into L2 instead of L1 (57 KB ahead), avg 3x3 stride 2 SAME on 8x56x56x256
     * 2.05 -> 1.96 (min 1.91 -> 1.55). */
    int64_t pf = width ? (int64_t)(PL_PF_BYTES / sizeof(FC_T)) : win->stride_h * x->sh;
    const double x_bytes = (double)(x->n * x->h * x->w * x->c) * sizeof(FC_T);
    const int64_t pf_bytes = (pf < 0 ? -pf : pf) * (int64_t)sizeof(FC_T);
    const int far = pf_bytes > (int64_t)fc_cache_bytes(1) / 2;
    if (!width && ((pf_bytes > 2 * PL_PF_BYTES && x_bytes < PL_PF_MIN_BYTES) ||
                   (win->k_h <= win->stride_h && far)))
        pf = 0;
    const int pf_l2 = !width && far;
    const fc_pool_job job = {kind, win,   x,     y,       width, flat, cells, rows_div, divs,
                             cols, batch, pitch, row_len, slack, pf,   pf_l2, nt};

    const int64_t planes = width ? y->n * y->c : y->n;
    const int64_t row_cells = wo * e * win->k_h * win->k_w;
    int64_t rows = PL_TASK_CELLS / row_cells;
    /* Windows that share rows (k_h > stride_h): a row block's first output row reads
     * k_h - stride_h input rows that the block before it read, which two threads taking
     * consecutive tasks fetch from the other core or memory instead of their own L2.  Blocks
     * of PL_SHARED_ROWS (k_h - stride_h) / stride_h output rows or more keep those under
     * 1 / PL_SHARED_ROWS of the rows a block reads.  Measured on an AMD EPYC (Zen 4) KVM
     * guest, 2 threads, max-3x3s2-b8 (1 -> 4 output rows a task), 24 alternating processes
     * with a benchmark on one core: median of their best of 50 calls 1.45 -> 1.00 ms, median
     * of medians 1.93 -> 1.17; avg-2x2s2-b8 in the same processes, its split unchanged,
     * drifted 1.11 -> 0.91 ms, so the gain is partly noise.  Never below 4 tasks a thread,
     * so that small calls still split. */
    const int threads = fc_threads_for((double)(planes * y->h * row_cells));
    if (win->k_h > win->stride_h) {
        const int64_t over = win->k_h - win->stride_h, s_h = win->stride_h;
        int64_t least = (PL_SHARED_ROWS * over + s_h - 1) / s_h;
        const int64_t most = planes * y->h / (4 * (int64_t)threads);
        least = least > most ? most : least;
        rows = rows < least ? least : rows;
    }
    rows = rows < 1 ? 1 : rows > y->h ? y->h : rows;
    const int64_t blocks = (y->h + rows - 1) / rows, units = planes * blocks;
    /* a task: whole units (a row block of a plane) adding up to PL_TASK_CELLS or more */
    const int64_t per_task = 1 + (PL_TASK_CELLS - 1) / (rows * row_cells);
    const int64_t tasks = (units + per_task - 1) / per_task;
    const FC_FN(pool_call) call = {cx, &job, blocks, rows, units, per_task};
    fc_parallel_job pj = {.phases = 0, .ws_bytes = sizeof(FC_T) * (size_t)buf_len};
    fc_job_add(&pj, tasks, FC_FN(pool_task), &call);
    const fc_status status = fc_parallel_run(&pj, threads);
    free(cells);
    return status;
}
