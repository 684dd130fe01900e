/* Pooling (csrc/pool/pool_tmpl.h): the call as the kernels see it and their entry point. */
#ifndef FC_POOL_H
#define FC_POOL_H

#include "fc_internal.h"

/* One pooling call as its kernels see it (filled once per call by operators/pool2d_tmpl.h;
 * pool/pool_tmpl.h describes the kernel and its buffer).  width: planes are single channels
 * with contiguous rows (NCHW), else whole images with contiguous channels (NHWC).
 * col_cells[ox] and row_cells[oy], as FC_T: the average's divisor for a window is their
 * product (the real input columns and rows under it, unless the caller gave divisors).  Channels mode works on block_cols output columns at a
 * time; width mode on batch_rows output rows, `pitch` windows apart in the buffer, and
 * with `flat` on all of a batch's windows in one pass (divs: every window's divisor, pitch
 * per output row, for averages); row_len: the cells between a batch's rows in the buffer
 * (pitch * stride_w when flat).  slack: cells the buffer keeps past its last window. */
typedef struct {
    fc_pool_kind kind;
    const fc_window *win;
    const fc_view *x, *y;
    int width, flat;
    const void *col_cells, *row_cells, *divs;
    int64_t block_cols, batch_rows, pitch, row_len, slack;
    int64_t prefetch; /* how far ahead of its loads the vertical pass prefetches */
    int prefetch_l2;  /* whether into L2 only (the lines are used too late for L1) */
    /* Channels mode with contiguous output pixels: write the output with non-temporal
     * stores (the horizontal pass into the buffer's staging area, then a copy). */
    int nt;
} fc_pool_job;

/* The entry point, per dtype, forwarding to the call context's ISA. */
#define FC_DECLARE_POOL(T, SFX)                                                                    \
    void FC_CAT(pool_rows, SFX)(const fc_cntx *cx, const fc_pool_job *j, int64_t plane,            \
                                int64_t oy0, int64_t oy1, T *buf);
FC_DECLARE_POOL(float, f32)
FC_DECLARE_POOL(double, f64)

#endif
