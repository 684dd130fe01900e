/* The MR x NR register-blocked micro-kernel, in indirect-GEMM form (template: FC_T, FC_SFX,
 * and per ISA file UK_ISA, UK_VBYTES and the tile of ukernel_tiles.h).
 *
 *   C[MR x NR] = (accumulate ? C : 0) + sum over taps t, k < kc of
 *                A_t[i][k] * B[t * kc + k][:],   A_t[i] = a[t * MR + i] + a_off
 *
 * a holds, for each tap, MR row pointers (XNNPACK's indirection buffer): a row is kc
 * contiguous values -- the channels of one input pixel, or of a zero row for padding --
 * so no patch matrix is ever built and padding costs nothing.  a_next is the next tile's
 * (same layout), prefetched into L2 while this one computes, or NULL.  B is a packed panel
 * [ntaps * kc][NR], its rows UK_B_ROW values apart (NR unless the includer defines it,
 * as the 1x1 NCHW kernel does to read input planes in place), read with unaligned vector
 * loads (they cost nothing extra on aligned data on AVX2 and AVX-512); C is row-major with leading dimension ldc.
 * With `bias` (NR values) and/or a ReLU-family activation, the epilogue runs on the
 * accumulators before the store; other activations are applied by the caller.
 * Written with GCC vector extensions: the same source compiles to zmm code under
 * -mavx512f, ymm under -mavx2 -mfma and xmm on the portable baseline; the loops over the
 * MR x NV accumulators are fully unrolled so that they stay in registers. */
#if FC_T_IS_DOUBLE
#define UK_MR UK_MR_F64
#define UK_NV UK_NV_F64
#else
#define UK_MR UK_MR_F32
#define UK_NV UK_NV_F32
#endif
#define UK_LANES (UK_VBYTES / (int)sizeof(FC_T))
#define UK_LINE (64 / (int)sizeof(FC_T)) /* values per cache line */
#define UK_VEC FC_CAT(FC_CAT(vec, UK_ISA), FC_SFX)
#define UK_NAME FC_CAT(FC_CAT(ukernel, UK_ISA), FC_SFX)

/* aligned(sizeof(FC_T)): loads and stores of C may be unaligned */
typedef FC_T UK_VEC __attribute__((vector_size(UK_VBYTES), aligned(sizeof(FC_T))));
#if FC_T_IS_DOUBLE
typedef int64_t FC_CAT(UK_VEC, mask) __attribute__((vector_size(UK_VBYTES)));
#else
typedef int32_t FC_CAT(UK_VEC, mask) __attribute__((vector_size(UK_VBYTES)));
#endif
#define UK_MASK FC_CAT(UK_VEC, mask)
#ifndef UK_B_ROW
#define UK_B_ROW (UK_NV * UK_LANES) /* a packed panel's row */
#endif

/* v where keep is all-ones, else `other` (lane-wise select without C++'s vector ?:) */
#define UK_SELECT(keep, v, other) ((UK_VEC)(((UK_MASK)(v) & (keep)) | ((UK_MASK)(other) & ~(keep))))

/* The full tile, and one row of it for the edge tiles that have only 1 or 2 rows (gemm_macro):
 * a 1-row step loads the same 4 vectors of B for 4 FMAs instead of 24, so it runs B-bound
 * at about a third of a full tile's time, not all of it (r50-3x3-7: 49 rows are 8 tiles
 * and one of 1 row, for each of 8 channel panels). */
#define UK_ROWS UK_MR
#define UK_FN UK_NAME
#include "ukernel_fn_tmpl.h"
#undef UK_ROWS
#undef UK_FN
#define UK_ROWS 1
#define UK_FN FC_CAT(UK_NAME, row)
#include "ukernel_fn_tmpl.h"
#undef UK_ROWS
#undef UK_FN

#undef UK_SELECT
#undef UK_B_ROW
#undef UK_MASK

/* The tile shape this ISA uses for this dtype (for the kernel table). */
const FC_FN(fc_ukernel) FC_CAT(FC_FN(ukernel_desc), UK_ISA) = {
    .run = UK_NAME,
    .run_row = FC_CAT(UK_NAME, row),
    .mr = UK_MR,
    .nr = UK_NV * UK_LANES,
};

#undef UK_MR
#undef UK_NV
#undef UK_LANES
#undef UK_LINE
#undef UK_VEC
#undef UK_NAME
