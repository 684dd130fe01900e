/* Declarations shared by the kernel files (not part of the public contract). */
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
 * applied before the store. */
#define FC_DECLARE_UKERNEL_TYPE(T, SFX)                                                     \
    typedef struct {                                                                        \
        void (*run)(int64_t ntaps, int64_t kc, const T *const *a, int64_t a_off,            \
                    const T *b, T *c, int64_t ldc, int accumulate, const T *bias,           \
                    fc_activation act);                                                     \
        int mr, nr;                                                                         \
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

/* The body of an entry point that forwards to ISA's instantiation of NAME
 * (NAME_SFX_avx512, _avx2, _scalar: one template compiled per ISA file; _scalar and the
 * *_scalar.c files are FC_ISA_BASELINE's, named before the ISA was). */
#define FC_ISA_FORWARD(ISA, SFX, NAME, ARGS)                                                \
    switch (ISA) {                                                                          \
    case FC_ISA_AVX512: FC_IF_X86(return FC_CAT(FC_CAT(NAME, SFX), avx512) ARGS;)           \
    case FC_ISA_AVX2: FC_IF_X86(return FC_CAT(FC_CAT(NAME, SFX), avx2) ARGS;)               \
    case FC_ISA_BASELINE: break;                                                              \
    }                                                                                       \
    return FC_CAT(FC_CAT(NAME, SFX), scalar) ARGS;

/* The prototypes of NAME's instantiations for every ISA (NAME_SFX_avx512, _avx2, _scalar),
 * for the entry point that forwards to them. */
#define FC_ISA_DECLARE(RET, SFX, NAME, PARAMS)                                              \
    RET FC_CAT(FC_CAT(NAME, SFX), avx512) PARAMS;                                           \
    RET FC_CAT(FC_CAT(NAME, SFX), avx2) PARAMS;                                             \
    RET FC_CAT(FC_CAT(NAME, SFX), scalar) PARAMS;

/* The micro-kernels of an ISA (gemm/kernels.c). */
const fc_ukernel_f32 *fc_ukernel_for_f32(fc_isa isa);
const fc_ukernel_f64 *fc_ukernel_for_f64(fc_isa isa);

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
fc_status fc_conv2d_in(const fc_cntx *cx, fc_dtype dtype, const fc_conv_desc *d,
                       fc_algorithm algo, const fc_view *x, const void *filters,
                       const void *bias, const fc_view *y);
/* The context's micro-kernel for the dtype of a template instantiation. */
#define FC_UKERNEL(cx) ((cx)->FC_CAT(ukernel, FC_SFX))

/* The data cache of each core, in bytes: level 1 (L1d) or 2 (runtime/cpu.c). */
size_t fc_cache_bytes(int level);

/* Bytes of one packed B panel (ntaps x channel block x NR): it stays in L2 (1-2 MiB a core
 * on current x86 CPUs) while every row panel of a pixel block streams past it; the channel
 * block is cut to fit. */
#define FC_GEMM_PANEL_BYTES (256 * 1024)

/* Output pixels per GEMM task: a multiple of every MR, large enough to amortize a task
 * and its indirection buffer, small enough that 2 threads get several tasks on a 14x14
 * layer. */
#define FC_GEMM_MC 96

/* One pooling call as its kernels see it (filled once per call by operators/pool2d_tmpl.h;
 * pool/pool_tmpl.h describes the kernel and its buffer).  width: planes are single channels
 * with contiguous rows (NCHW), else whole images with contiguous channels (NHWC).
 * col_cells[ox] and row_cells[oy], as FC_T: the average's divisor for a window is their
 * product (the real input columns and rows under it, unless the caller gave divisors).  Channels mode works on block_cols output columns at a
 * time; width mode on batch_rows output rows, `pitch` windows apart in the buffer, and
 * with `flat` on all of a batch's windows in one pass (divs: every window's divisor, pitch
 * per output row, for averages); row_len: the cells between a batch's rows in the buffer
 * (pitch * stride_w when flat).  slack: cells the buffer keeps past its last window. */
typedef struct {
    fc_pool_kind kind;
    const fc_window *win;
    const fc_view *x, *y;
    int width, flat;
    const void *col_cells, *row_cells, *divs;
    int64_t block_cols, batch_rows, pitch, row_len, slack;
    int64_t prefetch;   /* how far ahead of its loads the vertical pass prefetches */
} fc_pool_job;

/* Whether the image-filter kernel (conv/filter_tmpl.h) runs a direct convolution: a few
 * channels in and out, one group. */
#define FC_FILTER_MAX_C 4
#define FC_FILTER_MAX_OUT 4
static inline int fc_image_filter_applies(const fc_conv_desc *d, const fc_view *x,
                                          const fc_view *y) {
    return d->groups == 1 && x->c <= FC_FILTER_MAX_C && y->c <= FC_FILTER_MAX_OUT;
}

/* Up to this many input channels per group, the register-blocked direct kernel
 * (conv/blocked_tmpl.h) beats the GEMM, whose reduction per tap is then too short to pay
 * for its packing (a network's first layer). */
#define FC_FEWCH_MAX_C 4

/* The few-output-channel direct kernel (conv/fewout_tmpl.h): at most this many output
 * channels, and at least one 64-byte group of input channels (its partial sums), one group.
 * Its workspace is the filter repacked with channels contiguous. */
#define FC_FEWOUT_MAX_OUT 4
static inline int fc_fewout_applies(const fc_conv_desc *d, const fc_view *x, const fc_view *y,
                                    size_t elem) {
    return d->groups == 1 && y->c <= FC_FEWOUT_MAX_OUT && x->c >= (int64_t)(64 / elem);
}

/* The kernels, one declaration per dtype (defined from one template source each). */
#define FC_DECLARE_KERNELS(T, SFX)                                                          \
    void FC_CAT(direct_conv_rows, SFX)(const fc_conv_desc *d, const fc_view *x,             \
                                       const T *w, const T *bias, const fc_view *y,         \
                                       int64_t n, int64_t oy0, int64_t oy1, T *acc);        \
    void FC_CAT(gemm_macro, SFX)(const FC_CAT(fc_ukernel, SFX) *uk, int64_t m, int64_t n,   \
                                 int64_t ntaps, int64_t kc, const T *const *ind,            \
                                 int64_t a_off, const T *bp, int64_t panel_stride, T *c,    \
                                 int64_t ldc, int accumulate, int finish, const T *bias,    \
                                 fc_activation act);                                        \
    int64_t FC_CAT(im2col_panels, SFX)(const fc_cntx *cx, const fc_conv_desc *d,            \
                                       const fc_view *x, const fc_view *y);                 \
    size_t FC_CAT(im2col_packed_weights_size, SFX)(const fc_cntx *cx, const fc_conv_desc *d, \
                                                   const fc_view *x, const fc_view *y);     \
    int FC_CAT(im2col_pack_weights, SFX)(const fc_cntx *cx, const fc_conv_desc *d,          \
                                         const fc_view *x, const fc_view *y, const T *w,    \
                                         int64_t unit, T *wpack);                           \
    size_t FC_CAT(im2col_workspace, SFX)(const fc_cntx *cx, const fc_conv_desc *d,          \
                                         const fc_view *x, const fc_view *y, int64_t mc);   \
    void FC_CAT(im2col_conv_block, SFX)(const fc_cntx *cx, const fc_conv_desc *d,           \
                                        const fc_view *x, const fc_view *y, const T *wpack, \
                                        const T *bias, T *yd, int64_t m0, int64_t m1,       \
                                        int64_t g, int64_t p0, int64_t p1, void *ws);       \
    int64_t FC_CAT(winograd_tiles, SFX)(const fc_cntx *cx, const fc_view *x, const fc_view *y); \
    int64_t FC_CAT(winograd_block_tiles, SFX)(const fc_cntx *cx);                           \
    size_t FC_CAT(winograd_packed_weights_size, SFX)(const fc_cntx *cx, const fc_view *x,   \
                                                     const fc_view *y);                     \
    void FC_CAT(winograd_pack_weights, SFX)(const fc_cntx *cx, const fc_view *x,            \
                                            const fc_view *y, const T *w, int64_t c0,       \
                                            int64_t c1, T *upack);                          \
    size_t FC_CAT(winograd_workspace, SFX)(const fc_cntx *cx, const fc_view *x,             \
                                           const fc_view *y);                               \
    int FC_CAT(winograd_block, SFX)(const fc_cntx *cx, const fc_conv_desc *d,               \
                                    const fc_view *x, const fc_view *y, const T *upack,     \
                                    const T *bias, int64_t t0, int64_t t1, void *ws);       \
    void FC_CAT(depthwise_rows, SFX)(const fc_cntx *cx, const fc_conv_desc *d,              \
                                     const fc_view *x, const T *w, const T *bias,           \
                                     const fc_view *y, int64_t n, int64_t oy0, int64_t oy1, \
                                     T *acc);                                               \
    void FC_CAT(filter_rows, SFX)(const fc_cntx *cx, const fc_conv_desc *d,                 \
                                  const fc_view *x, const T *w, const T *bias,              \
                                  const fc_view *y, int64_t n, int64_t oy0, int64_t oy1,    \
                                  T *ws);                                                   \
    size_t FC_CAT(filter_workspace, SFX)(const fc_cntx *cx, const fc_conv_desc *d,          \
                                         const fc_view *x, const fc_view *y);               \
    void FC_CAT(blocked_rows, SFX)(const fc_cntx *cx, const fc_conv_desc *d,                \
                                   const fc_view *x, const T *w, const T *bias,             \
                                   const fc_view *y, int64_t n, int64_t oy0, int64_t oy1);  \
    int FC_CAT(blocked_applies, SFX)(const fc_cntx *cx, const fc_conv_desc *d,              \
                                     const fc_view *y);                                     \
    void FC_CAT(grouped_rows, SFX)(const fc_cntx *cx, const fc_conv_desc *d,                \
                                   const fc_view *x, const T *wr, const T *bias,            \
                                   const fc_view *y, int64_t n, int64_t oy0, int64_t oy1);  \
    void FC_CAT(grouped_pack, SFX)(const fc_cntx *cx, const fc_conv_desc *d,                \
                                   const fc_view *y, const T *w, int64_t tap, T *wr);       \
    int FC_CAT(grouped_applies, SFX)(const fc_cntx *cx, const fc_conv_desc *d,              \
                                     const fc_view *x, const fc_view *y);                   \
    void FC_CAT(fewout_rows, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x, \
                                  const T *w, const T *bias, const fc_view *y, int64_t n,   \
                                  int64_t oy0, int64_t oy1, T *ws);                         \
    void FC_CAT(pool_rows, SFX)(const fc_cntx *cx, const fc_pool_job *j, int64_t plane,     \
                                int64_t oy0, int64_t oy1, T *buf);

FC_DECLARE_KERNELS(float, f32)
FC_DECLARE_KERNELS(double, f64)

/* A dense NHWC view: channels, then pixels, then images follow each other in memory. */
static inline int fc_is_dense(const fc_view *v) {
    return v->sc == 1 && v->sw == v->c && v->sh == v->w * v->c && v->sn == v->h * v->w * v->c;
}

/* Workspace memory aligned for the widest vector loads (NULL on failure). */
static inline void *fc_alloc(size_t bytes) {
    void *p = NULL;
    return posix_memalign(&p, 64, bytes ? bytes : 64) == 0 ? p : NULL;
}

/* `bytes` rounded up to a multiple of 64: the offset of the next array in a workspace that
 * holds several, so that each starts aligned for any element type and vector load. */
static inline size_t fc_align_up(size_t bytes) { return (bytes + 63) & ~(size_t)63; }

/* Per-thread buffers kept across calls (runtime/scratch.c), one per use. */
typedef enum {
    FC_SCRATCH_WEIGHTS = 0,   /* packed GEMM weights (calling thread) */
    FC_SCRATCH_INPUT,         /* dense NHWC copy of a strided input (calling thread) */
    FC_SCRATCH_OUTPUT,        /* dense NHWC result before a strided store (calling thread) */
    FC_SCRATCH_TASK,          /* a worker's per-task workspace (each OpenMP thread) */
    FC_SCRATCH_PHASE_FILTER,  /* an input gradient's flipped phase filter (calling thread) */
    FC_SCRATCH_SLOTS
} fc_scratch_slot;
void *fc_scratch(fc_scratch_slot slot, size_t bytes);
void fc_scratch_release(fc_scratch_slot slot);   /* at the end of a call */

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
static inline void fc_valid_taps(int64_t o, int64_t stride, int64_t pad, int64_t dil,
                                 int64_t k_len, int64_t in_len, int64_t *k0, int64_t *k1) {
    const int64_t start = o * stride - pad;
    int64_t lo, hi;
    if (dil == 1) {   /* the common case, without the divisions (called once per pixel) */
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

/* Output columns [*lo, *hi) whose taps all lie inside the input row (no padding tap): the
 * first whose first tap is at or right of column 0, up to the last whose last tap is left
 * of x_w.  Direct kernels block these pixels and treat the others one at a time. */
static inline void fc_interior_cols(const fc_window *win, int64_t x_w, int64_t y_w,
                                    int64_t *lo, int64_t *hi) {
    const int64_t reach = win->pad_left - (win->k_w - 1) * win->dil_w + x_w - 1;
    *lo = (win->pad_left + win->stride_w - 1) / win->stride_w;
    *hi = reach < 0 ? 0 : reach / win->stride_w + 1;
    if (*hi > y_w) *hi = y_w;
    if (*lo > *hi) *lo = *hi;
}

#endif
