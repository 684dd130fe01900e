/* The narrow-group direct kernel: the entry points, forwarding to the call context's ISA's
 * instantiation of grouped_tmpl.h. */
#include "fc_conv_grouped.h"

#define GR_PARAMS(T)                                                                               \
    const fc_conv_desc *d, const fc_view *x, const T *wr, const T *bias, const fc_view *y,         \
        int64_t n, int64_t oy0, int64_t oy1, void *ws
#define GR_PACK_PARAMS(T) const fc_conv_desc *d, const fc_view *y, const T *w, int64_t tap, T *wr

#define GR_WS_PARAMS const fc_conv_desc *d, const fc_view *x, const fc_view *y

#define GR_DISPATCH(T, SFX)                                                                        \
    FC_ISA_DECLARE(size_t, SFX, grouped_workspace, (GR_WS_PARAMS))                                 \
    FC_ISA_DECLARE(void, SFX, grouped_rows, (GR_PARAMS(T)))                                        \
    FC_ISA_DECLARE(void, SFX, grouped_pack, (GR_PACK_PARAMS(T)))                                   \
    FC_ISA_DECLARE(int64_t, SFX, grouped_lanes, (void))                                            \
    void FC_CAT(grouped_rows, SFX)(const fc_cntx *cx, GR_PARAMS(T)) {                              \
        FC_ISA_FORWARD(cx->isa, SFX, grouped_rows, (d, x, wr, bias, y, n, oy0, oy1, ws))           \
    }                                                                                              \
    void FC_CAT(grouped_pack, SFX)(const fc_cntx *cx, GR_PACK_PARAMS(T)) {                         \
        FC_ISA_FORWARD(cx->isa, SFX, grouped_pack, (d, y, w, tap, wr))                             \
    }                                                                                              \
    static int64_t FC_CAT(grouped_lanes, SFX)(const fc_cntx *cx){FC_ISA_FORWARD(                   \
        cx -> isa, SFX, grouped_lanes, ())} size_t FC_CAT(grouped_workspace,                       \
                                                          SFX)(const fc_cntx *cx, GR_WS_PARAMS) {  \
        FC_ISA_FORWARD(cx->isa, SFX, grouped_workspace, (d, x, y))                                 \
    }                                                                                              \
    /* As many input as output channels per group, 2 or more and fewer than a vector's     \
     * lanes, which they divide; whole vectors of output channels. */       \
    int FC_CAT(grouped_applies, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,   \
                                     const fc_view *y) {                                           \
        const int64_t lanes = FC_CAT(grouped_lanes, SFX)(cx), og = y->c / d->groups;               \
        return d->groups > 1 && x->c == y->c && og >= 2 && og < lanes && lanes % og == 0 &&        \
               y->c % lanes == 0;                                                                  \
    }

GR_DISPATCH(float, f32)
GR_DISPATCH(double, f64)
