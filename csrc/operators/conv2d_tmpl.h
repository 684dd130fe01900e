/* conv2d operator for one dtype (template: FC_T, FC_SFX): describe the call as phases of
 * tasks for the parallel layer (runtime/parallel.c).  Work is split over output rows
 * (direct), 2x2 tiles (Winograd) or blocks of output pixels x output-channel panels
 * (im2col + GEMM), never over the reduction, so every output value is summed in the same
 * order whatever the thread count: results are bit-identical for any count. */

/* Copying one view into another of the same shape (NCHW to and from dense NHWC
 * workspaces), as a phase of tasks.  NCHW <-> dense NHWC is a transpose of each image's
 * [C][H*W] matrix, a task per CV_RB source rows and CV_CC columns (an image of 64 planes was
 * one task: vgg-3x3-224's 12.8 MB input went through one thread of two); other views go one
 * image row per task, channel-block by channel-block, so that a channel-strided side is
 * walked as 16 sequential streams instead of one page per channel per pixel (which thrashed
 * the TLB: vgg-3x3-224 in NCHW spent 28 ms here). */
typedef struct {
    const fc_cntx *cx;
    const fc_view *src, *dst;
    int transpose;
    int64_t rows, cols, blocks; /* transpose: each image's matrix, in blocks of CV_RB rows */
    int64_t chunks;             /* transpose: and of CV_CC columns */
} FC_FN(copy_job);

static void FC_FN(copy_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(copy_job) *j = ctx;
    const fc_view *src = j->src, *dst = j->dst;
    if (j->transpose) {
        const int64_t per_image = j->blocks * j->chunks, n = t / per_image;
        const int64_t r0 = t % per_image / j->chunks * CV_RB, c0 = t % j->chunks * CV_CC;
        const int64_t r1 = r0 + CV_RB < j->rows ? r0 + CV_RB : j->rows;
        const int64_t c1 = c0 + CV_CC < j->cols ? c0 + CV_CC : j->cols;
        FC_FN(transpose)(j->cx, (const FC_T *)src->data + n * src->sn + c0, j->cols,
                         (FC_T *)dst->data + n * dst->sn + c0 * j->rows, j->rows, r0, r1, c1 - c0);
        return;
    }
    const int64_t n = t / src->h, iy = t % src->h;
    const FC_T *s = (const FC_T *)src->data + n * src->sn + iy * src->sh;
    FC_T *o = (FC_T *)dst->data + n * dst->sn + iy * dst->sh;
    for (int64_t c0 = 0; c0 < src->c; c0 += CV_CB) {
        const int64_t c1 = c0 + CV_CB < src->c ? c0 + CV_CB : src->c;
        for (int64_t ix = 0; ix < src->w; ix++)
            for (int64_t c = c0; c < c1; c++)
                o[ix * dst->sw + c * dst->sc] = s[ix * src->sw + c * src->sc];
    }
}

/* Appends the copy of src into dst to the job, described by *j (which must outlive it). */
static void FC_FN(copy_add)(const fc_cntx *cx, fc_parallel_job *job, const fc_view *src,
                            const fc_view *dst, FC_FN(copy_job) * j) {
    const int64_t hw = src->h * src->w;
    const int to_nhwc = fc_is_planar(src) && fc_is_dense(dst);
    *j = (FC_FN(copy_job)){cx, src, dst, 0, 0, 0, 0, 1};
    j->transpose = to_nhwc || (fc_is_dense(src) && fc_is_planar(dst));
    if (j->transpose) { /* rows of the source matrix: channels (to NHWC) or pixels */
        j->rows = to_nhwc ? src->c : hw;
        j->cols = to_nhwc ? hw : src->c;
        j->blocks = (j->rows + CV_RB - 1) / CV_RB;
        j->chunks = (j->cols + CV_CC - 1) / CV_CC;
    }
    fc_job_add(job, src->n * (j->transpose ? j->blocks * j->chunks : src->h), FC_FN(copy_task), j);
}

static fc_view FC_FN(dense_like)(const fc_view *v, void *data) {
    fc_view d = {data, v->n, v->h, v->w, v->c, v->h * v->w * v->c, v->w * v->c, v->c, 1};
    return d;
}

/* One convolution as its tasks see it: an input with contiguous channels, a dense NHWC
 * output (conv2d_run converts other layouts once), and what the algorithm prepared. */
typedef struct {
    const fc_cntx *cx;
    const fc_conv_desc *d;
    const fc_view *x, *y;
    const FC_T *w, *bias;
    int64_t row_blocks;    /* direct: blocks of rows per image, a task each, split evenly */
    int64_t image_blocks;  /* direct: blocks of images, split evenly (y->n: one image each) */
    int64_t slice, slices; /* direct: output channels per task, and the slices */
    int direct_kernel;     /* direct: which kernel (DK_*), decided once */
    FC_T *wpack;  /* im2col / Winograd / grouped: packed weights; blocked: an aligned copy */
    int pack_own; /* im2col: each task packs its weights (igemm_plan) */
    const fc_conv_packed *pk;           /* weights packed before the call for cx's ISA, or NULL */
    int64_t m, mblocks, npanel, chunks; /* im2col: pixels, their blocks, panels, panel chunks */
    int64_t tiles, block;               /* Winograd: 2x2 tiles, tiles per task */
    int64_t npanel_wg, pslices;         /* Winograd: output panels, slices of them */
    int *reroute;                       /* im2col / Winograd: set by a task that met a value
                                           this algorithm cannot take (see conv2d_run) */
    const fc_view *planes_out;          /* direct: NCHW output each task transposes its rows
                                           into, while they are in cache; NULL: none */
} FC_FN(conv_call);

/* direct_task's rows of image n, but for the blocked kernel's: the other kernels', and the
 * transpose of every kernel's rows into NCHW. */
