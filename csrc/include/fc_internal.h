/* Declarations shared by every kernel family, operator and the runtime (not part of the
 * public contract).  Each family's own declarations are in its header, included where it is
 * used: fc_gemm.h, fc_conv_<family>.h (fc_conv_kernels.h: all of them), fc_pool.h,
 * fc_pool_grad.h, fc_backprop_filter.h, fc_runtime.h, fc_parallel.h. */
#ifndef FC_INTERNAL_H
#define FC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "fastconv.h"

/* Per-dtype names: FC_FN(gemm) is gemm_f32 or gemm_f64 inside a template instantiation. */
#define FC_CAT_(a, b) a##_##b
#define FC_CAT(a, b) FC_CAT_(a, b)
#define FC_FN(name) FC_CAT(name, FC_SFX)

/* The GEMM micro-kernel contract (see gemm/ukernel_tmpl.h): C[mr x nr] (+)= the sum over
 * ntaps of A_t * B_t, each A_t given as mr row pointers (an indirection buffer), B a packed
 * [ntaps * kc][nr] panel; bias (nr values or NULL) and a ReLU-family activation are
 * applied before the store.  a_next: the indirection buffer of the tile that comes next
 * (same ntaps, kc and a_off) or NULL: its rows are prefetched, never loaded, so results do
 * not depend on it.
 * Here, not in fc_gemm.h: every call's context (fc_cntx) holds its ISA's micro-kernels. */
#define FC_DECLARE_UKERNEL_TYPE(T, SFX)                                                            \
    typedef struct {                                                                               \
        void (*run)(int64_t ntaps, int64_t kc, const T *const *a, const T *const *a_next,          \
                    int64_t a_off, const T *b, T *c, int64_t ldc, int accumulate, const T *bias,   \
                    fc_activation act);                                                            \
        /* the same for row 0 of the tile at a (one row of C) */                                   \
        void (*run_row)(int64_t ntaps, int64_t kc, const T *const *a, const T *const *a_next,      \
                        int64_t a_off, const T *b, T *c, int64_t ldc, int accumulate,              \
                        const T *bias, fc_activation act);                                         \
        int mr, nr;                                                                                \
    } FC_CAT(fc_ukernel, SFX);
FC_DECLARE_UKERNEL_TYPE(float, f32)
FC_DECLARE_UKERNEL_TYPE(double, f64)

/* FC_X86_KERNELS: 1 where the build compiles the AVX2 and AVX-512 kernel files (csrc/CMakeLists.txt
 * defines it on x86-64 targets only).  Elsewhere only the portable kernels exist: the CPU
 * check never reports an x86 ISA, and FC_IF_X86 drops every reference to an x86 kernel, so
 * the library links on aarch64 or any other 64-bit target. */
#ifndef FC_X86_KERNELS
#define FC_X86_KERNELS 0
#endif
#if FC_X86_KERNELS
#define FC_IF_X86(...) __VA_ARGS__
#else
#define FC_IF_X86(...)
#endif

/* Before a loop: its iterations do not depend on each other through memory (vectorize it
 * without a runtime overlap check).  GCC's ivdep, Clang's assume_safety. */
#if defined(__clang__)
#define FC_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define FC_IVDEP _Pragma("GCC ivdep")
#else
#define FC_IVDEP
#endif

/* The one switch on the ISA, for every family's dispatch: returns the expression given for
 * ISA (an x86 one only where the build has the x86 kernels; the baseline's otherwise). */
#define FC_ISA_SELECT(ISA, AVX512, AVX2, BASELINE)                                                 \
    switch (ISA) {                                                                                 \
    case FC_ISA_AVX512: FC_IF_X86(return AVX512;)                                                  \
    case FC_ISA_AVX2: FC_IF_X86(return AVX2;)                                                      \
    case FC_ISA_BASELINE: break;                                                                   \
    }                                                                                              \
    return BASELINE;

/* ISA's instance of NAME for dtype SFX: NAME_SFX_avx512, _avx2 or _scalar, one template
 * compiled per ISA file (_scalar and the *_scalar.c files are FC_ISA_BASELINE's, named before
 * the ISA was). */
#define FC_ISA_NAME(NAME, SFX, ISA) FC_CAT(FC_CAT(NAME, SFX), ISA)

/* The body of an entry point that forwards to ISA's instantiation of NAME. */
#define FC_ISA_FORWARD(ISA, SFX, NAME, ARGS)                                                       \
    FC_ISA_SELECT(ISA, FC_ISA_NAME(NAME, SFX, avx512) ARGS, FC_ISA_NAME(NAME, SFX, avx2) ARGS,     \
                  FC_ISA_NAME(NAME, SFX, scalar) ARGS)

/* The declarations of NAME's instances for every ISA, for the entry point that forwards to
 * them (PARAMS empty: objects, such as the GEMM's micro-kernel tables). */
#define FC_ISA_DECLARE(RET, SFX, NAME, PARAMS)                                                     \
    RET FC_ISA_NAME(NAME, SFX, avx512) PARAMS;                                                     \
    RET FC_ISA_NAME(NAME, SFX, avx2) PARAMS;                                                       \
    RET FC_ISA_NAME(NAME, SFX, scalar) PARAMS;

/* What a call decides once, at its entry point, and hands down to every kernel (BLIS's
 * context): the ISA and its micro-kernels.  No kernel reads the global ISA setting, so
 * fc_set_isa from another thread in the middle of a call cannot mix one ISA's tile sizes
 * with another's. */
