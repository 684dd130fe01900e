/* Declarations shared by the kernel files (not part of the public contract). */
#ifndef FC_INTERNAL_H
#define FC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "fastconv.h"

/* Per-dtype names: FC_FN(gemm) is gemm_f32 or gemm_f64 inside a template instantiation. */
#define FC_CAT_(a, b) a##_##b
#define FC_CAT(a, b) FC_CAT_(a, b)
#define FC_FN(name) FC_CAT(name, FC_SFX)

/* Threads for a parallel region in the operator layer; 1 below `work` of about a
 * microsecond per thread, where waking a second thread costs more than it saves. */
int fc_threads_for(double work_flops);

/* The kernels, one declaration per dtype (defined from one template source each). */
#define FC_DECLARE_KERNELS(T, SFX)                                                          \
    void FC_CAT(direct_conv_rows, SFX)(const fc_conv_desc *d, const fc_view *x,             \
                                       const T *w, const T *bias, const fc_view *y,         \
                                       int64_t n, int64_t oy0, int64_t oy1, T *acc);        \
    size_t FC_CAT(im2col_workspace, SFX)(const fc_conv_desc *d, const fc_view *x,           \
                                         const fc_view *y, int64_t tile);                   \
    void FC_CAT(im2col_conv_tile, SFX)(const fc_conv_desc *d, const fc_view *x,             \
                                       const T *w, const T *bias, const fc_view *y,         \
                                       int64_t n, int64_t p0, int64_t p1, T *ws);           \
    void FC_CAT(gemm, SFX)(int64_t m, int64_t n, int64_t k, const T *a, int64_t lda,        \
                           const T *b, int64_t ldb, T *c, int64_t ldc);                     \
    void FC_CAT(maxpool_rows, SFX)(const fc_window *win, const fc_view *x,                  \
                                   const fc_view *y, int64_t n, int64_t oy0, int64_t oy1,   \
                                   T *acc);                                                 \
    void FC_CAT(avgpool_rows, SFX)(const fc_window *win, const fc_view *x,                  \
                                   const fc_view *y, int64_t n, int64_t oy0, int64_t oy1,   \
                                   T *acc);

FC_DECLARE_KERNELS(float, f32)
FC_DECLARE_KERNELS(double, f64)

/* First and one-past-last tap k in [0, k_len) whose input coordinate
 * o * stride - pad + k * dil lies in [0, in_len): taps outside are padding. */
static inline void fc_valid_taps(int64_t o, int64_t stride, int64_t pad, int64_t dil,
                                 int64_t k_len, int64_t in_len, int64_t *k0, int64_t *k1) {
    int64_t start = o * stride - pad;
    int64_t lo = start < 0 ? (-start + dil - 1) / dil : 0;
    int64_t hi = in_len - start <= 0 ? 0 : (in_len - start + dil - 1) / dil;
    if (hi > k_len) hi = k_len;
    if (lo > hi) lo = hi;
    *k0 = lo;
    *k1 = hi;
}

#endif
