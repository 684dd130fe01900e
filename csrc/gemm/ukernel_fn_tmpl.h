/* One micro-kernel function of ukernel_tmpl.h (included there once per shape): UK_ROWS
 * rows of the MR x NR tile, named UK_FN; the indirection buffer keeps MR pointers per tap
 * whatever UK_ROWS is, so that a 1-row kernel runs on row i of a tile given a + i. */
/* One step of the reduction: row k of B (NV vectors) times A's column k (UK_ROWS broadcasts)
 * into the accumulators; B then advances to its next row, UK_B_ROW values on (ukernel_tmpl.h). */
#define UK_STEP(k)                                                                                 \
    do {                                                                                           \
        UK_VEC bv[UK_NV];                                                                          \
        _Pragma("GCC unroll 8") for (int v = 0; v < UK_NV; v++) bv[v] =                            \
            *(const UK_VEC *)(b + v * UK_LANES); /* may be unaligned (below) */                    \
        b += UK_B_ROW;                                                                             \
        _Pragma("GCC unroll 16") for (int i = 0; i < UK_ROWS; i++) {                               \
            const UK_VEC av = rows[i][k] - (UK_VEC){0}; /* broadcast (x - 0 folds to x) */         \
            _Pragma("GCC unroll 8") for (int v = 0; v < UK_NV; v++) acc[i][v] += av * bv[v];       \
        }                                                                                          \
    } while (0)

void UK_FN(int64_t ntaps, int64_t kc, const FC_T *const *a, const FC_T *const *a_next,
           int64_t a_off, const FC_T *restrict b, FC_T *restrict c, int64_t ldc, int accumulate,
           const FC_T *restrict bias, fc_activation act) {
    UK_VEC acc[UK_ROWS][UK_NV];
#pragma GCC unroll 16
    for (int i = 0; i < UK_ROWS; i++)
#pragma GCC unroll 8
        for (int v = 0; v < UK_NV; v++)
            acc[i][v] = accumulate ? *(const UK_VEC *)(c + i * ldc + v * UK_LANES) : (UK_VEC){0};

    for (int64_t t = 0; t < ntaps; t++) {
        const FC_T *rows[UK_ROWS];
#pragma GCC unroll 16
        for (int i = 0; i < UK_ROWS; i++) rows[i] = a[t * UK_MR + i] + a_off;
        if (a_next) {
            const FC_T *next[UK_ROWS];
#pragma GCC unroll 16
            for (int i = 0; i < UK_ROWS; i++) next[i] = a_next[t * UK_MR + i] + a_off;
            for (int64_t k = 0; k < kc; k++) {
                /* The next tile's rows, one cache line of each per line of this tile's:
                 * where the input outgrows L2 (r50-1x1-56: 3.2 MB, K = 256) its rows come
                 * from L3, and fetched a whole tile (~3000 cycles) ahead they are in L2 when
                 * needed: 0.69 -> 0.63 ms on that GEMM, 150 -> 162 GFLOP/s.  Where the rows
                 * are in L2 already it costs 1-2% (M = 384): callers pass NULL there, and
                 * this loop is separate so that they pay no test per k either. */
                if ((k & (UK_LINE - 1)) == 0) {
#pragma GCC unroll 16
                    for (int i = 0; i < UK_ROWS; i++) __builtin_prefetch(next[i] + k, 0, 2);
                }
                UK_STEP(k);
            }
        } else {
            /* 4 steps per loop test: a 6x64 tile in L1 at kc = 128 runs at 99% of the FMA
             * peak instead of 97%; Winograd's GEMMs (this loop) 1-3.5% faster, r50-3x3-28
             * 0.86 -> 0.83 ms, vgg-3x3-224 14.7 -> 14.5 (1 thread, thread CPU time, Xeon
             * AVX-512).  Unrolled the same way, the prefetching loop above gained nothing. */
#pragma GCC unroll 4
            for (int64_t k = 0; k < kc; k++) UK_STEP(k);
        }
    }

    if (bias) {
#pragma GCC unroll 8
        for (int v = 0; v < UK_NV; v++) {
            const UK_VEC bv = *(const UK_VEC *)(bias + v * UK_LANES);
#pragma GCC unroll 16
            for (int i = 0; i < UK_ROWS; i++) acc[i][v] += bv;
        }
    }
    if (act == FC_ACT_RELU || act == FC_ACT_RELU6) {
        /* comparisons are false for NaN, so NaN passes through as in the scalar epilogue */
        const UK_VEC zero = (UK_VEC){0}, six = zero + (FC_T)6;
#pragma GCC unroll 16
        for (int i = 0; i < UK_ROWS; i++)
#pragma GCC unroll 8
            for (int v = 0; v < UK_NV; v++) {
                UK_VEC r = UK_SELECT(~(UK_MASK)(acc[i][v] < zero), acc[i][v], zero);
                if (act == FC_ACT_RELU6) r = UK_SELECT(~(UK_MASK)(r > six), r, six);
                acc[i][v] = r;
            }
    }

#pragma GCC unroll 16
    for (int i = 0; i < UK_ROWS; i++)
#pragma GCC unroll 8
        for (int v = 0; v < UK_NV; v++) *(UK_VEC *)(c + i * ldc + v * UK_LANES) = acc[i][v];
}

#undef UK_STEP
