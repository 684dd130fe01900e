/* fastconv: the C contract between the Python layer and the kernels.
 *
 * Arrays are described by fc_view: a data pointer plus the extent and the element stride
 * (any sign, in elements, not bytes) of each logical dimension in NHWC order.  NCHW, Fortran
 * order, negative strides and other views are therefore read and written in place.
 *
 * Filters are dense HWIO: [k_h][k_w][in_channels / groups][out_channels], output channel oc
 * belongs to group oc / (out_channels / groups).  Depthwise filters [k_h][k_w][C][M] are
 * exactly this layout with groups = C.  bias is NULL or dense [out_channels].
 *
 * Every entry point is safe to call without the GIL and from several threads at once.
 */
#ifndef FASTCONV_H
#define FASTCONV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { FC_FLOAT32 = 0, FC_FLOAT64 = 1 } fc_dtype;

typedef enum {
    FC_OK = 0,
    FC_ERR_NOMEM = 1, /* a workspace allocation failed */
    FC_ERR_ARG = 2    /* an argument the Python layer should have rejected */
} fc_status;

typedef enum {
    FC_ACT_NONE = 0,
    FC_ACT_RELU,
    FC_ACT_RELU6,
    FC_ACT_SIGMOID,
    FC_ACT_TANH
} fc_activation;

typedef enum {
    FC_ALGO_AUTO = 0,
    FC_ALGO_DIRECT,
    FC_ALGO_IM2COL,  /* implicit im2col + GEMM (never the whole patch matrix) */
    FC_ALGO_WINOGRAD /* Winograd F(2x2,3x3): 3x3, stride 1, dilation 1, one group */
} fc_algorithm;

typedef enum { FC_POOL_MAX = 0, FC_POOL_AVG } fc_pool_kind;

/* Instruction sets with their own GEMM micro-kernels, lowest first.  BASELINE: the portable
 * kernels, vectorized at the target's baseline width (16-byte SSE2 vectors on x86-64); once
 * named "scalar", which FASTCONV_ISA and the Python layer still accept. */
typedef enum { FC_ISA_BASELINE = 0, FC_ISA_AVX2 = 1, FC_ISA_AVX512 = 2 } fc_isa;
#define FC_ISA_SCALAR FC_ISA_BASELINE /* the old name */

/* A 4-D array viewed in logical NHWC order. */
typedef struct {
    void *data;
    int64_t n, h, w, c;
    int64_t sn, sh, sw, sc; /* element strides */
} fc_view;

/* A sliding window.  Output pixel (oy, ox) reads input rows oy * stride_h - pad_top +
 * ky * dil_h for ky in [0, k_h); cells outside the input are padding (zero for
 * convolution, not counted for pooling). */
typedef struct {
    int64_t k_h, k_w;
    int64_t stride_h, stride_w;
    int64_t dil_h, dil_w;
    int64_t pad_top, pad_left;
} fc_window;

typedef struct {
    fc_window win;
    int64_t groups;
    fc_activation activation;
} fc_conv_desc;

/* y = activation(conv(x, filters) + bias).  x: [n, h, w, C]; y: [n, out_h, out_w, out_C]. */
fc_status fc_conv2d(fc_dtype dtype, const fc_conv_desc *desc, fc_algorithm algorithm,
                    const fc_view *x, const void *filters, const void *bias, const fc_view *y);

/* Weights packed once for repeated calls with the same filters (a layer's): what an
 * algorithm otherwise rearranges on every call -- the GEMM's weight panels (im2col),
 * Winograd's transformed filters, the grouped direct kernel's rotated filters.  Each part
 * is NULL (that algorithm packs per call, as fc_conv2d does) or filled by fc_conv2d_pack for
 * `isa`; a call made while another ISA is active ignores them all.  The packed form depends
 * on the dtype, the ISA, the window size, the groups and the channel counts, never on the
 * batch, image size, strides, dilations or padding. */
typedef struct {
    fc_isa isa;
    const void *im2col;
    int im2col_nonfinite; /* fc_conv2d_pack's report: the filters hold Inf or NaN */
    const void *winograd;
    const void *grouped;
} fc_conv_packed;

/* Bytes of `algorithm`'s packed weights (FC_ALGO_DIRECT: the grouped kernel's) for that ISA
 * and channel counts; 0 where it reads the filters as they are or cannot run them. */
size_t fc_conv2d_packed_size(fc_dtype dtype, const fc_conv_desc *desc, fc_algorithm algorithm,
                             fc_isa isa, int64_t in_channels, int64_t out_channels);
/* Fills `packed` (fc_conv2d_packed_size bytes, aligned for the dtype) from dense HWIO
 * filters; *nonfinite (FC_ALGO_IM2COL) tells whether a filter value is Inf or NaN.
 * FC_ERR_ARG for a size of 0 or an ISA this CPU lacks. */
fc_status fc_conv2d_pack(fc_dtype dtype, const fc_conv_desc *desc, fc_algorithm algorithm,
                         fc_isa isa, int64_t in_channels, int64_t out_channels, const void *filters,
                         void *packed, int *nonfinite);
/* fc_conv2d, bit for bit, with the parts of `packed` (NULL: none) used instead of packing
 * the filters again; `filters` are still read by whatever runs unpacked. */
fc_status fc_conv2d_prepacked(fc_dtype dtype, const fc_conv_desc *desc, fc_algorithm algorithm,
                              const fc_conv_packed *packed, const fc_view *x, const void *filters,
                              const void *bias, const fc_view *y);

/* The gradient of fc_conv2d with respect to its input (desc, filters: the forward call's;
 * dy: [n, out_h, out_w, out_C]; dx: [n, h, w, C]), and conv2d_transpose:
 * dx = activation(conv2d_backprop_input(dy, filters) + bias), bias NULL or dense [C].
 * dx is written whole (cells no tap reaches get activation(bias), or 0). */
