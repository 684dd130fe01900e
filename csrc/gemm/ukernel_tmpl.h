/* The MR x NR register-blocked micro-kernel, in indirect-GEMM form (template: FC_T, FC_SFX,
 * and per ISA file UK_ISA, UK_VBYTES, UK_MR_F32/UK_NV_F32, UK_MR_F64/UK_NV_F64).
 *
 *   C[MR x NR] = (accumulate ? C : 0) + sum over taps t, k < kc of
 *                A_t[i][k] * B[t * kc + k][:],   A_t[i] = a[t * MR + i] + a_off
 *
 * a holds, for each tap, MR row pointers (XNNPACK's indirection buffer): a row is kc
 * contiguous values -- the channels of one input pixel, or of a zero row for padding --
 * so no patch matrix is ever built and padding costs nothing.  a_next is the next tile's
 * (same layout), prefetched into L2 while this one computes, or NULL.  B is a packed panel
 * [ntaps * kc][NR], read with unaligned vector loads (they cost nothing extra on aligned
 * data on AVX2 and AVX-512); C is row-major with leading dimension ldc.
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

/* v where keep is all-ones, else `other` (lane-wise select without C++'s vector ?:) */
#define UK_SELECT(keep, v, other) ((UK_VEC)(((UK_MASK)(v) & (keep)) | ((UK_MASK)(other) & ~(keep))))

/* One step of the reduction: row k of B (NV vectors) times A's column k (MR broadcasts)
 * into the accumulators; B advances by one row. */
#define UK_STEP(k)                                                                                 \
    do {                                                                                           \
        UK_VEC bv[UK_NV];                                                                          \
        _Pragma("GCC unroll 8") for (int v = 0; v < UK_NV; v++) bv[v] =                            \
            *(const UK_VEC *)(b + v * UK_LANES); /* may be unaligned (below) */                    \
        b += UK_NV * UK_LANES;                                                                     \
        _Pragma("GCC unroll 16") for (int i = 0; i < UK_MR; i++) {                                 \
            const UK_VEC av = rows[i][k] - (UK_VEC){0}; /* broadcast (x - 0 folds to x) */         \
            _Pragma("GCC unroll 8") for (int v = 0; v < UK_NV; v++) acc[i][v] += av * bv[v];       \
        }                                                                                          \
    } while (0)

void UK_NAME(int64_t ntaps, int64_t kc, const FC_T *const *a, const FC_T *const *a_next,
             int64_t a_off, const FC_T *restrict b, FC_T *restrict c, int64_t ldc, int accumulate,
             const FC_T *restrict bias, fc_activation act) {
    UK_VEC acc[UK_MR][UK_NV];
#pragma GCC unroll 16
    for (int i = 0; i < UK_MR; i++)
#pragma GCC unroll 8
        for (int v = 0; v < UK_NV; v++)
            acc[i][v] = accumulate ? *(const UK_VEC *)(c + i * ldc + v * UK_LANES) : (UK_VEC){0};

    for (int64_t t = 0; t < ntaps; t++) {
        const FC_T *rows[UK_MR];
#pragma GCC unroll 16
        for (int i = 0; i < UK_MR; i++) rows[i] = a[t * UK_MR + i] + a_off;
        if (a_next) {
            const FC_T *next[UK_MR];
#pragma GCC unroll 16
            for (int i = 0; i < UK_MR; i++) next[i] = a_next[t * UK_MR + i] + a_off;
            for (int64_t k = 0; k < kc; k++) {
                /* The next tile's rows, one cache line of each per line of this tile's:
                 * where the input outgrows L2 (r50-1x1-56: 3.2 MB, K = 256) its rows come
                 * from L3, and fetched a whole tile (~3000 cycles) ahead they are in L2 when
                 * needed: 0.69 -> 0.63 ms on that GEMM, 150 -> 162 GFLOP/s.  Where the rows
                 * are in L2 already it costs 1-2% (M = 384): callers pass NULL there, and
                 * this loop is separate so that they pay no test per k either. */
                if ((k & (UK_LINE - 1)) == 0) {
#pragma GCC unroll 16
                    for (int i = 0; i < UK_MR; i++) __builtin_prefetch(next[i] + k, 0, 2);
                }
                UK_STEP(k);
            }
        } else {
            for (int64_t k = 0; k < kc; k++) UK_STEP(k);
        }
    }

    if (bias) {
#pragma GCC unroll 8
        for (int v = 0; v < UK_NV; v++) {
            const UK_VEC bv = *(const UK_VEC *)(bias + v * UK_LANES);
#pragma GCC unroll 16
            for (int i = 0; i < UK_MR; i++) acc[i][v] += bv;
        }
    }
    if (act == FC_ACT_RELU || act == FC_ACT_RELU6) {
        /* comparisons are false for NaN, so NaN passes through as in the scalar epilogue */
        const UK_VEC zero = (UK_VEC){0}, six = zero + (FC_T)6;
#pragma GCC unroll 16
        for (int i = 0; i < UK_MR; i++)
#pragma GCC unroll 8
            for (int v = 0; v < UK_NV; v++) {
                UK_VEC r = UK_SELECT(~(UK_MASK)(acc[i][v] < zero), acc[i][v], zero);
                if (act == FC_ACT_RELU6) r = UK_SELECT(~(UK_MASK)(r > six), r, six);
                acc[i][v] = r;
            }
    }

#pragma GCC unroll 16
    for (int i = 0; i < UK_MR; i++)
#pragma GCC unroll 8
        for (int v = 0; v < UK_NV; v++) *(UK_VEC *)(c + i * ldc + v * UK_LANES) = acc[i][v];
}

#undef UK_SELECT
#undef UK_STEP
#undef UK_MASK

/* The tile shape this ISA uses for this dtype (for the kernel table). */
const FC_FN(fc_ukernel) FC_CAT(FC_FN(ukernel_desc), UK_ISA) = {
    .run = UK_NAME,
    .mr = UK_MR,
    .nr = UK_NV * UK_LANES,
};

#undef UK_MR
#undef UK_NV
#undef UK_LANES
#undef UK_LINE
#undef UK_VEC
#undef UK_NAME
