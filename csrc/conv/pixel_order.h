/* The order in which the indirect GEMM (igemm_tmpl.h) visits an image's output pixels:
 * grouped so that a tile's MR pixels share their padding taps, which the macro-kernel then
 * skips (gemm/gemm_tmpl.h: any tap whose MR row pointers all point at the zero row).
 *
 * Row-major order shares the vertical padding taps (a tile in the top rows skips the window
 * rows above the image) but not the horizontal ones: a tile of 6 pixels along a row holds at
 * most one or two edge columns.  So the rows whose vertical taps are all inside the image
 * visit each edge column on its own, top to bottom, before and after their interior pixels:
 *
 *     top rows (row-major) | left edge columns, one at a time | interior (row-major)
 *     | right edge columns, one at a time | bottom rows (row-major)
 *
 * A tile down an edge column skips that column's padding taps at every window row, and its
 * rows are equally spaced in the output (one output row apart).  AlexNet's 27x27 5x5 SAME
 * layer has 4.4% of its taps in the left and right padding (3.93 -> 3.80 ms, 1 thread, AMD
 * Zen 4), a 14x14 5x5 one (lenet-c2) 8.6%, a 14x14 3x3 one 4.8%.
 *
 * Only where there are at most PO_MAX_EDGE_COLS edge columns (a wide window over a small
 * image has mostly edges) and an edge column fills a tile: otherwise row-major.  On a 7x7
 * image (5 rows between the top and bottom ones) the tiles would mix edge and interior
 * pixels, which share no padding tap, and r50-3x3-7 ran 2.6% slower: its interior rows
 * straddle tiles, which then go through a local tile.  Without padding the order is
 * row-major (po->row_major), the GEMM's plain order. */
#ifndef FC_PIXEL_ORDER_H
#define FC_PIXEL_ORDER_H

#include "fc_internal.h"

#define PO_MAX_EDGE_COLS 8

/* Rows [y0, y1) x columns [x0, x1) of an image, visited row-major. */
typedef struct {
    int64_t y0, y1, x0, x1;
} po_rect;

typedef struct {
    int64_t h, w; /* output image */
    int nrect, row_major;
    po_rect rect[3 + PO_MAX_EDGE_COLS];
} po_order;

/* A position in the order: image n, rectangle k, pixel (oy, ox). */
typedef struct {
    int64_t n, k, oy, ox;
} po_walk;

static inline void po_add(po_order *po, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
    if (y1 > y0 && x1 > x0) po->rect[po->nrect++] = (po_rect){y0, y1, x0, x1};
}

/* The order for tiles of mr pixels. */
static inline po_order po_make(const fc_window *win, const fc_view *x, const fc_view *y,
                               int64_t mr) {
    po_order po = {.h = y->h, .w = y->w, .nrect = 0};
    int64_t r0, r1, c0, c1; /* interior rows and columns (fc_interior_range) */
    fc_interior_range(win->pad_top, win->k_h, win->dil_h, win->stride_h, x->h, y->h, &r0, &r1);
    fc_interior_cols(win, x->w, y->w, &c0, &c1);
    const int64_t edges = c0 + (y->w - c1);
    po.row_major = edges == 0 || edges > PO_MAX_EDGE_COLS || r1 - r0 < mr || c0 == c1;
    if (po.row_major) {
        po_add(&po, 0, y->h, 0, y->w);
        return po;
    }
    po_add(&po, 0, r0, 0, y->w);
    for (int64_t c = 0; c < c0; c++) po_add(&po, r0, r1, c, c + 1);
    po_add(&po, r0, r1, c0, c1);
    for (int64_t c = c1; c < y->w; c++) po_add(&po, r0, r1, c, c + 1);
    po_add(&po, r1, y->h, 0, y->w);
    return po;
}

/* Pixel m of the batch in this order. */
static inline po_walk po_start(const po_order *po, int64_t m) {
    po_walk p = {.n = m / (po->h * po->w), .k = 0};
    int64_t q = m % (po->h * po->w);
    for (;;) {
        const po_rect *r = &po->rect[p.k];
        const int64_t size = (r->y1 - r->y0) * (r->x1 - r->x0);
        if (q < size) {
            p.oy = r->y0 + q / (r->x1 - r->x0);
            p.ox = r->x0 + q % (r->x1 - r->x0);
            return p;
        }
        q -= size;
        p.k++;
    }
}

static inline void po_next(const po_order *po, po_walk *p) {
    const po_rect *r = &po->rect[p->k];
    if (++p->ox < r->x1) return;
    p->ox = r->x0;
    if (++p->oy < r->y1) return;
    if (++p->k == po->nrect) {
        p->k = 0;
        p->n++;
    }
    p->oy = po->rect[p->k].y0;
    p->ox = po->rect[p->k].x0;
}

#endif
