/* Winograd F(2x2, 3x3): the entry points, forwarding to the call context's ISA's
 * instantiations of winograd_tmpl.h (NHWC, and the weights of both layouts) and
 * winograd_planes_tmpl.h (NCHW). */
#include "fc_conv_winograd.h"

#define WG_VIEWS const fc_cntx *cx, const fc_view *x, const fc_view *y
#define WG_BLOCK(T)                                                                                \
    const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x, const fc_view *y, const T *upack,  \
        const T *bias, int64_t t0, int64_t t1, int64_t p0, int64_t p1, void *ws
#define WG_PACK(T)                                                                                 \
    const fc_cntx *cx, const fc_view *x, const fc_view *y, const T *w, int64_t a, int64_t b, T *u
#define WG_PLANES(T)                                                                               \
    const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x, const fc_view *y, const T *ut,     \
        const T *bias, int64_t t0, int64_t t1, void *ws

/* Formatting off: clang-format reads the forwarding bodies (no trailing semicolon) as
 * expressions and runs the functions together. */
/* clang-format off */
#define WG_DISPATCH(T, SFX)                                                                        \
    FC_ISA_DECLARE(int64_t, SFX, winograd_tiles, (WG_VIEWS))                                       \
    FC_ISA_DECLARE(int64_t, SFX, winograd_block_tiles, (void))                                     \
    FC_ISA_DECLARE(size_t, SFX, winograd_packed_weights_size, (WG_VIEWS))                          \
    FC_ISA_DECLARE(void, SFX, winograd_pack_weights, (WG_PACK(T)))                                 \
    FC_ISA_DECLARE(void, SFX, winograd_pack_rows, (WG_PACK(T)))                                    \
    FC_ISA_DECLARE(size_t, SFX, winograd_workspace, (WG_VIEWS))                                    \
    FC_ISA_DECLARE(int, SFX, winograd_block, (WG_BLOCK(T)))                                        \
    FC_ISA_DECLARE(size_t, SFX, winograd_planes_workspace, (WG_VIEWS))                             \
    FC_ISA_DECLARE(int, SFX, winograd_planes_block, (WG_PLANES(T)))                                \
    int64_t FC_CAT(winograd_tiles, SFX)(WG_VIEWS) {                                                \
        FC_ISA_FORWARD(cx->isa, SFX, winograd_tiles, (cx, x, y))                                   \
    }                                                                                              \
    int64_t FC_CAT(winograd_block_tiles, SFX)(const fc_cntx *cx) {                                 \
        FC_ISA_FORWARD(cx->isa, SFX, winograd_block_tiles, ())                                     \
    }                                                                                              \
    size_t FC_CAT(winograd_packed_weights_size, SFX)(WG_VIEWS) {                                   \
        FC_ISA_FORWARD(cx->isa, SFX, winograd_packed_weights_size, (cx, x, y))                     \
    }                                                                                              \
    void FC_CAT(winograd_pack_weights, SFX)(WG_PACK(T)) {                                          \
        FC_ISA_FORWARD(cx->isa, SFX, winograd_pack_weights, (cx, x, y, w, a, b, u))                \
    }                                                                                              \
    void FC_CAT(winograd_pack_rows, SFX)(WG_PACK(T)) {                                             \
        FC_ISA_FORWARD(cx->isa, SFX, winograd_pack_rows, (cx, x, y, w, a, b, u))                   \
    }                                                                                              \
    size_t FC_CAT(winograd_workspace, SFX)(WG_VIEWS) {                                             \
        FC_ISA_FORWARD(cx->isa, SFX, winograd_workspace, (cx, x, y))                               \
    }                                                                                              \
    int FC_CAT(winograd_block, SFX)(WG_BLOCK(T)) {                                                 \
        FC_ISA_FORWARD(cx->isa, SFX, winograd_block,                                               \
                       (cx, d, x, y, upack, bias, t0, t1, p0, p1, ws))                             \
    }                                                                                              \
    size_t FC_CAT(winograd_planes_workspace, SFX)(WG_VIEWS) {                                      \
        FC_ISA_FORWARD(cx->isa, SFX, winograd_planes_workspace, (cx, x, y))                        \
    }                                                                                              \
    int FC_CAT(winograd_planes_block, SFX)(WG_PLANES(T)) {                                         \
        FC_ISA_FORWARD(cx->isa, SFX, winograd_planes_block, (cx, d, x, y, ut, bias, t0, t1, ws))   \
    }
/* clang-format on */

WG_DISPATCH(float, f32)
WG_DISPATCH(double, f64)