static void FC_FN(direct_image_rows)(const FC_FN(conv_call) * c, int64_t n, int64_t oy0,
                                     int64_t oy1, int64_t oc0, int64_t oc1, void *ws) {
    const fc_view *x = c->x, *y = c->y;
    switch (c->direct_kernel) {
    case DK_FILTER: FC_FN(filter_rows)(c->cx, c->d, x, c->w, c->bias, y, n, oy0, oy1, ws); break;
    case DK_BLOCKED: break; /* all of the task's images at once (direct_task) */
    case DK_GROUPED:
        FC_FN(grouped_rows)(c->cx, c->d, x, c->wpack, c->bias, y, n, oy0, oy1, ws);
        break;
    case DK_FEWOUT: FC_FN(fewout_rows)(c->cx, c->d, x, c->w, c->bias, y, n, oy0, oy1, ws); break;
    case DK_POINTWISE: /* the weights, or their aligned copy */
        FC_FN(pointwise_groups_rows)(c->cx, c->d, x, c->wpack ? c->wpack : c->w, c->bias, y, n, oy0,
                                     oy1);
        break;
    case DK_DEPTHWISE:
        FC_FN(depthwise_rows)(c->cx, c->d, x, c->w, c->bias, y, n, oy0, oy1, ws);
        break;
    default: FC_FN(direct_conv_rows)(c->d, x, c->w, c->bias, y, n, oy0, oy1, ws); break;
    }
    const fc_view *yo = c->planes_out;
    if (yo) /* pixels [oy0 * W, oy1 * W) x channels [oc0, oc1) into their planes */
        FC_FN(transpose)(c->cx, (const FC_T *)y->data + n * y->sn + oy0 * y->sh + oc0, y->c,
                         (FC_T *)yo->data + n * yo->sn + oy0 * yo->sh + oc0 * yo->sc, yo->sc, 0,
                         (oy1 - oy0) * y->w, oc1 - oc0);
}

/* The direct kernels, over blocks of output rows (of images).  Image filters (1-4 channels in and out)
 * run the filter kernel, many input channels into 1-4 output channels (a first layer's
 * input gradient) the few-output kernel, depthwise-shaped problems (one input channel per
 * group) the depthwise kernel, groups whose output channels are whole vectors the
 * register-blocked kernel, narrow groups (as many inputs as outputs, fewer than a vector's
 * lanes) the grouped kernel, anything else the generic one. */
static void FC_FN(direct_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(conv_call) *c = ctx;
    const fc_view *x = c->x, *y = c->y;
    const int64_t blocks = c->row_blocks, ib = c->image_blocks, per_slice = ib * blocks;
    const int64_t slice = t / per_slice, i = t % per_slice / blocks;
    const int64_t n0 = y->n * i / ib, n1 = y->n * (i + 1) / ib;
    const int64_t oy0 = y->h * (t % blocks) / blocks, oy1 = y->h * (t % blocks + 1) / blocks;
    const int64_t oc0 = slice * c->slice, oc1 = oc0 + c->slice < y->c ? oc0 + c->slice : y->c;
    if (c->direct_kernel == DK_BLOCKED) /* the weights, or their aligned copy */
        FC_FN(blocked_rows)(c->cx, c->d, x, c->wpack ? c->wpack : c->w, c->bias, y, n0, n1, oy0,
                            oy1, oc0, oc1);
    for (int64_t n = n0; n < n1; n++) FC_FN(direct_image_rows)(c, n, oy0, oy1, oc0, oc1, ws);
}

/* Bytes of a call's filters, HWIO. */
static size_t FC_FN(filter_bytes)(const FC_FN(conv_call) * c) {
    const fc_window *win = &c->d->win;
    return sizeof(FC_T) * (size_t)(win->k_h * win->k_w * (c->x->c / c->d->groups) * c->y->c);
}

/* Block t of CV_ALIGN_BYTES of the filters' aligned copy (direct_plan). */
static void FC_FN(align_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(conv_call) *c = ctx;
    const size_t bytes = FC_FN(filter_bytes)(c), at = (size_t)t * CV_ALIGN_BYTES;
    memcpy((char *)c->wpack + at, (const char *)c->w + at,
           bytes - at < CV_ALIGN_BYTES ? bytes - at : CV_ALIGN_BYTES);
}

static void FC_FN(grouped_pack_task)(const void *ctx, int64_t tap, void *ws) {
    const FC_FN(conv_call) *c = ctx;
    FC_FN(grouped_pack)(c->cx, c->d, c->y, c->w, tap, c->wpack);
}

/* The register-blocked kernel's split on several threads.  Each task reads the weights of
 * its output channels once per band of rows (FC_BLOCKED_BAND), so tasks of fewer rows
 * multiply the weight traffic: on r50-3x3-7 (9.4 MB of weights, 7 rows) one row per task
 * read them 7 times and 2 threads ran at 0.52x the best peer.  So there are no more tasks
 * than bands of rows (but for the even split below) unless the filters take at most an
 * eighth of L2, which a task then re-reads from there: first layers keep row_blocks' tasks
 * of a few rows, whose finer split leaves less for one thread to finish alone (2 threads,
 * AMD EPYC, min of 6 alternating processes: AlexNet 11x11/4's 55 rows in 28 tasks 0.68 ms
 * against 0.72 in 10, r50-conv1 1.15 against 1.19).  Where that leaves fewer than four
 * tasks a thread, the output channels are sliced as well (in whole register blocks; rows
 * fastest, so a thread's next task reuses the same weights).  Where the filters are also
 * larger than the input, the channels are sliced first, into as many slices as that wants
 * (each task then reads a slice's share of the weights), and the rows only as far as the
 * slices leave tasks to make: with bands of rows each band read all its slice's weights
 * (2 threads, AMD Zen 4, min of alternating processes, direct: 7x7x512 -> 512 3x3 1.33 ms
 * -> 0.99, 14x14x256 -> 256 5x5 2.99 -> 2.64, alexnet-c2-g2 1.91 -> 1.89). */
static void FC_FN(blocked_split)(FC_FN(conv_call) * c, int threads) {
    const fc_view *y = c->y;
    const int64_t band = FC_BLOCKED_BAND, want = 4 * threads;
    const int64_t unit = FC_FN(blocked_block_channels)(c->cx);
    const int64_t rows = (y->h + c->row_blocks - 1) / c->row_blocks;
    const size_t wbytes = FC_FN(filter_bytes)(c);
    if (wbytes > fc_cache_bytes(2) / 8) /* else a task re-reads them from L2 */
        c->row_blocks = (y->h + band - 1) / ((rows + band - 1) / band * band);
    int64_t tasks = y->n * c->row_blocks;
    const int64_t units = (y->c + unit - 1) / unit;
    if (tasks < want && units >= 2) {
        int64_t s = (want + tasks - 1) / tasks < units ? (want + tasks - 1) / tasks : units;
        const size_t xbytes = sizeof(FC_T) * (size_t)(c->x->n * c->x->h * c->x->w * c->x->c);
        if (wbytes > fc_cache_bytes(2) / 8 && wbytes > xbytes) { /* channels first */
            s = want < units ? want : units;
            const int64_t per_image = ((want + s - 1) / s + y->n - 1) / y->n;
            c->row_blocks = per_image < y->h ? per_image : y->h;
            tasks = y->n * c->row_blocks;
        }
        c->slice = (units + s - 1) / s * unit;
        c->slices = (y->c + c->slice - 1) / c->slice;
    }
    /* As many rows on every thread: an image's blocks of rows split evenly, their count
     * rounded up to a multiple of the threads where that keeps at most a band in each.
     * r50-conv1's 112 rows were 18 bands of 6 and one of 4, so one of 2 threads computed 60
     * rows against 56 (AlexNet's 55: 30 against 28). */
    const int64_t per_thread = (tasks * c->slices + threads - 1) / threads;
    const int64_t even = (per_thread * threads / c->slices + y->n - 1) / y->n;
    if (even <= y->h && even * y->n * c->slices % threads == 0) c->row_blocks = even;
}

