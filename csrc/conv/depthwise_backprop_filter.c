/* The depthwise filter gradient: entry points forwarding to the call context's ISA's
 * instantiation (depthwise_backprop_filter_tmpl.h). */
#include "fc_backprop_filter.h"

#define BD_PARAMS(T)                                                                               \
    const fc_conv_desc *d, const fc_view *x, const fc_view *dy, int64_t c0, int64_t c1,            \
        int64_t ky0, int64_t ky1, T *dw, int64_t dw_st, int64_t dw_sc, T *db, int64_t db_sc,       \
        T *acc
#define BD_DISPATCH(T, SFX)                                                                        \
    FC_ISA_DECLARE(void, SFX, bf_depthwise, (BD_PARAMS(T)))                                        \
    FC_ISA_DECLARE(int, SFX, bf_depthwise_lanes, (void))                                           \
    void FC_CAT(bf_depthwise, SFX)(const fc_cntx *cx, BD_PARAMS(T)) {                              \
        FC_ISA_FORWARD(cx->isa, SFX, bf_depthwise,                                                 \
                       (d, x, dy, c0, c1, ky0, ky1, dw, dw_st, dw_sc, db, db_sc, acc))             \
    }                                                                                              \
    int FC_CAT(bf_depthwise_lanes, SFX)(const fc_cntx *cx) {                                       \
        FC_ISA_FORWARD(cx->isa, SFX, bf_depthwise_lanes, ())                                       \
    }

BD_DISPATCH(float, f32)
BD_DISPATCH(double, f64)
