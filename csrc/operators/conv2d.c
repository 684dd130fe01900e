/* conv2d: check arguments -> choose the algorithm -> split the work -> kernel. */
#include <stdlib.h>
#include <string.h>
#include "fc_conv_kernels.h"
#include "fc_runtime.h"
#include "fc_parallel.h"

/* Layout copies (conv2d_tmpl.h): channel blocks of a strided copy, rows and columns of a
 * transpose task (columns: 256 KiB of 64 rows, whole tiles of any ISA). */
enum { CV_CB = 16, CV_RB = 64, CV_CC = 1024 };
/* Depthwise on NCHW planes in place from this output width on (conv2d_tmpl.h, planes_apply). */
enum { CV_PLANES_W = 24 };
/* Output channels per task of the 1x1 NCHW kernel's weight transpose (conv2d_tmpl.h). */
enum { CV_PW_ROWS = 64 };
/* The direct kernels' aligned copy of the filters (conv2d_tmpl.h): bytes per task, and the
 * blocks of pixels from which filters larger than half of L2 are copied too. */
enum { CV_ALIGN_BYTES = 256 * 1024, CV_ALIGN_BLOCKS = 16 };
/* The direct algorithm's kernels (conv2d_tmpl.h's direct_plan picks one per call). */
enum { DK_GENERIC, DK_FILTER, DK_BLOCKED, DK_GROUPED, DK_FEWOUT, DK_DEPTHWISE, DK_POINTWISE };

#define FC_TEMPLATE "conv2d_tmpl.h"
#include "fc_instantiate.h"

int fc_winograd_applies(const fc_conv_desc *d) {
    const fc_window *w = &d->win;
    return w->k_h == 3 && w->k_w == 3 && w->stride_h == 1 && w->stride_w == 1 && w->dil_h == 1 &&
           w->dil_w == 1 && d->groups == 1;
}

/* Multiply-adds per output pixel and input channel over a call, counted by taps: all of
 * them, those inside the input (the direct kernels compute only these; the GEMM multiplies
 * the others by a zero row), and those of the corner pixels, whose windows overhang both a
 * row edge and a column edge (the direct kernels' blocks of one pixel, conv/pixel_blocks.h). */
typedef struct {
    double all, inside, corners;
} tap_counts;

/* Taps along one axis: output positions [0, out_len) of a window of k_len taps. */
static void count_axis(int64_t out_len, int64_t stride, int64_t pad, int64_t dil, int64_t k_len,
                       int64_t in_len, int64_t *inside, int64_t *edges) {
    *inside = *edges = 0;
    for (int64_t o = 0; o < out_len; o++) {
        int64_t k0, k1;
        fc_valid_taps(o, stride, pad, dil, k_len, in_len, &k0, &k1);
        *inside += k1 - k0;
        if (k1 - k0 < k_len) *edges += k1 - k0;
    }
}

static tap_counts count_taps(const fc_window *win, const fc_view *x, const fc_view *y) {
    int64_t rows, cols, edge_rows, edge_cols;
    count_axis(y->h, win->stride_h, win->pad_top, win->dil_h, win->k_h, x->h, &rows, &edge_rows);
    count_axis(y->w, win->stride_w, win->pad_left, win->dil_w, win->k_w, x->w, &cols, &edge_cols);
    return (tap_counts){(double)(y->h * win->k_h) * (double)(y->w * win->k_w),
                        (double)rows * (double)cols, (double)edge_rows * (double)edge_cols};
}

