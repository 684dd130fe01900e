/* Bias and activation applied to one output pixel's channels while they are still in the
 * accumulator (template: FC_T, FC_SFX; <tgmath.h> picks float or double math). */
#include <tgmath.h>

static inline void FC_FN(epilogue_store)(const FC_T *acc, int64_t count, const FC_T *bias,
                                         fc_activation act, FC_T *out, int64_t out_stride) {
    for (int64_t i = 0; i < count; i++) {
        FC_T v = acc[i] + (bias ? bias[i] : (FC_T)0);
        switch (act) {
        case FC_ACT_RELU: v = v > 0 ? v : (v != v ? v : (FC_T)0); break;
        case FC_ACT_RELU6: v = v != v ? v : (v < 0 ? (FC_T)0 : (v > 6 ? (FC_T)6 : v)); break;
        case FC_ACT_SIGMOID: v = (FC_T)1 / ((FC_T)1 + exp(-v)); break;
        case FC_ACT_TANH: v = tanh(v); break;
        case FC_ACT_NONE: break;
        }
        out[i * out_stride] = v;
    }
}
