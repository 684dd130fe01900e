/* The GEMM macro-kernel: the loops around the micro-kernel, written once for every ISA
 * (template: FC_T, FC_SFX).
 *
 * One K block: C[m x n] = (accumulate ? C : 0) + A[m x kc] * B[kc x n], where A is m rows
 * at stride rs_a (unit column stride), B is ceil(n / NR) packed panels [kc][NR] (zero-
 * padded past n) at `panel_stride` elements from each other, C is row-major with leading
 * dimension ldc.  Row panels (MR rows of A, 12 KiB at KC = 256) are the outer loop so that
 * one stays in L1 while the B panels stream from L2.  Edge tiles go through a local tile;
 * a partial row panel of A is copied, zero-padded, into `atail` (MR x kc) so that the
 * micro-kernel never reads past A.  With `finish`, bias and activation are applied to each
 * tile right after its last K block, while it is still in L1. */
#include <string.h>
#include "fc_epilogue_tmpl.h"

#define FC_MAX_TILE (16 * 64)   /* >= MR * NR of every micro-kernel */

void FC_FN(gemm_macro)(const FC_FN(fc_ukernel) *uk, int64_t m, int64_t n, int64_t kc,
                       const FC_T *a, int64_t rs_a, const FC_T *bp, int64_t panel_stride,
                       FC_T *c, int64_t ldc, int accumulate, int finish, const FC_T *bias,
                       fc_activation act, FC_T *atail) {
    const int64_t MR = uk->mr, NR = uk->nr;
    FC_T tile[FC_MAX_TILE] __attribute__((aligned(64))) = {0};
    const int epilogue = finish && (bias || act != FC_ACT_NONE);

    for (int64_t i = 0; i < m; i += MR) {
        const int64_t mr = m - i < MR ? m - i : MR;
        const FC_T *ai = a + i * rs_a;
        int64_t rs = rs_a;
        if (mr < MR) {
            for (int64_t r = 0; r < MR; r++) {
                if (r < mr) memcpy(atail + r * kc, ai + r * rs_a, sizeof(FC_T) * (size_t)kc);
                else memset(atail + r * kc, 0, sizeof(FC_T) * (size_t)kc);
            }
            ai = atail;
            rs = kc;
        }
        for (int64_t j = 0; j < n; j += NR) {
            const int64_t nr = n - j < NR ? n - j : NR;
            const FC_T *bj = bp + (j / NR) * panel_stride;
            FC_T *cij = c + i * ldc + j;
            if (mr == MR && nr == NR) {
                uk->run(kc, ai, rs, bj, cij, ldc, accumulate);
            } else {
                if (accumulate)
                    for (int64_t r = 0; r < mr; r++)
                        memcpy(tile + r * NR, cij + r * ldc, sizeof(FC_T) * (size_t)nr);
                uk->run(kc, ai, rs, bj, tile, NR, accumulate);
                for (int64_t r = 0; r < mr; r++)
                    memcpy(cij + r * ldc, tile + r * NR, sizeof(FC_T) * (size_t)nr);
            }
            if (epilogue)
                for (int64_t r = 0; r < mr; r++)
                    FC_FN(epilogue_store)(cij + r * ldc, nr, bias ? bias + j : NULL, act,
                                          cij + r * ldc, 1);
        }
    }
}

/* Pack panels [first, last) of B (k x n, row-major, leading dimension ldb) into the
 * [kdim][NR] panel format, zero-padded past n; panel p starts at dst + p * k * NR. */
void FC_FN(gemm_pack_b)(int64_t nr_tile, int64_t k, int64_t n, const FC_T *b, int64_t ldb,
                        int64_t first, int64_t last, FC_T *dst) {
    for (int64_t p = first; p < last; p++) {
        const int64_t j = p * nr_tile, cols = n - j < nr_tile ? n - j : nr_tile;
        FC_T *panel = dst + p * k * nr_tile;
        for (int64_t r = 0; r < k; r++) {
            memcpy(panel + r * nr_tile, b + r * ldb + j, sizeof(FC_T) * (size_t)cols);
            memset(panel + r * nr_tile + cols, 0, sizeof(FC_T) * (size_t)(nr_tile - cols));
        }
    }
}

#undef FC_MAX_TILE