/* The algorithm "auto" runs, for a call whose context is cx. */
static fc_algorithm choose(const fc_cntx *cx, fc_dtype dtype, const fc_conv_desc *d,
                           const fc_view *x, const fc_view *y, int prepacked) {
    /* Measured on the suite (1 thread, thread CPU time; the GEMM and Winograd on an AMD Zen 5,
     * the direct kernels on an Intel Xeon, both AVX-512; the ratios carry over, the times not):
     * - Winograd F(2x2,3x3) beats the GEMM by 1.4-1.7x on 3x3 stride-1 layers with 64-256
     *   channels, but its 16 transformed filter matrices cost as much as the GEMM when the
     *   image has few 2x2 tiles (7x7x512: 0.6x), and the transforms dominate with few
     *   channels.  So: eligible shape, at least 32 tiles, 16 input and output channels.
     * - Image filters (1-4 channels in and out): the filter kernel vectorizes along the
     *   output row while the GEMM's tile is at most 4/64 used: 720p 5x5 1.6 ms against 42,
     *   kitten-gray 3x3/3 0.026 against 0.097, kitten-rgb 3x3/3 (3 -> 3) 0.083 against 0.139,
     *   28x28 5x5 0.013 against 0.047.
     * - A few input channels into whole vectors of output channels (a first layer): the
     *   few-channel kernel, where the GEMM's reduction is only C x taps long: lenet-c1 0.97 ms
     *   against 2.8, keras-mnist-c1 0.29 against 0.86, AlexNet 11x11/4 0.97 against 1.22,
     *   r50-conv1 7x7/2 1.74 against 2.25.
     * - Few output pixels and many weights (r50-3x3-7: 49 pixels, 9.4 MB of weights): the
     *   GEMM packed every weight for a handful of tiles, while the register-blocked direct
     *   kernel reads the filter as it is: 4.3 ms against 4.6 (Winograd 9.0, 16 tiles).
     *   Since the GEMM's tasks pack their own weights where one pixel block takes them all,
     *   it wins on the largest of these (see below).
     * - Small images whose padding takes a sixteenth of the taps or more (lenet-c2): the
     *   direct kernel skips those taps and wins when it reads the input once (see below).
     * - Otherwise the GEMM (or Winograd) wins or ties (blocked direct / GEMM: r50-3x3-28
     *   0.77, r50-1x1-56 0.85, mbv1-pw-56 0.74, vgg-3x3-224 1.06 but Winograd 1.6x faster
     *   still), except on grouped convolutions with one output channel per group
     *   (depthwise-like), or narrow groups (ResNeXt's 32 groups of 4: the grouped kernel 0.35
     *   ms against 7.8, 56x56x128), where its tile is mostly padding. */
    const int64_t tiles = y->n * ((y->h + 1) / 2) * ((y->w + 1) / 2);
    const int64_t macs = y->n * y->h * y->w * y->c * d->win.k_h * d->win.k_w * (x->c / d->groups);
    /* Tiny problems (tiny-8x8: 576 multiply-adds): the GEMM's packing and setup cost more
     * than the arithmetic; the direct kernel has none. */
    if (macs < 16384) return FC_ALGO_DIRECT;
    if (fc_image_filter_applies(d, x, y)) return FC_ALGO_DIRECT;
    const int blocked =
        dtype == FC_FLOAT64 ? blocked_applies_f64(cx, d, y) : blocked_applies_f32(cx, d, y);
    if (blocked && d->groups == 1 && x->c <= FC_FEWCH_MAX_C) return FC_ALGO_DIRECT;
    /* Few output channels from many (an input gradient into a first layer's 1-3 channels):
     * the GEMM's output tile is 1-4 of its 16-64 lanes wide; the few-output kernel fills its
     * lanes with input channels instead: 64x28x28x32 -> 1 channel, 5x5 (lenet-c1's input
     * gradient) 36 ms with the GEMM, 3.7 with it (1 thread, thread CPU time, Xeon AVX-512). */
    if (fc_fewout_applies(d, x, y, dtype == FC_FLOAT64 ? 8 : 4)) return FC_ALGO_DIRECT;
    /* 1x1 convolutions whose groups are five vectors of output channels (80 float32 or 40
     * float64 on AVX-512): the five-vector 1x1 kernel holds a group in one register block,
     * where the GEMM's panels (64 float32 or 32 float64 wide) are 5/8 full.  1 thread, thread
     * CPU time, Xeon AVX-512, direct against the GEMM: 28x28x80 -> 80 0.070 ms against 0.110,
     * 14x14x480 -> 80 (EfficientNet-B0) 0.099 against 0.163, 56x56x240 -> 80 0.82 against
     * 1.20, 8x28x28x32 -> 80 0.24 against 0.39, shufflenet-1x1-28-g3 0.20 against 0.32;
     * float64 28x28x80 -> 40 0.068 against 0.11. */
    if (dtype == FC_FLOAT64 ? pointwise_groups_applies_f64(cx, d, x, y)
                            : pointwise_groups_applies_f32(cx, d, x, y))
        return FC_ALGO_DIRECT;
    /* Weights packed once (fastconv.Conv2D) take away the costs the two rules below weigh:
     * Winograd's filter transform and the GEMM's weight packing.  r50-3x3-7 (16 tiles) with
     * packed weights: Winograd 1.39 ms, the GEMM 1.77, the direct kernel 4.08 (1 thread). */
    if (fc_winograd_applies(d) && tiles >= (prepacked ? 16 : 32) && x->c >= 16 && y->c >= 16)
        return FC_ALGO_WINOGRAD;
    /* Output channels that fill at most half the GEMM's NR-wide tile (an input gradient
     * into 32 channels, as lenet-c2's): the blocked kernel wastes no lanes.  Measured (1
     * thread, thread CPU time, Xeon AVX-512, NR = 64): 64x14x14x64 5x5 -> 32 11.6 ms against
     * the GEMM's 16.5; 56x56x256 1x1 -> 32 0.43 against 0.82; 8x28x28x128 3x3/2 -> 32 1.27
     * against 1.58.  (16x28x28x64 3x3 -> 16 took 2.4 against Winograd's 4.2, but Winograd
     * keeps its shapes until that is measured more widely.) */
    const int64_t nr = dtype == FC_FLOAT64 ? cx->ukernel_f64->nr : cx->ukernel_f32->nr;
    if (blocked && d->groups == 1 && 2 * y->c <= nr) return FC_ALGO_DIRECT;
    /* One block of pixels, weights that outgrow L2 and few padding taps: the GEMM's tasks
     * pack their own weights into L2 as they go (conv/igemm_tmpl.h), which beats the direct
     * kernel's passes over them: r50-3x3-7 (7x7x512 -> 512, 3x3, 9.4 MB, 82% of the taps
     * inside) 3.0 ms against 3.7.  Where padding takes a quarter of the taps or more the
     * direct kernel, which skips them, still wins (4x4x256 -> 256: 0.53 ms against 0.65;
     * 2x2x512 -> 512: 0.90 against 2.4), and so it does on 1 MB of weights (7x7x1024 -> 256
     * 1x1: 0.30 against 0.42); 1 thread, thread CPU time, Xeon AVX-512.  On AMD (Zen 4) the
     * direct kernel, streaming the weights from L3, beat the GEMM's packing on every such
     * window but 1x1 (direct against the GEMM, 1 thread (2 threads), min of alternating
     * processes): r50-3x3-7 1.96 ms against 2.34 (0.99 against 1.18), 8x8x512 -> 512 3x3
     * 2.50 against 3.04 (1.27 against 1.53), 6x6x384 -> 384 0.78 against 0.98 (0.47 against
     * 0.50), 7x7x256 -> 256 0.46 against 0.58 (0.31 against 0.30); but 7x7x1024 -> 1024
     * 1x1 1.58 against 1.11 (0.83 against 0.56): there only 1x1 windows keep the GEMM. */
    const tap_counts taps = count_taps(&d->win, x, y);
    const size_t elem = dtype == FC_FLOAT64 ? sizeof(double) : sizeof(float);
    const size_t wbytes = (size_t)(d->win.k_h * d->win.k_w * x->c * y->c) * elem;
    if (blocked && !prepacked && d->groups == 1 && y->n * y->h * y->w <= FC_GEMM_MC &&
        wbytes > fc_cache_bytes(2) && 4 * taps.inside >= 3 * taps.all &&
        (d->win.k_h * d->win.k_w == 1 || !fc_cpu_is_amd()))
        return FC_ALGO_IM2COL;
    if (blocked && !prepacked && y->n * y->h * y->w <= 2 * FC_GEMM_MC) return FC_ALGO_DIRECT;
    /* A window that overhangs small images by a sixteenth of its taps or more, into at most
     * one register block of output channels: the direct kernel skips the padding taps the
     * GEMM multiplies by zero rows.  lenet-c2 (64x14x14x32 -> 64, 5x5 SAME, 16% of the taps
     * in the padding) 7.5 ms against 8.6; 32x14x14x64 -> 64 7.5 against 8.2; 16x14x14x128 ->
     * 64 7.9 against 8.5; 16x28x28x32 -> 64 (8%) 7.8 against 8.5.  Each further block of
     * output channels reads every input again: 16x14x14x128 -> 128 42 ms against 31, and
     * lenet-c2 on AVX2 (4 blocks of 16) 16.5 against 15.9.  Nor where the corner pixels,
     * in short blocks (across a task's images, or 4 at a time each over its own weights),
     * take over a sixteenth of the work: 8x7x7x64 -> 64 5x5 (23%) 0.69 against 0.52 (0.77
     * with one image a task).  1 thread, thread CPU time, Xeon AVX-512. */
    const int64_t block_channels =
        dtype == FC_FLOAT64 ? blocked_block_channels_f64(cx) : blocked_block_channels_f32(cx);
    if (blocked && d->groups == 1 && y->c <= block_channels &&
        16 * (taps.all - taps.inside) >= taps.all && 16 * taps.corners <= taps.inside)
        return FC_ALGO_DIRECT;
    /* Windows of 25 taps or more whose weights for a register block of output channels, over
     * all of a group's input channels, fit in half of L2 (the blocked kernel then makes one
     * pass over the channels, blocked_tmpl.h), into one register block a group, or two that
     * read an input that fits in half of L2: the blocked kernel reads the filters in place and
     * skips every padding tap, where the GEMM packs the filters on every call and multiplies
     * the padding taps of tiles that mix edge and interior pixels.  Direct against the GEMM,
     * 1 thread (2 threads), min of alternating processes, AMD Zen 4 (1 MiB L2), AVX-512:
     * alexnet-c2-g2 3.66 ms against 3.92 (1.94 against 1.92), 1x56x56x64 -> 64 5x5 5.37
     * against 5.68 (2.69 against 2.83), 4x14x14x32 -> 128 1.19 against 1.33.  Each further
     * block reads the input again: on AVX2 (16-channel blocks, 8 a group) alexnet-c2-g2 took
     * 4.43 against 3.85.  Not more blocks nor bigger inputs (the Xeon's 16x14x14x128 -> 128
     * above), nor where corner pixels take over a sixteenth of the work (the Xeon's 8x7x7x64
     * -> 64), though on Zen 4 the direct kernel won those (20.4 against 20.8, 0.59 against
     * 0.66). */
    const int64_t og = y->c / d->groups, panels = (og + nr - 1) / nr;
    const int64_t blocks = (og + block_channels - 1) / block_channels;
    const size_t x_bytes = (size_t)(x->n * x->h * x->w * x->c) * elem;
    if (blocked && !prepacked && d->win.k_h * d->win.k_w >= 25 &&
        fc_blocked_one_pass(&d->win, x->c / d->groups, block_channels * (int64_t)elem) &&
        (blocks == 1 || (blocks == 2 && 2 * x_bytes <= fc_cache_bytes(2))) &&
        16 * taps.corners <= taps.inside)
        return FC_ALGO_DIRECT;
    /* Groups of whole vectors whose output channels fill under 3/4 of the GEMM's panels (2
     * groups of 32, 56x56: 0.85 ms against 1.71; ShuffleNet's 3 groups of 80, 1x1: 0.26
     * against 0.37 before the five-vector 1x1 kernel took them, 64-wide panels); full panels
     * favour the GEMM (AlexNet's 2 groups of 128, 5x5: 2.72 ms against 2.77 direct with its
     * filters copied aligned, 3.3 without, Xeon; where its blocks' weights fit in half of L2
     * the rule above runs it direct, in one pass over the channels). */
    if (blocked && d->groups > 1 && 4 * og < 3 * panels * nr) return FC_ALGO_DIRECT;
    const int grouped =
        dtype == FC_FLOAT64 ? grouped_applies_f64(cx, d, x, y) : grouped_applies_f32(cx, d, x, y);
    return (d->groups > 1 && y->c == d->groups) || grouped ? FC_ALGO_DIRECT : FC_ALGO_IM2COL;
}

