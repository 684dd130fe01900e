/* Winograd F(2x2, 3x3) (conv/winograd_tmpl.h); fc_winograd_applies (fastconv.h) says
 * where it runs. */
#ifndef FC_CONV_WINOGRAD_H
#define FC_CONV_WINOGRAD_H

#include "fc_internal.h"
#include "fc_gemm.h"

/* Tiles per block of the NCHW kernel (conv/winograd_planes_tmpl.h): a multiple of every
 * micro-kernel's NR (its tiles are the GEMM's columns), at least NHWC's 60 per block. */
#define FC_WINOGRAD_PLANES_TILES 64

/* The entry points, per dtype, forwarding to the call context's ISA: the NHWC kernel's, then
 * the NCHW kernel's (its weights' rows, its workspace and its block of tiles). */
#define FC_DECLARE_CONV_WINOGRAD(T, SFX)                                                           \
    int64_t FC_CAT(winograd_tiles, SFX)(const fc_cntx *cx, const fc_view *x, const fc_view *y);    \
    int64_t FC_CAT(winograd_block_tiles, SFX)(const fc_cntx *cx);                                  \
    size_t FC_CAT(winograd_packed_weights_size, SFX)(const fc_cntx *cx, const fc_view *x,          \
                                                     const fc_view *y);                            \
    void FC_CAT(winograd_pack_weights, SFX)(const fc_cntx *cx, const fc_view *x, const fc_view *y, \
                                            const T *w, int64_t c0, int64_t c1, T *upack);         \
    size_t FC_CAT(winograd_workspace, SFX)(const fc_cntx *cx, const fc_view *x, const fc_view *y); \
    int FC_CAT(winograd_block, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,    \
                                    const fc_view *y, const T *upack, const T *bias, int64_t t0,   \
                                    int64_t t1, int64_t p0, int64_t p1, void *ws);                 \
    void FC_CAT(winograd_pack_rows, SFX)(const fc_cntx *cx, const fc_view *x, const fc_view *y,    \
                                         const T *w, int64_t o0, int64_t o1, T *ut);               \
    size_t FC_CAT(winograd_planes_workspace, SFX)(const fc_cntx *cx, const fc_view *x,             \
                                                  const fc_view *y);                               \
    int FC_CAT(winograd_planes_block, SFX)(const fc_cntx *cx, const fc_conv_desc *d,               \
                                           const fc_view *x, const fc_view *y, const T *ut,        \
                                           const T *bias, int64_t t0, int64_t t1, void *ws);
FC_DECLARE_CONV_WINOGRAD(float, f32)
FC_DECLARE_CONV_WINOGRAD(double, f64)

#endif
