/* The 1x1 kernel for five-vector groups (conv/pointwise_groups_tmpl.h): AVX-512 only.  Its
 * 5 x 5 block needs 30 vector registers; AVX2 and the baseline have 16, and there the
 * register-blocked kernel's 2-vector blocks leave no single-vector pass on 80 float32
 * channels anyway. */
#include "fc_conv_pointwise_groups.h"

/* Whether a call is one for vectors of `lanes` values (see the header): an expression, so
 * that a build without the x86 kernels has no unused helper. */
#define PG_SHAPE(d, x, y, lanes)                                                                   \
    (fc_is_pointwise(&(d)->win, x, y) && (y)->c / (d)->groups == 5 * (lanes) && (x)->sc == 1 &&    \
     (x)->sh == (x)->w * (x)->sw && fc_is_dense(y))

#define PG_PARAMS(T)                                                                               \
    const fc_conv_desc *d, const fc_view *x, const T *w, const T *bias, const fc_view *y,          \
        int64_t n, int64_t oy0, int64_t oy1

#define PG_DISPATCH(T, SFX)                                                                        \
    FC_IF_X86(void FC_ISA_NAME(pointwise_groups_rows, SFX, avx512)(PG_PARAMS(T));)                 \
    int FC_CAT(pointwise_groups_applies, SFX)(const fc_cntx *cx, const fc_conv_desc *d,            \
                                              const fc_view *x, const fc_view *y) {                \
        FC_ISA_SELECT(cx->isa, PG_SHAPE(d, x, y, 64 / (int64_t)sizeof(T)), 0, 0)                   \
    }                                                                                              \
    void FC_CAT(pointwise_groups_rows, SFX)(const fc_cntx *cx, PG_PARAMS(T)) {                     \
        FC_IF_X86(FC_ISA_NAME(pointwise_groups_rows, SFX, avx512)(d, x, w, bias, y, n, oy0, oy1);) \
    }

PG_DISPATCH(float, f32)
PG_DISPATCH(double, f64)