/* The register-blocked kernel's tasks of whole images take several: their single pixels
 * (an image's corners, whose taps no other pixel of the image shares) then run as blocks
 * across the images (blocked_tmpl.h).  About two blocks' worth (12 images) a task, and a
 * multiple of the threads of tasks, split evenly: lenet-c2 on 1 thread, 6 tasks of 10-11
 * of its 64 images. */
static void FC_FN(blocked_images)(FC_FN(conv_call) * c, int threads) {
    const int64_t n = c->y->n, per = 2 * FC_BLOCKED_BAND;
    if (c->row_blocks != 1) return;
    const int64_t blocks = ((n + per - 1) / per + threads - 1) / threads * threads;
    c->image_blocks = blocks < n ? blocks : n;
}

/* The direct kernel (DK_*) that runs a call. */
static int FC_FN(direct_kernel)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                const fc_view *y) {
    return fc_image_filter_applies(d, x, y)               ? DK_FILTER
           : fc_fewout_applies(d, x, y, sizeof(FC_T))     ? DK_FEWOUT
           : d->groups == x->c && d->groups > 1           ? DK_DEPTHWISE
           : FC_FN(pointwise_groups_applies)(cx, d, x, y) ? DK_POINTWISE
           : FC_FN(blocked_applies)(cx, d, y)             ? DK_BLOCKED
           : FC_FN(grouped_applies)(cx, d, x, y)          ? DK_GROUPED
                                                          : DK_GENERIC;
}

/* Blocks of output rows per image for the direct kernels' tasks: about 16 tasks per thread
 * (a row each took 11% longer on a 112x112 depthwise layer, 1.5 us per row: the claims'
 * cache-line traffic); whole images when serial. */
static int64_t FC_FN(row_blocks)(const fc_view *y, int threads) {
    const int64_t per_task = (y->n * y->h + 16 * threads - 1) / (16 * threads);
    return threads > 1 && per_task < y->h ? (y->h + per_task - 1) / per_task : 1;
}

static fc_status FC_FN(direct_plan)(FC_FN(conv_call) * c, int threads, fc_parallel_job *job) {
    const fc_view *y = c->y;
    c->row_blocks = FC_FN(row_blocks)(y, threads);
    c->image_blocks = y->n;
    c->direct_kernel = FC_FN(direct_kernel)(c->cx, c->d, c->x, y);
    if (c->direct_kernel == DK_GROUPED && c->pk && c->pk->grouped) {
        c->wpack = (FC_T *)c->pk->grouped;
    } else if (c->direct_kernel == DK_GROUPED) { /* weights in the order its way reads them */
        const int64_t taps = c->d->win.k_h * c->d->win.k_w;
        const size_t bytes = sizeof(FC_T) * (size_t)(taps * (y->c / c->d->groups) * y->c);
        c->wpack = fc_scratch(FC_SCRATCH_WEIGHTS, bytes);
        if (!c->wpack) return FC_ERR_NOMEM;
        fc_job_add(job, taps, FC_FN(grouped_pack_task), c);
    }
    /* The register-blocked and five-vector 1x1 kernels load whole vectors of output
     * channels' weights, once per tap and input channel for every block of pixels: where the
     * filters do not start on a cache line (NumPy aligns to 16 bytes), every load spans two
     * lines.  So the filters are copied to an aligned buffer first (in blocks of
     * CV_ALIGN_BYTES, split among the threads) where they fit in half of L2, a pass that
     * costs about 1% of the call: AlexNet 11x11/4 (93 KB) 1.04 ms -> 0.96, lenet-c1 1.01 ->
     * 0.94, shufflenet-1x1-28-g3 (77 KB) 0.226 -> 0.206; and larger ones where the output
     * has at least CV_ALIGN_BLOCKS blocks of pixels to read them: alexnet-c2-g2 (1.2 MB,
     * 729 pixels) 3.32 -> 2.77, r50-3x3-14 (2.4 MB, 196 pixels) 1.72 -> 1.57.  Not fewer
     * pixels: 2x2x512 -> 512 3x3 (9.4 MB, 4 pixels) 0.80 -> 1.37, 4x4x256 -> 256 (16) no
     * better, r50-3x3-7 (49) about even (1 thread, thread CPU time, Xeon AVX-512).  Only on
     * CPUs where that pays (fc_align_filters: not AMD Zen 4). */
    const size_t wbytes = FC_FN(filter_bytes)(c);
    const int64_t pixels = y->n * y->h * y->w;
    if ((c->direct_kernel == DK_BLOCKED || c->direct_kernel == DK_POINTWISE) &&
        (uintptr_t)c->w % 64 && fc_align_filters() &&
        (wbytes <= fc_cache_bytes(2) / 2 || pixels >= CV_ALIGN_BLOCKS * FC_BLOCKED_BAND)) {
        c->wpack = fc_scratch(FC_SCRATCH_WEIGHTS, wbytes);
        if (!c->wpack) return FC_ERR_NOMEM;
        fc_job_add(job, (int64_t)((wbytes + CV_ALIGN_BYTES - 1) / CV_ALIGN_BYTES),
                   FC_FN(align_task), c);
    }
    c->slice = y->c;
    c->slices = 1;
    if (c->direct_kernel == DK_BLOCKED && threads > 1) FC_FN(blocked_split)(c, threads);
    if (c->direct_kernel == DK_BLOCKED) FC_FN(blocked_images)(c, threads);
    fc_job_add(job, c->slices * c->image_blocks * c->row_blocks, FC_FN(direct_task), c);
    const fc_window *win = &c->d->win;
    job->ws_bytes = c->direct_kernel == DK_FILTER ? FC_FN(filter_workspace)(c->cx, c->d, c->x, y)
                    : c->direct_kernel == DK_GROUPED
                        ? FC_FN(grouped_workspace)(c->cx, c->d, c->x, y)
                    : c->direct_kernel == DK_FEWOUT /* the repacked filter */
                        ? sizeof(FC_T) * (size_t)(win->k_h * win->k_w * c->x->c * y->c)
                        : sizeof(FC_T) * (size_t)y->c; /* one pixel's accumulators */
    return FC_OK;
}

