/* The register-blocked direct kernel: the entry points, forwarding to the call context's
 * ISA's instantiation of blocked_tmpl.h. */
#include "fc_conv_blocked.h"

#define BK_PARAMS(T)                                                                               \
    const fc_conv_desc *d, const fc_view *x, const T *w, const T *bias, const fc_view *y,          \
        int64_t n0, int64_t n1, int64_t oy0, int64_t oy1, int64_t oc0, int64_t oc1

#define BK_DISPATCH(T, SFX)                                                                        \
    FC_ISA_DECLARE(void, SFX, blocked_rows, (BK_PARAMS(T)))                                        \
    FC_ISA_DECLARE(int64_t, SFX, blocked_lanes, (void))                                            \
    FC_ISA_DECLARE(int64_t, SFX, blocked_block_channels, (void))                                   \
    void FC_CAT(blocked_rows, SFX)(const fc_cntx *cx, BK_PARAMS(T)) {                              \
        FC_ISA_FORWARD(cx->isa, SFX, blocked_rows, (d, x, w, bias, y, n0, n1, oy0, oy1, oc0, oc1)) \
    }                                                                                              \
    static int64_t FC_CAT(blocked_lanes, SFX)(const fc_cntx *cx){FC_ISA_FORWARD(                   \
        cx -> isa, SFX, blocked_lanes, ())} int64_t FC_CAT(blocked_block_channels,                 \
                                                           SFX)(const fc_cntx *cx) {               \
        FC_ISA_FORWARD(cx->isa, SFX, blocked_block_channels, ())                                   \
    }                                                                                              \
    int FC_CAT(blocked_applies, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *y) { \
        return (y->c / d->groups) % FC_CAT(blocked_lanes, SFX)(cx) == 0;                           \
    }

BK_DISPATCH(float, f32)
BK_DISPATCH(double, f64)
