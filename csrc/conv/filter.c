/* The image filter (one input and one output channel): the entry points, forwarding to the
 * call context's ISA's instantiation of filter_tmpl.h. */
#include "fc_conv_filter.h"

#define FL_PARAMS(T)                                                                               \
    const fc_conv_desc *d, const fc_view *x, const T *w, const T *bias, const fc_view *y,          \
        int64_t n, int64_t oy0, int64_t oy1, T *ws
#define FL_WS_PARAMS const fc_conv_desc *d, const fc_view *x, const fc_view *y

/* Formatting off: clang-format reads the forwarding bodies (no trailing semicolon) as
 * expressions and runs the functions together. */
/* clang-format off */
#define FL_DISPATCH(T, SFX)                                                                        \
    FC_ISA_DECLARE(void, SFX, filter_rows, (FL_PARAMS(T)))                                         \
    FC_ISA_DECLARE(size_t, SFX, filter_workspace, (FL_WS_PARAMS))                                  \
    void FC_CAT(filter_rows, SFX)(const fc_cntx *cx, FL_PARAMS(T)) {                               \
        FC_ISA_FORWARD(cx->isa, SFX, filter_rows, (d, x, w, bias, y, n, oy0, oy1, ws))             \
    }                                                                                              \
    size_t FC_CAT(filter_workspace, SFX)(const fc_cntx *cx, FL_WS_PARAMS) {                        \
        FC_ISA_FORWARD(cx->isa, SFX, filter_workspace, (d, x, y))                                  \
    }
/* clang-format on */

FL_DISPATCH(float, f32)
FL_DISPATCH(double, f64)