static void FC_FN(winograd_pack_task)(const void *ctx, int64_t ch, void *ws) {
    const FC_FN(conv_call) *c = ctx;
    FC_FN(winograd_pack_weights)(c->cx, c->x, c->y, c->w, ch, ch + 1, c->wpack);
}

/* Once a tile has met a non-finite value the call is computed again (conv2d_run): the
 * remaining tasks have nothing left to do. */
static void FC_FN(winograd_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(conv_call) *c = ctx;
    const int64_t b = t / c->pslices, sl = t % c->pslices, np = c->npanel_wg;
    const int64_t t0 = b * c->block, t1 = t0 + c->block < c->tiles ? t0 + c->block : c->tiles;
    if (__atomic_load_n(c->reroute, __ATOMIC_RELAXED)) return;
    if (FC_FN(winograd_block)(c->cx, c->d, c->x, c->y, c->wpack, c->bias, t0, t1,
                              sl * np / c->pslices, (sl + 1) * np / c->pslices, ws))
        __atomic_store_n(c->reroute, 1, __ATOMIC_RELAXED);
}

static fc_status FC_FN(winograd_plan)(FC_FN(conv_call) * c, int threads, fc_parallel_job *job) {
    const fc_cntx *cx = c->cx;
    c->tiles = FC_FN(winograd_tiles)(cx, c->x, c->y);
    /* Blocks of at most `most` tiles (one for 14x14's 49), smaller on several threads so
     * that each gets about four.  A multiple of 12 keeps whole micro-tile rows; the block
     * size does not change any result. */
    const int64_t most = FC_FN(winograd_block_tiles)(cx);
    const size_t wbytes = sizeof(FC_T) * FC_FN(winograd_packed_weights_size)(cx, c->x, c->y);
    c->block = most;
    c->npanel_wg = (c->y->c + FC_UKERNEL(cx)->nr - 1) / FC_UKERNEL(cx)->nr;
    c->pslices = 1;
    if (threads > 1) {
        c->block = (c->tiles + 4 * threads - 1) / (4 * threads);
        c->block = (c->block + 11) / 12 * 12;
        /* Every block reads all the transformed weights; where they outgrow L2, one block a
         * thread instead of four: r50-3x3-14 (49 tiles, 4 MiB of weights) ran 5 blocks of 12
         * on 2 threads, slower than 1 thread (1.8 ms against 1.6).  The share is rounded up
         * to whole micro-tile rows of this ISA: rounded down to 12, 49 tiles were blocks of
         * 24, 24 and 1, and the block of one tile read all 4 MiB of weights again after
         * the others. */
        if (wbytes > fc_cache_bytes(2)) {
            const int64_t mr = FC_UKERNEL(cx)->mr, share = (c->tiles + threads - 1) / threads;
            c->block = (share + mr - 1) / mr * mr;
        }
        if (c->block > most) c->block = most;
        /* All the tiles in one block (or as few blocks as before, and fewer than the
         * threads): the threads share each block's output channels instead, each reading
         * its part of the weights (r50-3x3-14: 49 tiles in blocks of 30 and 19 would leave
         * one thread idle for a ninth of the GEMMs, both reading all 4 MiB of weights).
         * Each slice transforms the block's inputs again: 1/16 of a GEMM's work or less. */
        if (wbytes > fc_cache_bytes(2) && c->tiles <= most) {
            c->block = c->tiles;
            c->pslices = threads < c->npanel_wg ? threads : c->npanel_wg;
        }
    }
    if (c->pk && c->pk->winograd) {
        c->wpack = (FC_T *)c->pk->winograd;
    } else {
        c->wpack = fc_scratch(FC_SCRATCH_WEIGHTS, wbytes);
        if (!c->wpack) return FC_ERR_NOMEM;
        fc_job_add(job, c->x->c, FC_FN(winograd_pack_task), c);
    }
    fc_job_add(job, (c->tiles + c->block - 1) / c->block * c->pslices, FC_FN(winograd_task), c);
    job->ws_bytes = FC_FN(winograd_workspace)(cx, c->x, c->y);
    return FC_OK;
}

/* Winograd on NCHW planes in place (conv/winograd_planes_tmpl.h), where the NHWC kernel took
 * layout copies around it: NCHW / NHWC time 1.36x -> 1.20x on vgg-3x3-224, 1.42x -> 1.25x on
 * b8-3x3-56, 1.24x -> 1.22x on r50-3x3-56 (1 thread, thread CPU time).  Its GEMMs run
 * transposed, the tiles as their columns in panels of NR, so an image's last block computes
 * its partial panel whole: used where that wastes at most an eighth of the tiles
 * (r50-3x3-56: 784 tiles, 832 computed; r50-3x3-28's 196 would be 256 and r50-3x3-14's 49,
 * 64: those keep the copies, 1.05x and 1.02x).  Weights packed before the call
 * (fastconv.Conv2D) are in the NHWC kernel's panels, so this path transforms its own rows
 * of U^T as a plain call does: with the layout copies instead, a packed vgg-3x3-224 took
 * 1.11x a plain call's time and b8-3x3-56 1.13x (1 thread, thread CPU time), where U^T
 * costs well under 1% (these layers have many tiles for few weights).  Tasks: the
 * weights' rows, a block of output channels each, then a block of
 * FC_WINOGRAD_PLANES_TILES tiles each. */
typedef struct {
    const fc_cntx *cx;
    const fc_conv_desc *d;
    const fc_view *x, *y;
    const FC_T *w, *bias;
    FC_T *ut;
    int64_t tiles;
    int *reroute;
} FC_FN(wgp_call);

static int FC_FN(winograd_planes_apply)(const fc_cntx *cx, const fc_view *x, const fc_view *y) {
    const int64_t nr = FC_UKERNEL(cx)->nr, tiles = FC_FN(winograd_tiles)(cx, x, y);
    return x->sw == 1 && y->sw == 1 && x->sc != 1 && y->sc != 1 &&
           8 * ((tiles + nr - 1) / nr * nr) <= 9 * tiles;
}

