/* 1x1 convolutions on NCHW planes (template: FC_T, FC_SFX).
 *
 * For image n and group g, a 1x1 convolution of planes is the GEMM
 *     Y[out channel][pixel] = W^T[out channel][C/g] * X[C/g][pixel],
 * so it runs on the GEMM's micro-kernels with the output channels as rows (each row of A one
 * output channel's weights, transposed once per call) and the pixels as columns, in the
 * vector lanes, C the output planes themselves (ldc: a plane).  Nothing is transposed, where
 * the NHWC kernels need the whole input transposed in and the output back (r50-1x1-56 in
 * NCHW took 1.82x its NHWC time that way, mbv1-pw-56 1.80x).
 *
 * B is the input planes, read in place by a micro-kernel that steps a plane per row of B
 * (pointwise_ukernel_tmpl.h): a copy of NR pixels of every plane into a packed panel, which
 * the GEMM's own micro-kernel needs, read r50-1x1-56's 3.2 MB input from L3 at the ~20 GB/s
 * one core draws, a fifth of the call (1.28-1.30x its NHWC time on 1 thread; 1.11-1.17x
 * read in place).  The reduction runs as taps of NR channels, so that the micro-kernel's
 * prefetch of the next tile's rows, spread over its k loop, fetches the next panel's pixels
 * of one plane per pointer (without it, 1.20-1.22x).  Panels start on cache lines: a vector
 * load split over two lines made the call 1.50x at NumPy's usual 16-byte alignment; the
 * pixels before the first such panel (the head, the same for every plane when a plane is
 * whole lines), the partial panel at the end and planes that are not whole lines (14 x 14,
 * 7 x 7) go through a copied panel as before.  Measured without gain on the copied panels
 * (Xeon AVX-512, 1 thread, min of 300 calls): prefetching the next panel (the copy got
 * cheaper by what the GEMM, whose 64 KiB B panel streams from L2, got slower), copying
 * longer runs per plane, the reduction in blocks kept in L1 with C reloaded (1.43x), AVX-512
 * copies, copying the next panel piece by piece between the tiles.
 *
 * Every output value is what the NHWC kernels give (the GEMM and the direct kernels
 * alike): zero, then the input channels' products added in order, fused where the ISA
 * has FMAs (x * w and w * x round alike), then bias and activation. */
#include "fc_epilogue_tmpl.h"

/* Rows of the indirection buffer: the group's output channels, whole row panels. */
static int64_t FC_FN(pw_rows)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *y) {
    const int64_t mr = FC_UKERNEL(cx)->mr, og = y->c / d->groups;
    return (og + mr - 1) / mr * mr;
}

/* The in-channels of a group are the rows of the HWIO filter, whichever group an output
 * channel is in: wt, [out_C][C/g], is the [C/g][out_C] filter transposed.  In register
 * tiles (operators/transpose_tmpl.h): element by element, the read down each column of
 * r50-1x1-56's 64 KiB filter missed L1 on every value: 1.7% of the call. */
void FC_FN(pointwise_planes_pack)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                  const fc_view *y, const FC_T *w, int64_t co0, int64_t co1,
                                  FC_T *wt) {
    const int64_t cg = x->c / d->groups;
    FC_FN(transpose)(cx, w + co0, y->c, wt + co0 * cg, cg, 0, cg, co1 - co0);
}

/* The reduction as taps of kc channels: NR where NR divides C/g, so that the micro-kernel's
 * prefetch of "the next tile's rows" (kc values from each of MR pointers per tap, spread over
 * its k loop) fetches the next panel's NR pixels of one plane per pointer; else one tap. */
static int64_t FC_FN(pw_kc)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x) {
    const int64_t nr = FC_UKERNEL(cx)->nr, cg = x->c / d->groups;
    return cg % nr == 0 ? nr : cg;
}

/* The workspace, in this order: the copy path's indirection buffer (rows' pointers); the
 * in-place path's, [row panel][tap][MR] (the last panel the group's last MR rows), and its
 * prefetch pointers (the same shape); a zero row; a B panel [C/g][NR]; one output channel's
 * bias over NR pixels. */
