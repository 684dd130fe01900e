/* The GEMM macro-kernel: the loops around the micro-kernel, written once for every ISA
 * (template: FC_T, FC_SFX).
 *
 * One channel block: C[m x n] = (accumulate ? C : 0) + sum over taps of A_t * B_t, where
 * the rows of A come from an indirection buffer `ind` (for each MR-row panel: ntaps x MR
 * row pointers, offset by a_off), B is ceil(n / NR) packed panels [ntaps * kc][NR] (zero-
 * padded past n) at `panel_stride` elements from each other, and C is row-major with
 * leading dimension ldc.  B panels are the outer loop: one stays in L2 while every row
 * panel streams past it.  Edge tiles go through a local tile; the indirection buffer
 * points rows past m at a zero row, so the micro-kernel always reads valid memory.  With
 * `finish`, bias and activation are applied to each tile right after its last channel
 * block, while it is still in L1.  With `prefetch`, the micro-kernel prefetches the next
 * tile's rows of A: for rows read in place from an input larger than L2, not for rows a
 * caller has just built in its workspace (there it only costs 1-2%).  With `zero` (the zero
 * row that stands for padding in `ind`), the taps of a row panel whose MR rows all point at
 * it are skipped: they would add 0 * w = +-0 to every accumulator, which changes no bit (a
 * sum that starts at +0 never becomes -0, and x + -0 = x), so the result is the same.  Each
 * run of taps between skipped ones is one micro-kernel call, the later ones adding to the
 * tile the earlier ones stored.  A panel of output pixels in an image's top or bottom rows
 * thus skips the window rows that overhang the image: AlexNet's 27x27 5x5 SAME layer has
 * 4.4% of its taps there (2.99 -> 2.83 ms, r50-3x3-7 2.36 -> 2.24; 1 thread, thread CPU
 * time, Xeon AVX-512); and a panel down an edge column (conv/pixel_order.h) the window
 * columns left or right of it, 4.4% more (3.93 -> 3.80 ms, AMD Zen 4).  With `crow`, row r
 * of C is at crow[r] instead of c + r * ldc: a tile whose rows are equally spaced is
 * computed in place (ldc = their spacing), the others in a local tile.
 *
 * Where a 1x1 layer's time goes (mbv1-pw-56: M = 3136, K = N = 128; 1 thread, Xeon AVX-512
 * with a measured 176 GFLOP/s FMA peak, 0.584 ms of FMAs): the 6x64 micro-kernel runs a tile
 * in L1 at 96-99% of the peak; this loop took 0.627 ms (92%) with the input and output
 * streaming through L3 and 0.603 (97%) with both held in cache.  Tried here without gain
 * (within 1%, or slower): prefetchw of the C tile before its K loop, non-temporal C stores,
 * prefetcht0 instead of prefetcht1 for the next tile's rows, r50-1x1-56's K cut in two so
 * that its B panel stays in L1, pixel blocks of 48 to 384 rows instead of 96 (6 is 12%
 * slower: B from L2), and 12x32, 8x48, 7x64 and 8x64 tiles from these sources (5-20%
 * slower: GCC spills accumulators or row pointers). */
#include <string.h>
#include "fc_epilogue_tmpl.h"

#define FC_MAX_TILE (8 * 64) /* >= MR * NR of every micro-kernel */

/* Whether the n row pointers at p all point at the zero row. */
static int FC_FN(all_zero)(const FC_T *const *p, int64_t n, const FC_T *zero) {
    for (int64_t r = 0; r < n; r++)
        if (p[r] != zero) return 0;
    return 1;
}

/* The first tap from t on at which some of the MR rows at `a` read the image (ntaps: none).
 * Without a zero row every tap reads it. */
static int64_t FC_FN(next_read)(const FC_T *const *a, int64_t MR, int64_t t, int64_t ntaps,
                                const FC_T *zero) {
    while (zero && t < ntaps && FC_FN(all_zero)(a + t * MR, MR, zero)) t++;
    return t;
}

/* The first tap from t on at which all MR rows at `a` are padding (ntaps: none). */
static int64_t FC_FN(next_skip)(const FC_T *const *a, int64_t MR, int64_t t, int64_t ntaps,
                                const FC_T *zero) {
    while (zero && t < ntaps && !FC_FN(all_zero)(a + t * MR, MR, zero)) t++;
    return zero ? t : ntaps;
}

/* Rows [i, i + mr) of C at rows `crow` (or ldc apart from c): where they are equally spaced,
 * the spacing (0 where they are not, or there is one row: the caller uses a tile). */
static int64_t FC_FN(row_spacing)(FC_T *const *crow, int64_t i, int64_t mr, int64_t ldc) {
    if (!crow) return ldc;
    if (mr < 2) return 0;
    const int64_t step = crow[i + 1] - crow[i];
    for (int64_t r = 2; r < mr; r++)
        if (crow[i + r] - crow[i] != r * step) return 0;
    return step;
}

