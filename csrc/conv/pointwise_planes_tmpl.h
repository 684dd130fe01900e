/* 1x1 convolutions on NCHW planes (template: FC_T, FC_SFX).
 *
 * For image n and group g, a 1x1 convolution of planes is the GEMM
 *     Y[out channel][pixel] = W^T[out channel][C/g] * X[C/g][pixel],
 * so it runs on the GEMM engine with the output channels as its rows (each row of A one
 * output channel's weights, transposed once per call) and the pixels as its columns, in
 * the vector lanes: B panels are NR pixels of every input plane, copied from contiguous
 * runs, and C is the output planes themselves (ldc: a plane).  Nothing is transposed,
 * where the NHWC kernels need the whole input transposed in and the output back
 * (r50-1x1-56 in NCHW took 1.82x its NHWC time that way, mbv1-pw-56 1.80x).
 *
 * What is left is the B panel copy, about a fifth of r50-1x1-56's call (1.28-1.30x its NHWC
 * time on 1 thread): it reads each input value once, 3.2 MB from L3 at the ~20 GB/s one core
 * draws (a plain sequential copy is no faster), where the NHWC GEMM reads its rows in place
 * under the FMAs.  Measured without gain (Xeon AVX-512, 1 thread, min of 300 calls): the
 * next panel's pixels prefetched through the micro-kernel's next-tile prefetch (with the
 * reduction as taps of NR channels, same bits: the copy got cheaper by what the
 * micro-kernel, whose 64 KiB B panel streams from L2, got slower), blocks of 2-16 panels
 * per copy (each plane read in longer runs), the reduction in blocks kept in L1 with C
 * reloaded (1.43x at 128 channels, 1.60x at 64), AVX-512 copies, and copying the next
 * panel piece by piece between the tiles.  A micro-kernel reading B rows in place at the
 * planes' stride (a copy of the GEMM's with that one change) gave 1.22x on 64-byte aligned
 * planes but 1.50x at NumPy's usual 16-byte alignment, its vector loads split over lines.
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

/* The indirection buffer (rows' pointers), a zero row for rows past the group's output
 * channels, a B panel [C/g][NR] and one output channel's bias over NR pixels. */
size_t FC_FN(pointwise_planes_workspace)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                         const fc_view *y) {
    const int64_t nr = FC_UKERNEL(cx)->nr, cg = x->c / d->groups;
    return fc_align_up(sizeof(FC_T *) * (size_t)FC_FN(pw_rows)(cx, d, y)) +
           fc_align_up(sizeof(FC_T) * (size_t)cg) + sizeof(FC_T) * (size_t)(cg * nr + nr);
}

void FC_FN(pointwise_planes)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                             const fc_view *y, const FC_T *wt, const FC_T *bias, int64_t n,
                             int64_t g, int64_t q0, int64_t q1, void *ws) {
    const FC_FN(fc_ukernel) *uk = FC_UKERNEL(cx);
    const int64_t nr = uk->nr, cg = x->c / d->groups, og = y->c / d->groups;
    const int64_t rows = FC_FN(pw_rows)(cx, d, y);
    const FC_T **ind = ws;
    FC_T *zero = (FC_T *)((char *)ws + fc_align_up(sizeof(FC_T *) * (size_t)rows));
    FC_T *bp = (FC_T *)((char *)zero + fc_align_up(sizeof(FC_T) * (size_t)cg));
    FC_T *brow = bp + cg * nr;
    for (int64_t c = 0; c < cg; c++) zero[c] = 0;
    for (int64_t r = 0; r < rows; r++) ind[r] = r < og ? wt + (g * og + r) * cg : zero;
    const FC_T *xg = (const FC_T *)x->data + n * x->sn + g * cg * x->sc;
    FC_T *yg = (FC_T *)y->data + n * y->sn + g * og * y->sc;
    for (int64_t q = q0; q < q1; q += nr) {
        const int64_t len = q1 - q < nr ? q1 - q : nr;
        for (int64_t c = 0; c < cg; c++) { /* the B panel: NR pixels of each plane */
            const FC_T *src = xg + c * x->sc + q;
            FC_T *dst = bp + c * nr;
            for (int64_t j = 0; j < len; j++) dst[j] = src[j];
            for (int64_t j = len; j < nr; j++) dst[j] = 0;
        }
        FC_FN(gemm_macro)(uk, og, len, 1, cg, ind, 0, bp, cg * nr, yg + q, y->sc, 0, 1, NULL,
                          FC_ACT_NONE, 0, NULL);
        if (!bias && d->activation == FC_ACT_NONE) continue;
        for (int64_t co = 0; co < og; co++) { /* one output channel's bias over the row */
            FC_T *row = yg + co * y->sc + q;
            if (bias)
                for (int64_t j = 0; j < len; j++) brow[j] = bias[g * og + co];
            FC_FN(epilogue_store)(row, len, bias ? brow : NULL, d->activation, row, 1);
        }
    }
}