static void FC_FN(wgp_pack_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(wgp_call) *c = ctx;
    const int64_t o0 = t * CV_PW_ROWS, o1 = o0 + CV_PW_ROWS < c->y->c ? o0 + CV_PW_ROWS : c->y->c;
    FC_FN(winograd_pack_rows)(c->cx, c->x, c->y, c->w, o0, o1, c->ut);
}

static void FC_FN(wgp_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(wgp_call) *c = ctx;
    const int64_t t0 = t * FC_WINOGRAD_PLANES_TILES;
    const int64_t t1 =
        t0 + FC_WINOGRAD_PLANES_TILES < c->tiles ? t0 + FC_WINOGRAD_PLANES_TILES : c->tiles;
    if (__atomic_load_n(c->reroute, __ATOMIC_RELAXED)) return;
    if (FC_FN(winograd_planes_block)(c->cx, c->d, c->x, c->y, c->ut, c->bias, t0, t1, ws))
        __atomic_store_n(c->reroute, 1, __ATOMIC_RELAXED);
}

/* *reroute: a tile met Inf or NaN (the caller re-runs the call, see conv2d_run). */
static fc_status FC_FN(winograd_planes_run)(const fc_cntx *cx, const fc_conv_desc *d,
                                            const fc_view *x, const FC_T *w, const FC_T *bias,
                                            const fc_view *y, int threads, int *reroute) {
    FC_FN(wgp_call) c = {cx, d, x, y, w, bias, NULL, FC_FN(winograd_tiles)(cx, x, y), reroute};
    c.ut = fc_scratch(FC_SCRATCH_WEIGHTS, sizeof(FC_T) * (size_t)(16 * x->c * y->c));
    if (!c.ut) return FC_ERR_NOMEM;
    fc_parallel_job job = {.phases = 0};
    fc_job_add(&job, (y->c + CV_PW_ROWS - 1) / CV_PW_ROWS, FC_FN(wgp_pack_task), &c);
    fc_job_add(&job, (c.tiles + FC_WINOGRAD_PLANES_TILES - 1) / FC_WINOGRAD_PLANES_TILES,
               FC_FN(wgp_task), &c);
    job.ws_bytes = FC_FN(winograd_planes_workspace)(cx, x, y);
    if (fc_is_planar(y)) { /* written in full: mapped first where fresh (fc_parallel.h) */
        job.out = y->data;
        job.out_bytes = sizeof(FC_T) * (size_t)(y->n * y->c * y->h * y->w);
    }
    const fc_status status = fc_parallel_run(&job, threads);
    fc_scratch_release(FC_SCRATCH_WEIGHTS);
    return status;
}

static void FC_FN(igemm_pack_task)(const void *ctx, int64_t unit, void *ws) {
    const FC_FN(conv_call) *c = ctx;
    if (FC_FN(igemm_pack_weights)(c->cx, c->d, c->x, c->y, c->w, unit, c->wpack))
        __atomic_store_n(c->reroute, 1, __ATOMIC_RELAXED);
}

/* Task order: pixel blocks fastest, so a thread's consecutive tasks reuse the same weight
 * panels from L2. */
static void FC_FN(igemm_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(conv_call) *c = ctx;
    const int64_t groups = c->d->groups, chunks = c->chunks, npanel = c->npanel;
    const int64_t mb = t % c->mblocks, g = (t / c->mblocks) % groups;
    const int64_t ch = t / (c->mblocks * groups);
    const int64_t m0 = mb * FC_GEMM_MC, m1 = m0 + FC_GEMM_MC < c->m ? m0 + FC_GEMM_MC : c->m;
    if (__atomic_load_n(c->reroute, __ATOMIC_RELAXED)) return; /* a non-finite weight */
    if (FC_FN(igemm_conv_block)(c->cx, c->d, c->x, c->y, c->pack_own ? c->w : c->wpack, c->pack_own,
                                c->bias, c->y->data, m0, m1, g, ch * npanel / chunks,
                                (ch + 1) * npanel / chunks, ws))
        __atomic_store_n(c->reroute, 1, __ATOMIC_RELAXED);
}

static fc_status FC_FN(igemm_plan)(FC_FN(conv_call) * c, int threads, fc_parallel_job *job) {
    const fc_cntx *cx = c->cx;
    const fc_view *x = c->x, *y = c->y;
    const int64_t groups = c->d->groups;
    c->m = y->n * y->h * y->w;
    c->npanel = FC_FN(igemm_panels)(cx, c->d, x, y);
    c->mblocks = (c->m + FC_GEMM_MC - 1) / FC_GEMM_MC;
    /* Split the channel panels too when there are too few pixel blocks to balance. */
    c->chunks = (4 * threads + c->mblocks * groups - 1) / (c->mblocks * groups);
    if (c->chunks > c->npanel) c->chunks = c->npanel;
    if (c->chunks < 1) c->chunks = 1;
    /* Where one block of pixels takes every weight once, each task packs its share of them
     * itself into L2 (igemm_conv_block), instead of all of them first through memory. */
    c->pack_own =
        !(c->pk && c->pk->im2col) && c->mblocks == 1 && FC_FN(igemm_can_pack_own)(cx, c->d, x, y);
    if (c->pk && c->pk->im2col) { /* non-finite weights never get here (conv2d_run) */
        c->wpack = (FC_T *)c->pk->im2col;
    } else if (!c->pack_own) {
        c->wpack = fc_scratch(FC_SCRATCH_WEIGHTS,
                              sizeof(FC_T) * FC_FN(igemm_packed_weights_size)(cx, c->d, x, y));
        if (!c->wpack) return FC_ERR_NOMEM;
        fc_job_add(job, FC_FN(igemm_pack_units)(cx, c->d, x, y), FC_FN(igemm_pack_task), c);
    }
    fc_job_add(job, c->chunks * groups * c->mblocks, FC_FN(igemm_task), c);
    const int64_t own_panels = c->pack_own ? (c->npanel + c->chunks - 1) / c->chunks : 0;
    job->ws_bytes = FC_FN(igemm_workspace)(cx, c->d, x, y, FC_GEMM_MC, own_panels);
    return FC_OK;
}

