/* The pixel blocks of the register-blocked direct kernels (blocked_tmpl.h, grouped_tmpl.h):
 * output pixels grouped so that every pixel of a block has the same valid taps, which lets a
 * kernel skip padding taps (no padded copy; padding contributes nothing) and still keep
 * several pixels in registers.  A block is a run of a row's interior pixels (all taps along
 * the row valid), or of an edge column's pixels over consecutive rows whose vertical taps
 * agree; its pixels are equally spaced in the input and in the output. */
#ifndef FC_PIXEL_BLOCKS_H
#define FC_PIXEL_BLOCKS_H

#include "fc_internal.h"

/* One block: np pixels from output (oy, ox), along the row or down the column, with taps
 * [ky0, ky1) x [kx0, kx1). */
typedef struct {
    int64_t oy, ox;
    int along_row, np;
    int64_t ky0, ky1, kx0, kx1;
} fc_pixel_block;

/* Input and output offsets (in elements) of a block's first pixel at tap (0, 0) and between
 * its pixels, for views x and y (the first may lie in the padding: add tap offsets first). */
static inline void fc_block_offsets(const fc_window *win, const fc_view *x, const fc_view *y,
                                    const fc_pixel_block *b, int64_t *xoff, int64_t *xstep,
                                    int64_t *yoff, int64_t *ystep) {
    *xoff = (b->oy * win->stride_h - win->pad_top) * x->sh +
            (b->ox * win->stride_w - win->pad_left) * x->sw;
    *xstep = b->along_row ? win->stride_w * x->sw : win->stride_h * x->sh;
    *yoff = b->oy * y->sh + b->ox * y->sw;
    *ystep = b->along_row ? y->sw : y->sh;
}

/* Calls visit(ctx, block) for blocks of at most max_np pixels covering output rows
 * [r0, r1): each row's interior pixels, then the edge columns' runs of rows. */
static inline void fc_visit_pixel_blocks(const fc_window *win, const fc_view *x, const fc_view *y,
                                         int64_t r0, int64_t r1, int max_np,
                                         void (*visit)(void *, const fc_pixel_block *), void *ctx) {
    int64_t lo, hi;
    fc_interior_cols(win, x->w, y->w, &lo, &hi);
    /* A row's interior in blocks of equal size (within one pixel), not full blocks and a
     * short tail: a block of one pixel keeps few accumulator chains in flight, and AlexNet's
     * 55 columns were 9 blocks of 6 and 1 of 1. */
    const int64_t run = hi > lo ? hi - lo : 0, blocks = (run + max_np - 1) / max_np;
    fc_pixel_block b;
    for (int64_t oy = r0; oy < r1; oy++) {
        int64_t ky0, ky1;
        fc_valid_taps(oy, win->stride_h, win->pad_top, win->dil_h, win->k_h, x->h, &ky0, &ky1);
        for (int64_t i = 0; i < blocks; i++) {
            const int64_t ox = lo + run * i / blocks, end = lo + run * (i + 1) / blocks;
            b = (fc_pixel_block){oy, ox, 1, (int)(end - ox), ky0, ky1, 0, win->k_w};
            visit(ctx, &b);
        }
    }
    for (int64_t ox = lo > 0 ? 0 : hi; ox < y->w; ox = ox + 1 == lo ? hi : ox + 1) {
        int64_t kx0, kx1;
        fc_valid_taps(ox, win->stride_w, win->pad_left, win->dil_w, win->k_w, x->w, &kx0, &kx1);
        for (int64_t oy = r0; oy < r1;) {
            int64_t ky0, ky1, a, c;
            fc_valid_taps(oy, win->stride_h, win->pad_top, win->dil_h, win->k_h, x->h, &ky0, &ky1);
            int np = 1;
            while (np < max_np && oy + np < r1) {
                fc_valid_taps(oy + np, win->stride_h, win->pad_top, win->dil_h, win->k_h, x->h, &a,
                              &c);
                if (a != ky0 || c != ky1) break;
                np++;
            }
            b = (fc_pixel_block){oy, ox, 0, np, ky0, ky1, kx0, kx1};
            visit(ctx, &b);
            oy += np;
        }
    }
}

#endif
