/* Direct convolution into few output channels: the entry points, forwarding to the call
 * context's ISA's instantiation of fewout_tmpl.h. */
#include "fc_conv_fewout.h"

#define FO_PARAMS(T)                                                                               \
    const fc_conv_desc *d, const fc_view *x, const T *w, const T *bias, const fc_view *y,          \
        int64_t n, int64_t oy0, int64_t oy1, T *ws

#define FO_DISPATCH(T, SFX)                                                                        \
    FC_ISA_DECLARE(void, SFX, fewout_rows, (FO_PARAMS(T)))                                         \
    void FC_CAT(fewout_rows, SFX)(const fc_cntx *cx, FO_PARAMS(T)) {                               \
        FC_ISA_FORWARD(cx->isa, SFX, fewout_rows, (d, x, w, bias, y, n, oy0, oy1, ws))             \
    }

FO_DISPATCH(float, f32)
FO_DISPATCH(double, f64)