fc_status fc_conv2d_backprop_input(fc_dtype dtype, const fc_conv_desc *desc, const fc_view *dy,
                                   const void *filters, const void *bias, const fc_view *dx);

/* The gradient of conv2d with respect to its filters: dw = d(sum(conv(x, W) * dy)) / dW,
 * and with db, the bias gradient db = dy summed over n, out_h and out_w.  x: [n, h, w, C];
 * dy: [n, out_h, out_w, out_C] (views); dw: dense HWIO [k_h][k_w][C / groups][out_C]; db:
 * NULL or dense [out_C].  desc->activation is ignored.  Every value is written, and is
 * bit-identical for any thread count. */
fc_status fc_conv2d_backprop_filter(fc_dtype dtype, const fc_conv_desc *desc, const fc_view *x,
                                    const fc_view *dy, void *dw, void *db);

/* Max pooling propagates NaN; padding cells never win.  Avg pooling divides window (oy, ox)
 * by div_h[oy] * div_w[ox] (dense [out_h] and [out_w], both given or both NULL: the
 * divisor conventions, such as count_include_pad, live in the Python layer), or, where they
 * are NULL, by the number of real (unpadded) cells.  Any dilation; every window must hold a
 * real cell. */
fc_status fc_pool2d(fc_dtype dtype, fc_pool_kind kind, const fc_window *win, const fc_view *x,
                    const fc_view *y, const double *div_h, const double *div_w);

/* The gradient of fc_pool2d: dx (x's shape, written whole) from g (y's shape).  Max: each
 * window's g goes to the cell its maximum came from, the window's first NaN in row-major
 * order where it holds one, else its first maximum (TensorFlow's rule for ties); x is the
 * forward input.  Avg: g over the window's real cells goes to each of them; only x's shape
 * is read.  Every cell of dx sums its contributions in output order: bit-identical for any
 * thread count. */
fc_status fc_pool2d_grad(fc_dtype dtype, fc_pool_kind kind, const fc_window *win, const fc_view *x,
                         const fc_view *g, const fc_view *dx);

/* Max pooling that also returns, for each output, where its value came from (the cell
 * fc_pool2d_grad gives the gradient): argmax is a view of int64 elements of y's shape,
 * holding index_strides[0] * n + [1] * row + [2] * column + [3] * channel. */
fc_status fc_max_pool2d_argmax(fc_dtype dtype, const fc_window *win, const fc_view *x,
                               const fc_view *y, const fc_view *argmax,
                               const int64_t index_strides[4]);

/* Threads used by the next call from this thread: set_num_threads and threadpoolctl both
 * act through OpenMP's per-thread setting; 1 where built without OpenMP.  Counts are
 * clamped to [1, the CPUs this process may run on]. */
void fc_set_num_threads(int n);
int fc_get_num_threads(void);
/* The calling thread's own limit (OpenMP's per-thread setting, clamped the same way) without
 * the process-wide request fc_set_num_threads also records: for a pool thread that shares
 * the CPUs with its siblings (fastconv.dask on Dask's threaded scheduler), whose setting must
 * not cap the rest of the process.  fc_thread_num_threads reads it back (unclamped by the
 * process-wide request), so that it can be restored. */
void fc_set_thread_num_threads(int n);
int fc_thread_num_threads(void);
/* The CPUs this process may run on (its affinity mask; read at first use, again whenever the
 * thread count is set, and after fork). */
int fc_cpus_available(void);
int fc_have_openmp(void);
/* The parallel layer's view of the machine: the thread cap it applies now because calls
 * were kept waiting by other processes (0: none), how many calls on several threads it has
 * judged so since the process started, and how many calls ran on several threads. */
void fc_parallel_stats(int *cap, int64_t *contended_calls, int64_t *parallel_calls);
/* Feeds the contention rule one call's cost as if a call on `threads` threads had taken
 * `wall` seconds and its threads `cpu` seconds of work: what every parallel call does, open
 * so that tests can drive the rule without loading the machine. */
void fc_parallel_observe(int threads, double wall, double cpu);

/* CPU dispatch.  The best ISA the CPU supports is detected once; the environment variable
 * FASTCONV_ISA=avx512|avx2|baseline (or scalar, its old name; any case; read once) or fc_set_isa lowers it, so that
 * tests and benchmarks can exercise every variant; an unknown value or one above the CPU's
 * is ignored.  fc_set_isa returns FC_ERR_ARG for an ISA the CPU lacks. */
fc_isa fc_detected_isa(void);
fc_isa fc_get_isa(void);
fc_status fc_set_isa(fc_isa isa);
const char *fc_isa_name(fc_isa isa);
/* The GEMM blocking of the active ISA for a dtype: the MR x NR register tile, the output
 * pixels per task (MC) and the byte budget of one packed weight panel (kept in L2). */
void fc_gemm_blocking(fc_dtype dtype, int *mr, int *nr, int *mc, int *panel_bytes);

/* Whether FC_ALGO_WINOGRAD can run this convolution (3x3, stride 1, dilation 1, 1 group). */
int fc_winograd_applies(const fc_conv_desc *desc);

/* The algorithm fc_conv2d runs for FC_ALGO_AUTO on this problem with the active ISA
 * (prepacked = 0), or the one to run with weights packed once (prepacked = 1: what
 * fastconv.Conv2D's "auto" picks, and then runs explicitly). */
fc_algorithm fc_conv2d_choose(fc_dtype dtype, const fc_conv_desc *desc, const fc_view *x,
                              const fc_view *y, int prepacked);

#ifdef __cplusplus
}
#endif
#endif
