/* The register-blocked direct kernel (conv/blocked_tmpl.h), whose blocks are sized to
 * the CPU's caches (fc_runtime.h). */
#ifndef FC_CONV_BLOCKED_H
#define FC_CONV_BLOCKED_H

#include "fc_internal.h"
#include "fc_runtime.h"

/* Up to this many input channels per group, the register-blocked direct kernel
 * (conv/blocked_tmpl.h) beats the GEMM, whose reduction per tap is then too short to pay
 * for its packing (a network's first layer). */
#define FC_FEWCH_MAX_C 4

/* Output rows the register-blocked direct kernel computes together (a band: its pixel
 * blocks' height, conv/blocked_tmpl.h); its thread split keeps whole bands. */
#define FC_BLOCKED_BAND 6

/* Whether the register-blocked kernel takes all of a group's cg input channels in one pass:
 * a register block's weights for them (block_bytes per tap and channel: its output vectors)
 * fit in half of L2 (conv/blocked_tmpl.h, blocked_rows; the auto rule for 5x5 windows,
 * operators/conv2d.c, asks it too). */
static inline int fc_blocked_one_pass(const fc_window *win, int64_t cg, int64_t block_bytes) {
    return 2 * (size_t)(win->k_h * win->k_w * cg * block_bytes) <= fc_cache_bytes(2);
}

/* The entry points, per dtype, forwarding to the call context's ISA. */
#define FC_DECLARE_CONV_BLOCKED(T, SFX)                                                            \
    void FC_CAT(blocked_rows, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,     \
                                   const T *w, const T *bias, const fc_view *y, int64_t n0,        \
                                   int64_t n1, int64_t oy0, int64_t oy1, int64_t oc0,              \
                                   int64_t oc1);                                                   \
    int64_t FC_CAT(blocked_block_channels, SFX)(const fc_cntx *cx);                                \
    int FC_CAT(blocked_applies, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *y);
FC_DECLARE_CONV_BLOCKED(float, f32)
FC_DECLARE_CONV_BLOCKED(double, f64)

#endif
