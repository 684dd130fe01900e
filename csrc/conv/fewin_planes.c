/* A few input channels into NCHW planes: the entry points, forwarding to the call context's
 * ISA's instantiation of fewin_planes_tmpl.h. */
#include "fc_conv_fewin.h"

#define FP_PARAMS(T)                                                                               \
    const fc_conv_desc *d, const fc_view *x, const T *w, const T *bias, const fc_view *y,          \
        int64_t n, int64_t oy0, int64_t oy1, T *ws
#define FP_WS_PARAMS const fc_conv_desc *d, const fc_view *x, const fc_view *y

/* Formatting off: clang-format reads the forwarding bodies (no trailing semicolon) as
 * expressions and runs the functions together. */
/* clang-format off */
#define FP_DISPATCH(T, SFX)                                                                        \
    FC_ISA_DECLARE(void, SFX, fewin_planes_rows, (FP_PARAMS(T)))                                   \
    FC_ISA_DECLARE(size_t, SFX, fewin_planes_workspace, (FP_WS_PARAMS))                            \
    FC_ISA_DECLARE(int, SFX, fewin_planes_pays, (FP_WS_PARAMS))                                    \
    void FC_CAT(fewin_planes_rows, SFX)(const fc_cntx *cx, FP_PARAMS(T)) {                         \
        FC_ISA_FORWARD(cx->isa, SFX, fewin_planes_rows, (d, x, w, bias, y, n, oy0, oy1, ws))       \
    }                                                                                              \
    size_t FC_CAT(fewin_planes_workspace, SFX)(const fc_cntx *cx, FP_WS_PARAMS) {                  \
        FC_ISA_FORWARD(cx->isa, SFX, fewin_planes_workspace, (d, x, y))                            \
    }                                                                                              \
    int FC_CAT(fewin_planes_pays, SFX)(const fc_cntx *cx, FP_WS_PARAMS) {                          \
        FC_ISA_FORWARD(cx->isa, SFX, fewin_planes_pays, (d, x, y))                                 \
    }
/* clang-format on */

FP_DISPATCH(float, f32)
FP_DISPATCH(double, f64)
