/* Matrix transpose for the NCHW <-> NHWC layout copies (template: FC_T, FC_SFX, and TR_ISA /
 * TR_VBYTES: each ISA's file compiles the tiles at its own vector width).
 *
 * dst[j * ldd + i] = src[i * lds + j] for rows i in [r0, r1) and columns j in [0, cols).
 * Whole L x L tiles (L: a vector's lanes) are transposed in registers: L row loads, log2(L)
 * rounds of interleaves, L row stores.  The columns go one cache line at a time (two
 * tiles wide where a vector is half a line) through all the rows of the block, so each
 * source line is used whole once it is loaded, and each destination row gets the block's
 * rows as one contiguous run: power-of-two strides (56 * 56 floats, 64 channels) then
 * never evict a half-used line.  Edges (rows or columns past the last whole tile) go one
 * value at a time. */

#define TR_FN(name) FC_CAT(FC_FN(name), TR_ISA)
#define TR_VEC FC_CAT(FC_CAT(trvec, TR_ISA), FC_SFX)
#define TR_LANES (TR_VBYTES / (FC_T_IS_DOUBLE ? 8 : 4))

typedef FC_T TR_VEC __attribute__((vector_size(TR_VBYTES), aligned(sizeof(FC_T))));

/* Interleaving the low (high) halves of two vectors: a0 b0 a1 b1 ... (the lane indices must
 * be literal constants).  log2(L) rounds of pairing row i with row i + L/2 into rows 2i
 * (low) and 2i + 1 (high) rotate each value's (row, column) bits by one: after log2(L)
 * rounds, row and column have swapped. */
#define FC_LANES_N TR_LANES
#include "fc_lanes_tmpl.h"
#define TR_LO(a, b) __builtin_shufflevector(a, b, FC_ZIPLO_LANES)
#define TR_HI(a, b) __builtin_shufflevector(a, b, FC_ZIPHI_LANES)

#if TR_LANES == 16
/* 16 lanes (float32 in 512 bits): 4x4 blocks transposed inside each 128-bit quarter first
 * (two rounds of in-quarter interleaves), then the 4x4 grid of quarters (two rounds of
 * quarter shuffles).  As many shuffles as the rounds above, but each takes its two sources
 * without overwriting one (vunpcklps / vshuff32x4 against vpermt2ps, which needs a copy and
 * an index register).  Per 16x16 tile, Xeon AVX-512, thread CPU time: 36 ns against 101 in
 * L1 (784 x 32), 130 against 200 for a 1.6 MB matrix (128 x 3136, either way round). */
#define TR_PS_LO(a, b)                                                                             \
    __builtin_shufflevector(a, b, 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29)
#define TR_PS_HI(a, b)                                                                             \
    __builtin_shufflevector(a, b, 2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27, 14, 30, 15, 31)
#define TR_PD_LO(a, b)                                                                             \
    __builtin_shufflevector(a, b, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29)
#define TR_PD_HI(a, b)                                                                             \
    __builtin_shufflevector(a, b, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31)
/* quarters 0 and 2 of a, then of b (vshuff32x4 0x88); 1 and 3 (0xdd) */
#define TR_Q02(a, b)                                                                               \
    __builtin_shufflevector(a, b, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27)
#define TR_Q13(a, b)                                                                               \
    __builtin_shufflevector(a, b, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31)
