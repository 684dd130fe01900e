/* The unpacked filter gradient: its workspace and the entry points forwarding to the call
 * context's ISA's instantiation (backprop_filter_direct_tmpl.h). */
#include "fc_backprop_filter.h"

size_t fc_bf_direct_workspace(const fc_bf_direct *p, int64_t ow, size_t elem) {
    return fc_align_up(elem * (size_t)(p->chunks * p->mr * p->nb)) +
           fc_align_up(elem * (size_t)(p->prow * p->wp * p->cg)) +
           fc_align_up(elem * (size_t)(p->band * ow * p->nb)) +
           fc_align_up(sizeof(int64_t) * (size_t)(p->chunks * p->mr)) +
           sizeof(int64_t) * (size_t)(7 * p->chunks + 2 * p->kh);
}

#define BK_PARAMS(T)                                                                               \
    const fc_conv_desc *d, const fc_view *x, const fc_view *dy, const fc_bf_direct *p, int64_t g,  \
        int64_t ob, int64_t ch0, int64_t ch1, T *dw, T *db, void *ws
#define BK_DISPATCH(T, SFX)                                                                        \
    FC_ISA_DECLARE(void, SFX, bf_direct, (BK_PARAMS(T)))                                           \
    FC_ISA_DECLARE(void, SFX, bf_direct_shape,                                                     \
                   (const fc_conv_desc *d, const fc_view *x, const fc_view *dy, fc_bf_direct *p))  \
    void FC_CAT(bf_direct, SFX)(const fc_cntx *cx, BK_PARAMS(T)) {                                 \
        FC_ISA_FORWARD(cx->isa, SFX, bf_direct, (d, x, dy, p, g, ob, ch0, ch1, dw, db, ws))        \
    }                                                                                              \
    void FC_CAT(bf_direct_shape, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,  \
                                      const fc_view *dy, fc_bf_direct *p) {                        \
        FC_ISA_FORWARD(cx->isa, SFX, bf_direct_shape, (d, x, dy, p))                               \
    }

BK_DISPATCH(float, f32)
BK_DISPATCH(double, f64)
