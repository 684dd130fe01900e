/* A strided row copy for the kernels that split input rows into stride phases (template:
 * FC_T, FC_SFX; included once per dtype, as fc_epilogue_tmpl.h). */

/* dst[j] = src[j * step] for j in [0, n); small steps (a one-channel row at strides 2-4, a
 * row of 2-4 interleaved NHWC channels at strides 1-4) are compile-time constants, so that
 * the loop vectorizes with permutes instead of running element by element (kitten-gray's
 * 3x3/3: the copy was most of the call; kitten-rgb's, step 9: 0.076 -> 0.062 ms, 1 thread). */
static inline __attribute__((always_inline)) void
FC_FN(gather_by)(FC_T *restrict dst, const FC_T *restrict src, const int64_t step, int64_t n) {
    for (int64_t j = 0; j < n; j++) dst[j] = src[j * step];
}

static void FC_FN(gather)(FC_T *restrict dst, const FC_T *restrict src, int64_t step, int64_t n) {
    switch (step) {
    case 1: FC_FN(gather_by)(dst, src, 1, n); break;
    case 2: FC_FN(gather_by)(dst, src, 2, n); break;
    case 3: FC_FN(gather_by)(dst, src, 3, n); break;
    case 4: FC_FN(gather_by)(dst, src, 4, n); break;
    case 6: FC_FN(gather_by)(dst, src, 6, n); break;
    case 8: FC_FN(gather_by)(dst, src, 8, n); break;
    case 9: FC_FN(gather_by)(dst, src, 9, n); break;
    case 12: FC_FN(gather_by)(dst, src, 12, n); break;
    default: FC_FN(gather_by)(dst, src, step, n); break;
    }
}

/* dst[q * ld + j] = src[j * GROUPS + q] for j in [0, n), q in [0, GROUPS): n groups of
 * interleaved values (a row's pixels at a stride, each with its channels) dealt out to GROUPS
 * rows in one pass, each group read once.  Groups of 2-4 only, which GCC vectorizes with
 * permutes (kitten-gray's 3 stride phases: 0.94x the time of three gathers; it leaves groups
 * of 6, 8, 9 and 12 to scalar code, which lost to the gathers' vectors built element by
 * element: kitten-rgb's 9, 3 channels at stride 3, 1.35x their time). */
static inline __attribute__((always_inline)) void
FC_FN(deinterleave_by)(FC_T *restrict dst, int64_t ld, const FC_T *restrict src,
                       const int64_t groups, int64_t n) {
    for (int64_t j = 0; j < n; j++)
        for (int64_t q = 0; q < groups; q++) dst[q * ld + j] = src[j * groups + q];
}

/* Whether deinterleave takes groups of this size. */
#define FC_DEINTERLEAVE_MAX 4

static inline void FC_FN(deinterleave)(FC_T *restrict dst, int64_t ld, const FC_T *restrict src,
                                       int64_t groups, int64_t n) {
    switch (groups) {
    case 2: FC_FN(deinterleave_by)(dst, ld, src, 2, n); break;
    case 3: FC_FN(deinterleave_by)(dst, ld, src, 3, n); break;
    default: FC_FN(deinterleave_by)(dst, ld, src, 4, n); break;
    }
}