fc_algorithm fc_conv2d_choose(fc_dtype dtype, const fc_conv_desc *d, const fc_view *x,
                              const fc_view *y, int prepacked) {
    const fc_cntx cx = fc_cntx_now();
    return choose(&cx, dtype, d, x, y, prepacked);
}

fc_status fc_conv2d(fc_dtype dtype, const fc_conv_desc *d, fc_algorithm algo, const fc_view *x,
                    const void *filters, const void *bias, const fc_view *y) {
    const fc_cntx cx = fc_cntx_now();
    return fc_conv2d_in(&cx, dtype, d, algo, NULL, x, filters, bias, y);
}

fc_status fc_conv2d_prepacked(fc_dtype dtype, const fc_conv_desc *d, fc_algorithm algo,
                              const fc_conv_packed *packed, const fc_view *x, const void *filters,
                              const void *bias, const fc_view *y) {
    const fc_cntx cx = fc_cntx_now();
    return fc_conv2d_in(&cx, dtype, d, algo, packed, x, filters, bias, y);
}

fc_status fc_conv2d_in(const fc_cntx *cxp, fc_dtype dtype, const fc_conv_desc *d, fc_algorithm algo,
                       const fc_conv_packed *packed, const fc_view *x, const void *filters,
                       const void *bias, const fc_view *y) {
    if (d->groups < 1 || x->c % d->groups || y->c % d->groups || x->n != y->n) return FC_ERR_ARG;
    if (y->n == 0 || y->h == 0 || y->w == 0 || y->c == 0) return FC_OK;
    const fc_cntx cx = *cxp;
    /* Weights packed for another ISA have another layout: pack per call instead. */
    const fc_conv_packed *pk = packed && packed->isa == cx.isa ? packed : NULL;
    if (algo == FC_ALGO_AUTO) algo = choose(&cx, dtype, d, x, y, 0);
    if (algo == FC_ALGO_WINOGRAD && !fc_winograd_applies(d)) return FC_ERR_ARG;
    /* With one channel the channel stride is never used: an NCHW image of one channel is then
     * laid out as dense NHWC, and is read or written in place instead of copied. */
    fc_view xv = *x, yv = *y;
    if (xv.c == 1) xv.sc = 1;
    if (yv.c == 1) yv.sc = 1;
    switch (dtype) {
    case FC_FLOAT32: return conv2d_run_f32(&cx, d, algo, pk, &xv, filters, bias, &yv);
    case FC_FLOAT64: return conv2d_run_f64(&cx, d, algo, pk, &xv, filters, bias, &yv);
    }
    return FC_ERR_ARG;
}