static inline void TR_FN(tr_tile)(const FC_T *s, int64_t lds, FC_T *d, int64_t ldd) {
    TR_VEC r[16], t[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) r[i] = *(const TR_VEC *)(s + i * lds);
#pragma GCC unroll 16
    for (int i = 0; i < 16; i += 2) {
        t[i] = TR_PS_LO(r[i], r[i + 1]);
        t[i + 1] = TR_PS_HI(r[i], r[i + 1]);
    }
#pragma GCC unroll 16
    for (int i = 0; i < 16; i += 4) { /* r[4b + k]: rows 4b.., column 4q + k in quarter q */
        r[i] = TR_PD_LO(t[i], t[i + 2]);
        r[i + 1] = TR_PD_HI(t[i], t[i + 2]);
        r[i + 2] = TR_PD_LO(t[i + 1], t[i + 3]);
        r[i + 3] = TR_PD_HI(t[i + 1], t[i + 3]);
    }
#pragma GCC unroll 16
    for (int k = 0; k < 4; k++) {
        t[k] = TR_Q02(r[k], r[4 + k]);
        t[4 + k] = TR_Q13(r[k], r[4 + k]);
        t[8 + k] = TR_Q02(r[8 + k], r[12 + k]);
        t[12 + k] = TR_Q13(r[8 + k], r[12 + k]);
    }
#pragma GCC unroll 16
    for (int k = 0; k < 4; k++) { /* output row 4q + k: quarter q of every row block */
        r[k] = TR_Q02(t[k], t[8 + k]);
        r[8 + k] = TR_Q13(t[k], t[8 + k]);
        r[4 + k] = TR_Q02(t[4 + k], t[12 + k]);
        r[12 + k] = TR_Q13(t[4 + k], t[12 + k]);
    }
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) *(TR_VEC *)(d + i * ldd) = r[i];
}
#undef TR_PS_LO
#undef TR_PS_HI
#undef TR_PD_LO
#undef TR_PD_HI
#undef TR_Q02
#undef TR_Q13
#else
/* One L x L tile: rows s[0 .. L) lds apart into rows d[0 .. L) ldd apart. */
static inline void TR_FN(tr_tile)(const FC_T *s, int64_t lds, FC_T *d, int64_t ldd) {
    TR_VEC a[TR_LANES], b[TR_LANES];
    for (int i = 0; i < TR_LANES; i++) a[i] = *(const TR_VEC *)(s + i * lds);
    for (int round = 1; round < TR_LANES; round *= 2) {
        for (int i = 0; i < TR_LANES / 2; i++) {
            b[2 * i] = TR_LO(a[i], a[i + TR_LANES / 2]);
            b[2 * i + 1] = TR_HI(a[i], a[i + TR_LANES / 2]);
        }
        for (int i = 0; i < TR_LANES; i++) a[i] = b[i];
    }
    for (int i = 0; i < TR_LANES; i++) *(TR_VEC *)(d + i * ldd) = a[i];
}
#endif

/* The values one at a time: rows [r0, r1), columns [c0, c1). */
static void TR_FN(tr_edge)(const FC_T *src, int64_t lds, FC_T *dst, int64_t ldd, int64_t r0,
                           int64_t r1, int64_t c0, int64_t c1) {
    for (int64_t j = c0; j < c1; j++)
        for (int64_t i = r0; i < r1; i++) dst[j * ldd + i] = src[i * lds + j];
}

void TR_FN(transpose)(const FC_T *src, int64_t lds, FC_T *dst, int64_t ldd, int64_t r0, int64_t r1,
                      int64_t cols) {
    enum { L = TR_LANES, STEP = 64 / sizeof(FC_T) > TR_LANES ? 64 / sizeof(FC_T) : TR_LANES };
    const int64_t rt = r0 + (r1 - r0) / L * L, ct = cols / L * L;
    for (int64_t j0 = 0; j0 < ct; j0 += STEP) {
        const int64_t j1 = j0 + STEP < ct ? j0 + STEP : ct;
        for (int64_t i = r0; i < rt; i += L)
            for (int64_t j = j0; j < j1; j += L)
                TR_FN(tr_tile)(src + i * lds + j, lds, dst + j * ldd + i, ldd);
    }
    TR_FN(tr_edge)(src, lds, dst, ldd, rt, r1, 0, ct);    /* rows past the last tile */
    TR_FN(tr_edge)(src, lds, dst, ldd, r0, r1, ct, cols); /* columns past it */
}

#undef TR_LO
#undef TR_HI