/* Depthwise convolutions on NCHW planes (conv/depthwise_planes_tmpl.h), read and written
 * in place instead of transposed into NHWC and back: mbv1-dw-112 (112x112x32, 3x3) took
 * 3.0x its NHWC time with the transposes, 1.1x without.  A task is one plane of one
 * image.  Stride 1 only: at larger strides the rows are not vectors of adjacent inputs.
 * Rows of at least CV_PLANES_W outputs: narrower ones are mostly edge columns, one at a
 * time (1 thread, AVX-512, 3x3 f32: 56x56x128 0.38 ms against 0.97 transposed, 28x28x256
 * 0.32 against 0.37, 20x20x256 0.37 against 0.16, 7x7x1024 0.63 against 0.10). */
typedef struct {
    const fc_cntx *cx;
    const fc_conv_desc *d;
    const fc_view *x, *y;
    const FC_T *w, *bias;
} FC_FN(planes_call);

static int FC_FN(planes_apply)(const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    return d->groups == x->c && d->groups > 1 && d->win.stride_w == 1 && y->w >= CV_PLANES_W &&
           x->sw == 1 && y->sw == 1 && x->sc != 1 && y->sc != 1;
}

static void FC_FN(planes_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(planes_call) *c = ctx;
    FC_FN(depthwise_planes)(c->cx, c->d, c->x, c->w, c->bias, c->y, t / c->d->groups,
                            t % c->d->groups);
}

static fc_status FC_FN(planes_run)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                   const FC_T *w, const FC_T *bias, const fc_view *y, int threads) {
    const FC_FN(planes_call) c = {cx, d, x, y, w, bias};
    fc_parallel_job job = {.phases = 0};
    fc_job_add(&job, y->n * d->groups, FC_FN(planes_task), &c);
    return fc_parallel_run(&job, threads);
}

/* Narrow groups on NCHW planes (conv/grouped_planes_tmpl.h), in place, where the NHWC path
 * runs the grouped kernel (the same bits): resnext-3x3-56-g32 took 2.1x its NHWC time with
 * the transposes.  A task is one group of one image; stride 1 and rows of at least
 * CV_PLANES_W outputs, as for depthwise (the edge columns go one at a time). */
static int FC_FN(grouped_planes_apply)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                       const fc_view *y) {
    return y->w >= CV_PLANES_W && fc_grouped_planes_applies(d, x, y) &&
           FC_FN(direct_kernel)(cx, d, x, y) == DK_GROUPED;
}

static void FC_FN(grouped_planes_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(planes_call) *c = ctx;
    FC_FN(grouped_planes)(c->cx, c->d, c->x, c->w, c->bias, c->y, t / c->d->groups,
                          t % c->d->groups, ws);
}

static fc_status FC_FN(grouped_planes_run)(const fc_cntx *cx, const fc_conv_desc *d,
                                           const fc_view *x, const FC_T *w, const FC_T *bias,
                                           const fc_view *y, int threads) {
    const FC_FN(planes_call) c = {cx, d, x, y, w, bias};
    fc_parallel_job job = {.phases = 0};
    fc_job_add(&job, y->n * d->groups, FC_FN(grouped_planes_task), &c);
    job.ws_bytes = sizeof(FC_T) * (size_t)y->w; /* a row of bias */
    return fc_parallel_run(&job, threads);
}

/* A first layer (at most FC_FEWCH_MAX_C input channels) from NCHW planes into NCHW planes
 * (conv/fewin_planes_tmpl.h), instead of the direct kernels on NHWC copies: where those
 * are not the register-blocked one (output channels not whole vectors: the generic
 * kernel), or where the lanes its rows leave empty cost less than the NHWC path's layout
 * copies (fewin_planes_pays, with the measurements).  A task is a block of one image's output
 * rows (row_blocks).  Its zero padding is exact only with finite weights (0 * Inf is NaN),
 * so filters holding Inf or NaN go the other way. */
typedef struct {
    const fc_cntx *cx;
    const fc_conv_desc *d;
    const fc_view *x, *y;
    const FC_T *w, *bias;
    int64_t blocks; /* of output rows per image */
} FC_FN(fewin_call);

static void FC_FN(fewin_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(fewin_call) *c = ctx;
    const int64_t h = c->y->h, b = t % c->blocks;
    FC_FN(fewin_planes_rows)(c->cx, c->d, c->x, c->w, c->bias, c->y, t / c->blocks,
                             h * b / c->blocks, h * (b + 1) / c->blocks, ws);
}

/* Whether every weight is finite: v - v is 0 for finite v, NaN otherwise. */
static int FC_FN(all_finite)(const FC_T *w, int64_t count) {
    int nonfinite = 0;
    for (int64_t i = 0; i < count; i++) nonfinite |= w[i] - w[i] != 0;
    return !nonfinite;
}

static int FC_FN(fewin_apply)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                              const FC_T *w, const fc_view *y) {
    return fc_fewin_planes_applies(d, x, y) &&
           (!FC_FN(blocked_applies)(cx, d, y) || FC_FN(fewin_planes_pays)(cx, d, x, y)) &&
           FC_FN(all_finite)(w, d->win.k_h * d->win.k_w * x->c * y->c);
}

static fc_status FC_FN(fewin_run)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                  const FC_T *w, const FC_T *bias, const fc_view *y, int threads) {
    const FC_FN(fewin_call) c = {cx, d, x, y, w, bias, FC_FN(row_blocks)(y, threads)};
    fc_parallel_job job = {.phases = 0};
    fc_job_add(&job, y->n * c.blocks, FC_FN(fewin_task), &c);
    job.ws_bytes = FC_FN(fewin_planes_workspace)(cx, d, x, y);
    return fc_parallel_run(&job, threads);
}

/* 1x1 convolutions on NCHW planes (conv/pointwise_planes_tmpl.h), in place: a phase that
 * transposes the weights (blocks of CV_PW_ROWS output channels), then tasks of a run of
 * one image's pixels for one group, whole images on one thread.  On several, each (image,
 * group) unit is cut into runs of whole panels (NR pixels after the head ones before the
 * first panel read in place: pointwise_planes_head), their counts within one of each other,
 * so that the tasks are about four a thread and, where it can be, a multiple of the threads:
 * r50-1x1-56's 49 panels went as 7 runs of 7 to 2 threads, 28 panels on one and 21 on the
 * other (1.45x its NHWC time against 1.28x on one thread).  Neither changes any output's
 * summation order. */
typedef struct {
    const fc_cntx *cx;
    const fc_conv_desc *d;
    const fc_view *x, *y;
    const FC_T *w, *bias;
    FC_T *wt;
    int64_t head;         /* pixels before the first whole panel (pointwise_planes_head) */
    int64_t panels, runs; /* panels per image and group (the head one of them), and the tasks */
} FC_FN(pointwise_call);

