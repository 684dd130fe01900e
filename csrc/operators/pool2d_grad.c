/* pool2d_grad and max_pool2d_argmax: check arguments -> split the work -> kernel
 * (pool/pool_grad_tmpl.h). */
#include "fc_parallel.h"
#include "fc_pool_grad.h"

/* Work per task, in window cells visited: enough to amortize taking a task, few enough
 * that two threads get many (as in pool2d). */
#define PG_TASK_CELLS 32768
/* Channels per task with vector channels (NHWC): 64 float32 are 4 zmm vectors; splitting
 * wider images gives a single image enough tasks.  Other layouts take one channel (plane)
 * per task, which keeps each task's reads within one plane. */
#define PG_BLOCK_CHANNELS 64
/* A max-gradient task recomputes the maxima of the windows that straddle its first row:
 * at least this many rows per task keep that small. */
#define PG_MIN_ROWS 4

/* The tasks: unit u is channel block u % cblocks of row block u / cblocks % rblocks of
 * image u / (rblocks * cblocks); task t runs units [t * per_task, (t + 1) * per_task).
 * Channel blocks innermost: the blocks of one row block share its cache lines (a pixel's
 * channels), which stay in cache from one block to the next (measured 1.5x faster on
 * 8x56x56x256 than row blocks innermost, which read every line once per channel block). */
typedef struct {
    fc_cntx cx;
    fc_dtype dtype;
    fc_pool_grad_job job;
    int argmax;                    /* which kernel: argmax rows or gradient rows */
    int64_t rows, rblocks, height; /* rows per block, of `height` (dx's or y's) */
    int64_t cb, cblocks, channels;
    int64_t units, per_task;
} pg_call;

static void pg_task(const void *ctx, int64_t t, void *ws) {
    const pg_call *c = ctx;
    const int64_t u1 = (t + 1) * c->per_task < c->units ? (t + 1) * c->per_task : c->units;
    for (int64_t u = t * c->per_task; u < u1; u++) {
        const int64_t r0 = u / c->cblocks % c->rblocks * c->rows;
        const int64_t r1 = r0 + c->rows < c->height ? r0 + c->rows : c->height;
        const int64_t cbi = u % c->cblocks, n = u / (c->rblocks * c->cblocks);
        const int64_t c0 = cbi * c->cb, c1 = c0 + c->cb < c->channels ? c0 + c->cb : c->channels;
        if (c->argmax) {
            if (c->dtype == FC_FLOAT64) pool_argmax_rows_f64(&c->cx, &c->job, n, c0, c1, r0, r1);
            else pool_argmax_rows_f32(&c->cx, &c->job, n, c0, c1, r0, r1);
        } else {
            if (c->dtype == FC_FLOAT64) pool_grad_rows_f64(&c->cx, &c->job, n, c0, c1, r0, r1);
            else pool_grad_rows_f32(&c->cx, &c->job, n, c0, c1, r0, r1);
        }
    }
}

/* Splits `height` rows of n images of `channels` channels, each row costing row_cells per
 * channel, into tasks, and runs them. */
static fc_status pg_run(pg_call *c, int64_t n, int64_t row_cells, int vector_channels) {
    c->cx = fc_cntx_now();
    c->channels = c->job.x->c;
    c->cb = vector_channels && c->channels > PG_BLOCK_CHANNELS ? PG_BLOCK_CHANNELS : c->channels;
    if (!vector_channels) c->cb = 1;
    c->cblocks = (c->channels + c->cb - 1) / c->cb;
    const int64_t cost = row_cells * c->cb > 0 ? row_cells * c->cb : 1; /* one row's */
    int64_t rows = PG_TASK_CELLS / cost;
    rows = rows < PG_MIN_ROWS ? PG_MIN_ROWS : rows;
    c->rows = rows > c->height ? c->height : rows;
    c->rblocks = (c->height + c->rows - 1) / c->rows;
    c->units = n * c->cblocks * c->rblocks;
    c->per_task = 1 + (PG_TASK_CELLS - 1) / (c->rows * cost);
    fc_parallel_job pj = {.phases = 0, .ws_bytes = 0};
    fc_job_add(&pj, (c->units + c->per_task - 1) / c->per_task, pg_task, c);
    return fc_parallel_run(&pj, fc_threads_for((double)c->units * (double)(c->rows * cost)));
}

static int same_image_shape(const fc_view *a, const fc_view *b) {
    return a->n == b->n && a->h == b->h && a->w == b->w && a->c == b->c;
}

/* The gradients take no dilation (max_pool2d_grad / avg_pool2d_grad have none); the
 * argmax kernel does (max_pool2d(return_argmax=True, dilations=...)). */
static int valid_window(const fc_window *w, int dilated) {
    return w->k_h >= 1 && w->k_w >= 1 && w->stride_h >= 1 && w->stride_w >= 1 && w->dil_h >= 1 &&
           w->dil_w >= 1 && (dilated || (w->dil_h == 1 && w->dil_w == 1)) && w->pad_top >= 0 &&
           w->pad_left >= 0;
}

fc_status fc_pool2d_grad(fc_dtype dtype, fc_pool_kind kind, const fc_window *win, const fc_view *x,
                         const fc_view *g, const fc_view *dx) {
    if (!same_image_shape(x, dx) || g->n != x->n || g->c != x->c || !valid_window(win, 0) ||
        (kind != FC_POOL_MAX && kind != FC_POOL_AVG) ||
        (dtype != FC_FLOAT32 && dtype != FC_FLOAT64))
        return FC_ERR_ARG;
    if (dx->n == 0 || dx->h == 0 || dx->w == 0 || dx->c == 0) return FC_OK;
    pg_call c = {.dtype = dtype, .argmax = 0, .height = dx->h};
    c.job = (fc_pool_grad_job){kind, win, x, g, dx, NULL, NULL, {0, 0, 0, 0}};
    /* an input row receives from about k_h / stride_h output rows, k_w cells each (max:
     * twice, the window's maximum first) */
    const int64_t reach = (win->k_h + win->stride_h - 1) / win->stride_h;
    const int64_t kw = win->k_w < x->w ? win->k_w : x->w;
    const int64_t row_cells =
        (kind == FC_POOL_MAX ? 2 : 1) * g->w * kw * (reach < x->h ? reach : x->h);
    return pg_run(&c, x->n, row_cells, x->sc == 1 && g->sc == 1 && dx->sc == 1);
}

fc_status fc_max_pool2d_argmax(fc_dtype dtype, const fc_window *win, const fc_view *x,
                               const fc_view *y, const fc_view *argmax,
                               const int64_t index_strides[4]) {
    if (!same_image_shape(y, argmax) || y->n != x->n || y->c != x->c || !valid_window(win, 1) ||
        (dtype != FC_FLOAT32 && dtype != FC_FLOAT64))
        return FC_ERR_ARG;
    if (y->n == 0 || y->h == 0 || y->w == 0 || y->c == 0) return FC_OK;
    pg_call c = {.dtype = dtype, .argmax = 1, .height = y->h};
    c.job = (fc_pool_grad_job){
        FC_POOL_MAX, win,
        x,           NULL,
        NULL,        y,
        argmax,      {index_strides[0], index_strides[1], index_strides[2], index_strides[3]}};
    const int64_t kh = win->k_h < x->h ? win->k_h : x->h, kw = win->k_w < x->w ? win->k_w : x->w;
    return pg_run(&c, x->n, 2 * y->w * kh * kw, x->sc == 1 && y->sc == 1);
}
