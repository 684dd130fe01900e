/* Direct convolution for few input channels: the entry points, forwarding to the call
 * context's ISA's instantiation of fewch_tmpl.h. */
#include "fc_internal.h"

#define FW_PARAMS(T)                                                                        \
    const fc_conv_desc *d, const fc_view *x, const T *w, const T *bias, const fc_view *y,   \
        int64_t n, int64_t oy0, int64_t oy1

#define FW_ISA_DECL(T, SFX, ISA)                                                            \
    void FC_CAT(FC_CAT(fewch_rows, SFX), ISA)(FW_PARAMS(T));                                \
    int64_t FC_CAT(FC_CAT(fewch_lanes, SFX), ISA)(void);

#define FW_DISPATCH(T, SFX)                                                                 \
    FW_ISA_DECL(T, SFX, avx512)                                                             \
    FW_ISA_DECL(T, SFX, avx2)                                                               \
    FW_ISA_DECL(T, SFX, scalar)                                                             \
    void FC_CAT(fewch_rows, SFX)(const fc_cntx *cx, FW_PARAMS(T)) {                         \
        FC_ISA_FORWARD(cx->isa, SFX, fewch_rows, (d, x, w, bias, y, n, oy0, oy1))           \
    }                                                                                       \
    int FC_CAT(fewch_applies, SFX)(const fc_cntx *cx, const fc_conv_desc *d,                \
                                   const fc_view *x, const fc_view *y) {                    \
        int64_t lanes;                                                                      \
        switch (cx->isa) {                                                                  \
        case FC_ISA_AVX512: lanes = FC_CAT(FC_CAT(fewch_lanes, SFX), avx512)(); break;      \
        case FC_ISA_AVX2: lanes = FC_CAT(FC_CAT(fewch_lanes, SFX), avx2)(); break;          \
        default: lanes = FC_CAT(FC_CAT(fewch_lanes, SFX), scalar)(); break;                 \
        }                                                                                   \
        return d->groups == 1 && x->c <= FC_FEWCH_MAX_C && y->c % lanes == 0;               \
    }

FW_DISPATCH(float, f32)
FW_DISPATCH(double, f64)