/* Where panel k of an image's planes starts (a whole panel after the head, if any). */
static int64_t FC_FN(pointwise_bound)(const FC_FN(pointwise_call) * c, int64_t k) {
    const int64_t hw = c->y->h * c->y->w, nr = FC_UKERNEL(c->cx)->nr;
    const int64_t q = c->head > 0 ? (k > 0 ? c->head + (k - 1) * nr : 0) : k * nr;
    return q < hw ? q : hw;
}

static void FC_FN(pointwise_pack_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(pointwise_call) *c = ctx;
    const int64_t co0 = t * CV_PW_ROWS,
                  co1 = co0 + CV_PW_ROWS < c->y->c ? co0 + CV_PW_ROWS : c->y->c;
    FC_FN(pointwise_planes_pack)(c->cx, c->d, c->x, c->y, c->w, co0, co1, c->wt);
}

static void FC_FN(pointwise_task)(const void *ctx, int64_t t, void *ws) {
    const FC_FN(pointwise_call) *c = ctx;
    const int64_t groups = c->d->groups;
    const int64_t n = t / (groups * c->runs), g = t / c->runs % groups, r = t % c->runs;
    FC_FN(pointwise_planes)(c->cx, c->d, c->x, c->y, c->wt, c->bias, n, g,
                            FC_FN(pointwise_bound)(c, r * c->panels / c->runs),
                            FC_FN(pointwise_bound)(c, (r + 1) * c->panels / c->runs), ws);
}

static fc_status FC_FN(pointwise_run)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                      const FC_T *w, const FC_T *bias, const fc_view *y,
                                      int threads) {
    const int64_t nr = FC_UKERNEL(cx)->nr, units = y->n * d->groups; /* (image, group) pairs */
    const int64_t hw = y->h * y->w, head = FC_FN(pointwise_planes_head)(cx, d, x, y);
    FC_FN(pointwise_call) c = {cx, d, x, y, w, bias, NULL, head > 0 ? head : 0, 0, 1};
    c.panels = c.head > 0 ? 1 + (hw - c.head + nr - 1) / nr : (hw + nr - 1) / nr;
    if (threads > 1 && units < 4 * threads) {
        c.runs = (4 * threads + units - 1) / units;
        while ((units * c.runs) % threads != 0 && c.runs < c.panels) c.runs++;
        if (c.runs > c.panels) c.runs = c.panels;
    }
    c.wt = fc_scratch(FC_SCRATCH_WEIGHTS, sizeof(FC_T) * (size_t)(y->c * (x->c / d->groups)));
    if (!c.wt) return FC_ERR_NOMEM;
    fc_parallel_job job = {.phases = 0};
    fc_job_add(&job, (y->c + CV_PW_ROWS - 1) / CV_PW_ROWS, FC_FN(pointwise_pack_task), &c);
    fc_job_add(&job, units * c.runs, FC_FN(pointwise_task), &c);
    job.ws_bytes = FC_FN(pointwise_planes_workspace)(cx, d, x, y);
    const fc_status status = fc_parallel_run(&job, threads);
    fc_scratch_release(FC_SCRATCH_WEIGHTS);
    return status;
}

/* Layouts once, then the algorithm, as one parallel job: an input without contiguous
 * channels (NCHW, other views) is copied into a dense NHWC workspace first, an output that
 * is not dense NHWC is written to one and copied out last.
 *
 * Non-finite values: every algorithm must give what the direct kernels give, padding taps
 * skipped and Inf / NaN propagated by IEEE arithmetic over the real taps
 * (docs/non-finite.md).  Two cannot on their own, and re-run the call another way:
 * - im2col multiplies padding as a zero row: with an Inf or NaN weight, 0 * Inf = NaN
 *   where nothing should be added.  Its weight packing (which reads every weight anyway)
 *   reports one, the GEMM tasks then return at once, and the call runs the direct kernel.
 * - Winograd's transforms mix a tile's 16 inputs, so one Inf becomes Inf - Inf = NaN for
 *   the tile's other pixels, and inputs above about max/4 overflow where the direct sum
 *   does not.  Any such value reaches the output (the transforms and GEMMs are sums and
 *   products: Inf and NaN never vanish), so a tile that produces Inf or NaN makes the
 *   call run the GEMM instead (and the GEMM, in turn, the direct kernel if a weight is
 *   the cause).
 * Normal data pays one vectorized subtraction per weight (im2col) or output (Winograd).
 * Weights packed before the call (pk, for cx's ISA, or NULL) replace the packing phases;
 * where their packing found an Inf or NaN weight, a GEMM call goes straight to the direct
 * kernel (what the packing phase's report would have led to).
 * Whether a call is re-run depends on the data only, never on the threads, so results stay
 * bit-identical for any thread count. */