typedef struct {
    const FC_T **ind, **tind, **pf;
    FC_T *zero, *bp, *brow;
} FC_FN(pw_ws);

static FC_FN(pw_ws) FC_FN(pw_layout)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                     const fc_view *y, void *ws, size_t *bytes) {
    const int64_t cg = x->c / d->groups, nr = FC_UKERNEL(cx)->nr, rows = FC_FN(pw_rows)(cx, d, y);
    const size_t slots = (size_t)(rows * (cg / FC_FN(pw_kc)(cx, d, x)));
    char *p = ws;
    FC_FN(pw_ws) w;
    w.ind = (const FC_T **)p;
    p += fc_align_up(sizeof(FC_T *) * (size_t)rows);
    w.tind = (const FC_T **)p;
    p += fc_align_up(sizeof(FC_T *) * slots);
    w.pf = (const FC_T **)p;
    p += fc_align_up(sizeof(FC_T *) * slots);
    w.zero = (FC_T *)p;
    p += fc_align_up(sizeof(FC_T) * (size_t)cg);
    w.bp = (FC_T *)p;
    p += fc_align_up(sizeof(FC_T) * (size_t)(cg * nr));
    w.brow = (FC_T *)p;
    p += sizeof(FC_T) * (size_t)nr;
    *bytes = (size_t)(p - (char *)ws);
    return w;
}

size_t FC_FN(pointwise_planes_workspace)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                         const fc_view *y) {
    size_t bytes;
    FC_FN(pw_layout)(cx, d, x, y, NULL, &bytes);
    return bytes;
}

/* Where B is read in place (pointwise_planes): the pixels of each plane before the first
 * panel whose vectors start on a cache line (or on a vector, where one is smaller), the same
 * for every plane of every image; -1 where it is not read in place (planes that do not all
 * share one alignment, fewer output channels than a row panel). */
int64_t FC_FN(pointwise_planes_head)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                     const fc_view *y) {
    const FC_FN(fc_ukernel) *uk = FC_UKERNEL(cx), *ip = FC_FN(pw_ukernel)(cx->isa);
    const int64_t nr = uk->nr, bytes = (int64_t)sizeof(FC_T),
                  align = nr * bytes < 64 ? nr * bytes : 64;
    const int64_t at = (int64_t)((uintptr_t)x->data % (uintptr_t)align);
    if (x->sc != y->sc || y->c / d->groups < uk->mr || ip->mr != uk->mr || ip->nr != nr ||
        x->sc * bytes % align != 0 || at % bytes != 0)
        return -1;
    return (align - at) % align / bytes;
}

/* Pixels [q, q + len) of every plane, len <= NR, through the GEMM's own micro-kernel: copied
 * into a B panel (zero past len). */
static void FC_FN(pw_copied)(const FC_FN(fc_ukernel) * uk, const FC_FN(pw_ws) * w, int64_t cg,
                             int64_t og, const FC_T *xg, int64_t sc, FC_T *yg, int64_t ldc,
                             int64_t q, int64_t len) {
    const int64_t nr = uk->nr;
    for (int64_t c = 0; c < cg; c++) {
        const FC_T *src = xg + c * sc + q;
        FC_T *dst = w->bp + c * nr;
        for (int64_t j = 0; j < len; j++) dst[j] = src[j];
        for (int64_t j = len; j < nr; j++) dst[j] = 0;
    }
    FC_FN(gemm_macro)(uk, og, len, 1, cg, w->ind, 0, w->bp, cg * nr, yg + q, ldc, NULL, 0, 1, NULL,
                      FC_ACT_NONE, 0, NULL);
}

/* Bias and activation on pixels [q, q + len) of the group's output planes, right after the
 * panel's GEMM, while they are in cache. */
static void FC_FN(pw_finish)(const FC_FN(pw_ws) * w, const fc_conv_desc *d, const FC_T *bias,
                             int64_t og, FC_T *yg, int64_t ldc, int64_t q, int64_t len) {
    if (!bias && d->activation == FC_ACT_NONE) return;
    for (int64_t co = 0; co < og; co++) {
        FC_T *row = yg + co * ldc + q;
        if (bias)
            for (int64_t j = 0; j < len; j++) w->brow[j] = bias[co];
        FC_FN(epilogue_store)(row, len, bias ? w->brow : NULL, d->activation, row, 1);
    }
}