/* Weights can be packed for an algorithm that packs, an ISA this CPU has, and a shape the
 * algorithm can run. */
static int packable(fc_dtype dtype, const fc_conv_desc *d, fc_algorithm algo, fc_isa isa,
                    int64_t c_in, int64_t c_out) {
    return (dtype == FC_FLOAT32 || dtype == FC_FLOAT64) && algo >= FC_ALGO_DIRECT &&
           algo <= FC_ALGO_WINOGRAD && isa >= FC_ISA_SCALAR && isa <= fc_detected_isa() &&
           d->groups >= 1 && c_in >= 1 && c_out >= 1 && c_in % d->groups == 0 &&
           c_out % d->groups == 0 && d->win.k_h >= 1 && d->win.k_w >= 1 &&
           (algo != FC_ALGO_WINOGRAD || fc_winograd_applies(d));
}

size_t fc_conv2d_packed_size(fc_dtype dtype, const fc_conv_desc *d, fc_algorithm algo, fc_isa isa,
                             int64_t c_in, int64_t c_out) {
    if (!packable(dtype, d, algo, isa, c_in, c_out)) return 0;
    const fc_cntx cx = fc_cntx_for(isa);
    return dtype == FC_FLOAT64 ? sizeof(double) * conv2d_packed_elems_f64(&cx, d, algo, c_in, c_out)
                               : sizeof(float) * conv2d_packed_elems_f32(&cx, d, algo, c_in, c_out);
}

fc_status fc_conv2d_pack(fc_dtype dtype, const fc_conv_desc *d, fc_algorithm algo, fc_isa isa,
                         int64_t c_in, int64_t c_out, const void *filters, void *packed,
                         int *nonfinite) {
    if (fc_conv2d_packed_size(dtype, d, algo, isa, c_in, c_out) == 0) return FC_ERR_ARG;
    const fc_cntx cx = fc_cntx_for(isa);
    *nonfinite = dtype == FC_FLOAT64 ? conv2d_pack_f64(&cx, d, algo, c_in, c_out, filters, packed)
                                     : conv2d_pack_f32(&cx, d, algo, c_in, c_out, filters, packed);
    return FC_OK;
}