typedef struct {
    fc_isa isa;
    const fc_ukernel_f32 *ukernel_f32;
    const fc_ukernel_f64 *ukernel_f64;
} fc_cntx;
fc_cntx fc_cntx_now(void);

/* fc_conv2d in a context chosen by the caller: operators built on forward convolutions
 * (conv2d_backprop_input.c) run all of theirs with the ISA decided at their entry point. */
fc_status fc_conv2d_in(const fc_cntx *cx, fc_dtype dtype, const fc_conv_desc *d, fc_algorithm algo,
                       const fc_conv_packed *packed, const fc_view *x, const void *filters,
                       const void *bias, const fc_view *y);
fc_cntx fc_cntx_for(fc_isa isa); /* the context of that ISA (weights packed for it) */
/* The context's micro-kernel for the dtype of a template instantiation. */
#define FC_UKERNEL(cx) ((cx)->FC_CAT(ukernel, FC_SFX))

/* A dense NHWC view: channels, then pixels, then images follow each other in memory. */
static inline int fc_is_dense(const fc_view *v) {
    return v->sc == 1 && v->sw == v->c && v->sh == v->w * v->c && v->sn == v->h * v->w * v->c;
}

/* A dense NCHW array seen as an NHWC view: planes of H x W, one per channel. */
static inline int fc_is_planar(const fc_view *v) {
    return v->sw == 1 && v->sh == v->w && v->sc == v->h * v->w && v->sn == v->c * v->h * v->w;
}

/* Workspace memory aligned for the widest vector loads (NULL on failure). */
static inline void *fc_alloc(size_t bytes) {
    void *p = NULL;
    return posix_memalign(&p, 64, bytes ? bytes : 64) == 0 ? p : NULL;
}

/* `bytes` rounded up to a multiple of 64: the offset of the next array in a workspace that
 * holds several, so that each starts aligned for any element type and vector load. */
static inline size_t fc_align_up(size_t bytes) {
    return (bytes + 63) & ~(size_t)63;
}

/* The next pixel after (n, oy, ox) in a batch of h x w images (walks without dividing). */
static inline void fc_next_pixel(int64_t *n, int64_t *oy, int64_t *ox, int64_t h, int64_t w) {
    if (++*ox == w) {
        *ox = 0;
        if (++*oy == h) {
            *oy = 0;
            ++*n;
        }
    }
}

/* First and one-past-last tap k in [0, k_len) whose input coordinate
 * o * stride - pad + k * dil lies in [0, in_len): taps outside are padding. */
static inline void fc_valid_taps(int64_t o, int64_t stride, int64_t pad, int64_t dil, int64_t k_len,
                                 int64_t in_len, int64_t *k0, int64_t *k1) {
    const int64_t start = o * stride - pad;
    int64_t lo, hi;
    if (dil == 1) { /* the common case, without the divisions (called once per pixel) */
        lo = start < 0 ? -start : 0;
        hi = in_len - start;
    } else {
        lo = start < 0 ? (-start + dil - 1) / dil : 0;
        hi = in_len - start <= 0 ? 0 : (in_len - start + dil - 1) / dil;
    }
    if (hi > k_len) hi = k_len;
    if (hi < 0) hi = 0;
    if (lo > hi) lo = hi;
    *k0 = lo;
    *k1 = hi;
}

/* The greatest common divisor of a and b (positive): dilated windows repeat with period
 * dilation / gcd(stride, dilation) (pooling phases, input-gradient phases). */
static inline int64_t fc_gcd(int64_t a, int64_t b) {
    while (b) {
        const int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Outputs [*lo, *hi) of a dimension whose taps all lie inside the input (no padding tap):
 * the first whose first tap is at or after input 0, up to the last whose last tap is
 * before x_len.  Empty ranges come back as lo == hi. */
static inline void fc_interior_range(int64_t pad, int64_t k, int64_t dil, int64_t stride,
                                     int64_t x_len, int64_t y_len, int64_t *lo, int64_t *hi) {
    const int64_t reach = pad - (k - 1) * dil + x_len - 1;
    *lo = (pad + stride - 1) / stride;
    *hi = reach < 0 ? 0 : reach / stride + 1;
    if (*hi > y_len) *hi = y_len;
    if (*lo > *hi) *lo = *hi;
}

/* Output columns [*lo, *hi) whose taps all lie inside the input row.  Direct kernels block
 * these pixels and treat the others one at a time. */
static inline void fc_interior_cols(const fc_window *win, int64_t x_w, int64_t y_w, int64_t *lo,
                                    int64_t *hi) {
    fc_interior_range(win->pad_left, win->k_w, win->dil_w, win->stride_w, x_w, y_w, lo, hi);
}

/* Whether output pixel (oy, ox) reads input pixel (oy, ox) alone: a 1x1 window at stride 1,
 * no padding, output as large as the input (the 1x1 fast paths: NCHW planes, im2col's row
 * pointers). */
static inline int fc_is_pointwise(const fc_window *win, const fc_view *x, const fc_view *y) {
    return win->k_h == 1 && win->k_w == 1 && win->stride_h == 1 && win->stride_w == 1 &&
           win->pad_top == 0 && win->pad_left == 0 && x->h == y->h && x->w == y->w;
}

#endif
