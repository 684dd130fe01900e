/* Direct convolution for few input channels: the entry points, forwarding to the call
 * context's ISA's instantiation of fewch_tmpl.h. */
#include "fc_internal.h"

#define FW_PARAMS(T)                                                                        \
    const fc_conv_desc *d, const fc_view *x, const T *w, const T *bias, const fc_view *y,   \
        int64_t n, int64_t oy0, int64_t oy1

#define FW_DISPATCH(T, SFX)                                                                 \
    FC_ISA_DECLARE(void, SFX, fewch_rows, (FW_PARAMS(T)))                                   \
    FC_ISA_DECLARE(int64_t, SFX, fewch_lanes, (void))                                       \
    void FC_CAT(fewch_rows, SFX)(const fc_cntx *cx, FW_PARAMS(T)) {                         \
        FC_ISA_FORWARD(cx->isa, SFX, fewch_rows, (d, x, w, bias, y, n, oy0, oy1))           \
    }                                                                                       \
    static int64_t FC_CAT(fewch_lanes, SFX)(const fc_cntx *cx) {                            \
        FC_ISA_FORWARD(cx->isa, SFX, fewch_lanes, ())                                       \
    }                                                                                       \
    int FC_CAT(fewch_applies, SFX)(const fc_cntx *cx, const fc_conv_desc *d,                \
                                   const fc_view *x, const fc_view *y) {                    \
        return d->groups == 1 && x->c <= FC_FEWCH_MAX_C &&                                  \
               y->c % FC_CAT(fewch_lanes, SFX)(cx) == 0;                                    \
    }

FW_DISPATCH(float, f32)
FW_DISPATCH(double, f64)
