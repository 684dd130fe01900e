/* 1x1 convolutions on NCHW planes, instantiated for float32 and float64 from one template. */
#include "fc_conv_pointwise.h"
#include "fc_transpose.h"

int fc_pointwise_planes_applies(const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    return fc_is_pointwise(&d->win, x, y) && x->sc != 1 && y->sc != 1 && fc_is_planar(x) &&
           fc_is_planar(y);
}

/* Each ISA's micro-kernel that reads B in place (pointwise_ukernel_*.c), per dtype. */
#define PW_UKERNEL_FOR(SFX)                                                                        \
    extern const FC_CAT(fc_ukernel, SFX) FC_CAT(FC_CAT(ukernel_desc, SFX), planes_avx512),         \
        FC_CAT(FC_CAT(ukernel_desc, SFX), planes_avx2),                                            \
        FC_CAT(FC_CAT(ukernel_desc, SFX), planes_scalar);                                          \
    static const FC_CAT(fc_ukernel, SFX) * FC_CAT(pw_ukernel, SFX)(fc_isa isa) {                   \
        FC_ISA_SELECT(isa, &FC_CAT(FC_CAT(ukernel_desc, SFX), planes_avx512),                      \
                      &FC_CAT(FC_CAT(ukernel_desc, SFX), planes_avx2),                             \
                      &FC_CAT(FC_CAT(ukernel_desc, SFX), planes_scalar))                           \
    }
PW_UKERNEL_FOR(f32)
PW_UKERNEL_FOR(f64)

#define FC_TEMPLATE "pointwise_planes_tmpl.h"
#include "fc_instantiate.h"