static fc_status FC_FN(conv2d_run)(const fc_cntx *cx, const fc_conv_desc *d, fc_algorithm algo,
                                   const fc_conv_packed *pk, const fc_view *x_in, const FC_T *w,
                                   const FC_T *bias, const fc_view *y_out) {
    const double flops = 2.0 * (double)(y_out->n * y_out->h * y_out->w * y_out->c) *
                         (double)d->win.k_h * (double)d->win.k_w * (double)(x_in->c / d->groups);
    const int threads = fc_threads_for(flops);
    /* The image filter reads and writes any strides (the planes of NCHW in place: kitten-rgb
     * 3x3/3 spent 60% of its NCHW time converting); the other kernels want dense NHWC. */
    if (algo == FC_ALGO_DIRECT && FC_FN(planes_apply)(d, x_in, y_out))
        return FC_FN(planes_run)(cx, d, x_in, w, bias, y_out, threads);
    if (algo == FC_ALGO_DIRECT && FC_FN(grouped_planes_apply)(cx, d, x_in, y_out))
        return FC_FN(grouped_planes_run)(cx, d, x_in, w, bias, y_out, threads);
    if (algo == FC_ALGO_DIRECT && FC_FN(fewin_apply)(cx, d, x_in, w, y_out))
        return FC_FN(fewin_run)(cx, d, x_in, w, bias, y_out, threads);
    /* Where the register-blocked kernel is the direct one, the GEMM, it and the 1x1 kernel on
     * planes give every output the same bits (the GEMM re-runs as it on a non-finite weight);
     * the other direct kernels sum in other ways (no FMA in the generic one). */
    if ((algo == FC_ALGO_DIRECT || algo == FC_ALGO_IM2COL) &&
        fc_pointwise_planes_applies(d, x_in, y_out) &&
        FC_FN(direct_kernel)(cx, d, x_in, y_out) == DK_BLOCKED)
        return FC_FN(pointwise_run)(cx, d, x_in, w, bias, y_out, threads);
    if (algo == FC_ALGO_WINOGRAD && FC_FN(winograd_planes_apply)(cx, x_in, y_out)) {
        int reroute = 0;
        const fc_status st =
            FC_FN(winograd_planes_run)(cx, d, x_in, w, bias, y_out, threads, &reroute);
        if (st != FC_OK || !reroute) return st;
        algo = FC_ALGO_IM2COL; /* Inf or NaN met: the GEMM instead, as below */
    }
    const int any_layout = algo == FC_ALGO_DIRECT && fc_image_filter_applies(d, x_in, y_out);
    const int copy_in = !any_layout && x_in->sc != 1;
    const int copy_out = !any_layout && !fc_is_dense(y_out);
    const size_t in_bytes = sizeof(FC_T) * (size_t)(x_in->n * x_in->h * x_in->w * x_in->c);
    const size_t out_bytes = sizeof(FC_T) * (size_t)(y_out->n * y_out->h * y_out->w * y_out->c);
    FC_T *xd = copy_in ? fc_scratch(FC_SCRATCH_INPUT, in_bytes) : x_in->data;
    FC_T *yd = copy_out ? fc_scratch(FC_SCRATCH_OUTPUT, out_bytes) : y_out->data;
    const fc_view x = copy_in ? FC_FN(dense_like)(x_in, xd) : *x_in;
    const fc_view y = copy_out ? FC_FN(dense_like)(y_out, yd) : *y_out;
    fc_status status = FC_ERR_NOMEM;
    for (int first = 1; xd && yd; first = 0) {
        fc_parallel_job job = {.phases = 0};
        FC_FN(copy_job) in, out;
        int reroute = 0;
        if (algo == FC_ALGO_IM2COL && pk && pk->im2col && pk->im2col_nonfinite)
            algo = FC_ALGO_DIRECT;
        if (copy_in && first) FC_FN(copy_add)(cx, &job, x_in, &x, &in); /* kept for a re-run */
        /* The direct tasks transpose their own rows into an NCHW output while the rows are
         * in cache, instead of a pass over the whole output at the end: lenet-c1 in NCHW
         * 1.84 ms -> 1.38 (NHWC 1.0; 1 thread, thread CPU time). */
        const int fused = copy_out && algo == FC_ALGO_DIRECT && fc_is_planar(y_out);
        FC_FN(conv_call)
        call = {.cx = cx,
                .d = d,
                .x = &x,
                .y = &y,
                .w = w,
                .bias = bias,
                .pk = pk,
                .reroute = &reroute,
                .planes_out = fused ? y_out : NULL};
        switch (algo) {
        case FC_ALGO_DIRECT: status = FC_FN(direct_plan)(&call, threads, &job); break;
        case FC_ALGO_WINOGRAD: status = FC_FN(winograd_plan)(&call, threads, &job); break;
        default: status = FC_FN(igemm_plan)(&call, threads, &job); break;
        }
        if (copy_out && !fused) FC_FN(copy_add)(cx, &job, &y, y_out, &out);
        if (!copy_out) { /* written in full: mapped first where fresh (fc_parallel.h) */
            job.out = yd;
            job.out_bytes = out_bytes;
        }
        if (status == FC_OK) status = fc_parallel_run(&job, threads);
        /* The job's phases are ordered (fc_parallel.h), so every task's flag is seen here. */
        if (status != FC_OK || !reroute) break;
        algo = algo == FC_ALGO_WINOGRAD ? FC_ALGO_IM2COL : FC_ALGO_DIRECT;
    }
    fc_scratch_release(FC_SCRATCH_WEIGHTS);
    fc_scratch_release(FC_SCRATCH_INPUT);
    fc_scratch_release(FC_SCRATCH_OUTPUT);
    return status;
}

/* A view that carries only a channel count: all the weight packing reads of x and y. */
static fc_view FC_FN(channels_view)(int64_t c) {
    const fc_view v = {NULL, 0, 0, 0, c, 0, 0, 0, 1};
    return v;
}

/* Elements of `algo`'s packed weights (0: it reads the filters as they are).  Of the direct
 * kernels only the grouped one packs (direct_plan); whether it runs depends on the channels
 * only.  The caller has checked that the algorithm can run (Winograd's shape). */
static size_t FC_FN(conv2d_packed_elems)(const fc_cntx *cx, const fc_conv_desc *d,
                                         fc_algorithm algo, int64_t c_in, int64_t c_out) {
    const fc_view x = FC_FN(channels_view)(c_in), y = FC_FN(channels_view)(c_out);
    switch (algo) {
    case FC_ALGO_IM2COL: return FC_FN(igemm_packed_weights_size)(cx, d, &x, &y);
    case FC_ALGO_WINOGRAD: return FC_FN(winograd_packed_weights_size)(cx, &x, &y);
    case FC_ALGO_DIRECT:
        return FC_FN(grouped_applies)(cx, d, &x, &y)
                   ? (size_t)(d->win.k_h * d->win.k_w * (c_out / d->groups) * c_out)
                   : 0;
    default: return 0;
    }
}

/* What each plan's packing phase writes, done once and serially (the same functions, so the
 * same bits); returns whether a weight is Inf or NaN (im2col's report). */
static int FC_FN(conv2d_pack)(const fc_cntx *cx, const fc_conv_desc *d, fc_algorithm algo,
                              int64_t c_in, int64_t c_out, const FC_T *w, FC_T *packed) {
    const fc_view x = FC_FN(channels_view)(c_in), y = FC_FN(channels_view)(c_out);
    int nonfinite = 0;
    if (algo == FC_ALGO_IM2COL) {
        const int64_t units = FC_FN(igemm_pack_units)(cx, d, &x, &y);
        for (int64_t u = 0; u < units; u++)
            nonfinite |= FC_FN(igemm_pack_weights)(cx, d, &x, &y, w, u, packed);
    } else if (algo == FC_ALGO_WINOGRAD) {
        FC_FN(winograd_pack_weights)(cx, &x, &y, w, 0, c_in, packed);
    } else {
        for (int64_t t = 0; t < d->win.k_h * d->win.k_w; t++)
            FC_FN(grouped_pack)(cx, d, &y, w, t, packed);
    }
    return nonfinite;
}