void FC_FN(pointwise_planes)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                             const fc_view *y, const FC_T *wt, const FC_T *bias, int64_t n,
                             int64_t g, int64_t q0, int64_t q1, void *ws) {
    const FC_FN(fc_ukernel) *uk = FC_UKERNEL(cx), *ip = FC_FN(pw_ukernel)(cx->isa);
    const int64_t mr = uk->mr, nr = uk->nr, cg = x->c / d->groups, og = y->c / d->groups;
    const int64_t rows = FC_FN(pw_rows)(cx, d, y), kc = FC_FN(pw_kc)(cx, d, x), taps = cg / kc;
    const int64_t ldc = y->sc;
    size_t bytes;
    const FC_FN(pw_ws) w = FC_FN(pw_layout)(cx, d, x, y, ws, &bytes);
    for (int64_t c = 0; c < cg; c++) w.zero[c] = 0;
    for (int64_t r = 0; r < rows; r++) w.ind[r] = r < og ? wt + (g * og + r) * cg : w.zero;
    const FC_T *xg = (const FC_T *)x->data + n * x->sn + g * cg * x->sc;
    FC_T *yg = (FC_T *)y->data + n * y->sn + g * og * y->sc;
    /* B in place: rows of B a plane apart as those of C, whole row panels (the last one the
     * group's last MR rows, recomputed with the same bits where it overlaps the one before),
     * panels whose vectors start on cache lines (a load split over two lines cost r50-1x1-56
     * 1.50x its NHWC time at NumPy's 16-byte alignment, against 1.12x on 64-byte lines).
     * Runs start at the head or on a panel after it (pointwise_run). */
    const int64_t head = FC_FN(pointwise_planes_head)(cx, d, x, y);
    const int64_t qa = head < 0 ? q1 : q0 < head && head < q1 ? head : q0 < head ? q1 : q0;
    const FC_T *bg = bias ? bias + g * og : NULL;
    for (int64_t q = q0; q < qa; q += nr) { /* the run's head, before the first aligned panel */
        const int64_t len = qa - q < nr ? qa - q : nr;
        FC_FN(pw_copied)(uk, &w, cg, og, xg, x->sc, yg, ldc, q, len);
        FC_FN(pw_finish)(&w, d, bg, og, yg, ldc, q, len);
    }
    const int64_t tiles = rows / mr, whole = qa + (q1 - qa) / nr * nr; /* in place up to whole */
    for (int64_t p = 0; p < tiles && qa < whole; p++)
        for (int64_t r = 0; r < mr; r++) {
            const int64_t row = p * mr + mr <= og ? p * mr + r : og - mr + r;
            for (int64_t t = 0; t < taps; t++)
                w.tind[(p * taps + t) * mr + r] = wt + (g * og + row) * cg + t * kc;
        }
    for (int64_t q = qa; q < whole; q += nr) {
        /* the next panel's pixels (the tail's too, copied) of one plane per prefetch pointer;
         * the zero row past the planes and after the run */
        for (int64_t s = 0; s < tiles * taps * mr && kc == nr; s++)
            w.pf[s] = s < cg && q + nr < q1 ? xg + s * x->sc + q + nr : w.zero;
        for (int64_t p = 0; p < tiles; p++) {
            const int64_t i = p * mr + mr <= og ? p * mr : og - mr;
            ip->run(taps, kc, w.tind + p * taps * mr, kc == nr ? w.pf + p * taps * mr : NULL, 0,
                    xg + q, yg + i * ldc + q, ldc, 0, NULL, FC_ACT_NONE);
        }
        FC_FN(pw_finish)(&w, d, bg, og, yg, ldc, q, nr);
    }
    if (whole < q1) {
        FC_FN(pw_copied)(uk, &w, cg, og, xg, x->sc, yg, ldc, whole, q1 - whole);
        FC_FN(pw_finish)(&w, d, bg, og, yg, ldc, whole, q1 - whole);
    }
}
