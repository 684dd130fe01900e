/* The GEMM engine (csrc/gemm/): its blocking, the micro-kernels of each ISA and the
 * macro-kernel that the im2col, Winograd and filter-gradient kernels drive. */
#ifndef FC_GEMM_H
#define FC_GEMM_H

#include "fc_internal.h"

/* Bytes of one packed B panel (ntaps x channel block x NR): it stays in L2 while every row
 * panel of a pixel block streams past it; the channel block is cut to fit (to within 1.5x:
 * conv/igemm_tmpl.h).  An eighth of the L2 (256 KiB on the 2 MiB L2 it was tuned on, 128 KiB
 * on a 1 MiB one), at least 64 KiB (gemm/kernels.c). */
int64_t fc_gemm_panel_bytes(void);

/* Output pixels per GEMM task: a multiple of every MR, large enough to amortize a task
 * and its indirection buffer, small enough that 2 threads get several tasks on a 14x14
 * layer. */
#define FC_GEMM_MC 96

/* The micro-kernels of an ISA (gemm/kernels.c). */
const fc_ukernel_f32 *fc_ukernel_for_f32(fc_isa isa);
const fc_ukernel_f64 *fc_ukernel_for_f64(fc_isa isa);

/* The macro-kernel (gemm/gemm_tmpl.h), per dtype. */
#define FC_DECLARE_GEMM(T, SFX)                                                                    \
    void FC_CAT(gemm_macro, SFX)(const FC_CAT(fc_ukernel, SFX) * uk, int64_t m, int64_t n,         \
                                 int64_t ntaps, int64_t kc, const T *const *ind, int64_t a_off,    \
                                 const T *bp, int64_t panel_stride, T *c, int64_t ldc,             \
                                 T *const *crow, int accumulate, int finish, const T *bias,        \
                                 fc_activation act, int prefetch, const T *zero);
FC_DECLARE_GEMM(float, f32)
FC_DECLARE_GEMM(double, f64)

#endif