void FC_FN(gemm_macro)(const FC_FN(fc_ukernel) * uk, int64_t m, int64_t n, int64_t ntaps,
                       int64_t kc, const FC_T *const *ind, int64_t a_off, const FC_T *bp,
                       int64_t panel_stride, FC_T *c, int64_t ldc, FC_T *const *crow,
                       int accumulate, int finish, const FC_T *bias, fc_activation act,
                       int prefetch, const FC_T *zero) {
    const int64_t MR = uk->mr, NR = uk->nr;
    FC_T tile[FC_MAX_TILE] __attribute__((aligned(64))) = {0};
    FC_T edge_bias[64] __attribute__((aligned(64))) = {0}; /* >= NR: bias of a partial panel */
    /* Bias and ReLU/ReLU6 run in the micro-kernel on the last channel block; sigmoid and
     * tanh on the stored tile, while it is in L1. */
    const int in_kernel = act == FC_ACT_NONE || act == FC_ACT_RELU || act == FC_ACT_RELU6;
    const fc_activation uk_act = finish && in_kernel ? act : FC_ACT_NONE;
    const int after = finish && !in_kernel;

    for (int64_t j = 0; j < n; j += NR) {
        const int64_t nr = n - j < NR ? n - j : NR;
        const FC_T *bj = bp + (j / NR) * panel_stride;
        const FC_T *uk_bias = NULL;
        if (finish && bias) {
            if (nr == NR) {
                uk_bias = bias + j;
            } else {
                memcpy(edge_bias, bias + j, sizeof(FC_T) * (size_t)nr);
                uk_bias = edge_bias;
            }
        }
        for (int64_t i = 0; i < m; i += MR) {
            const int64_t mr = m - i < MR ? m - i : MR;
            const FC_T *const *ai = ind + (i / MR) * ntaps * MR;
#define C_ROW(r) (crow ? crow[i + (r)] + j : c + (i + (r)) * ldc + j)
            const int64_t spacing = FC_FN(row_spacing)(crow, i, mr, ldc);
            const int in_place = mr == MR && nr == NR && spacing > 0;
            FC_T *const cij = in_place ? C_ROW(0) : tile;
            const int64_t ldt = in_place ? spacing : NR;
            /* the tile after this one, whose rows the micro-kernel prefetches: the next row
             * panel, else the first of the next B panel (the block's last tile: itself) */
            const FC_T *const *an = !prefetch    ? NULL
                                    : i + MR < m ? ai + ntaps * MR
                                    : j + NR < n ? ind
                                                 : ai;
            if (!in_place && accumulate)
                for (int64_t r = 0; r < mr; r++)
                    memcpy(tile + r * NR, C_ROW(r), sizeof(FC_T) * (size_t)nr);
            /* The runs of taps that read the image, one micro-kernel call each: the first
             * starts from C as the caller asks, the others add to it, and the last adds
             * bias and activation.  None (every tap in the padding): C = bias. */
            int64_t t0 = FC_FN(next_read)(ai, MR, 0, ntaps, zero);
            int first = 1;
            for (;;) {
                const int64_t t1 = FC_FN(next_skip)(ai, MR, t0, ntaps, zero);
                const int64_t next = FC_FN(next_read)(ai, MR, t1, ntaps, zero);
                const int last = next == ntaps;
                const FC_T *const *at = ai + t0 * MR, *const *ant = an ? an + t0 * MR : NULL;
                const FC_T *bt = bj + t0 * kc * NR;
                const int acc = first ? accumulate : 1;
                const FC_T *rb = last ? uk_bias : NULL;
                const fc_activation ra = last ? uk_act : FC_ACT_NONE;
                if (in_place || 3 * mr > MR) {
                    uk->run(t1 - t0, kc, at, ant, a_off, bt, cij, ldt, acc, rb, ra);
                } else { /* 1 or 2 rows of 6: a row at a time (ukernel_tmpl.h) */
                    for (int64_t r = 0; r < mr; r++)
                        uk->run_row(t1 - t0, kc, at + r, NULL, a_off, bt, tile + r * NR, NR, acc,
                                    rb, ra);
                }
                if (last) break;
                t0 = next;
                first = 0;
            }
            if (!in_place)
                for (int64_t r = 0; r < mr; r++)
                    memcpy(C_ROW(r), tile + r * NR, sizeof(FC_T) * (size_t)nr);
            if (after) /* bias is already in */
                for (int64_t r = 0; r < mr; r++)
                    FC_FN(epilogue_store)(C_ROW(r), nr, NULL, act, C_ROW(r), 1);
#undef C_ROW
        }
    }
}

#undef FC_MAX_TILE
