/* Bias and activation applied to `count` output channels of one pixel on their way out
 * (template: FC_T, FC_SFX; <tgmath.h> picks float or double math).  One loop per
 * activation, so that each vectorizes; `acc` and `out` may be the same array.  NaN passes
 * through ReLU and ReLU6, as in TensorFlow. */
#include <tgmath.h>

#ifndef FC_VEC_RELU
/* ReLU of a GCC vector of FC_T as epilogue_store's loop computes it, for the kernels that
 * store from registers: the negative lanes' bits cleared (NaN and -0 pass: their compare
 * is false).  v: a variable (it is read three times). */
#define FC_VEC_RELU(v) ((__typeof__(v))((__typeof__((v) < (v)))(v) & ~((v) < (__typeof__(v)){0})))
#endif

static inline void FC_FN(epilogue_store)(const FC_T *acc, int64_t count, const FC_T *bias,
                                         fc_activation act, FC_T *out, int64_t out_stride) {
#define FC_EPILOGUE_LOOP(EXPR)                                                                     \
    for (int64_t i = 0; i < count; i++) {                                                          \
        const FC_T v = acc[i] + (bias ? bias[i] : (FC_T)0);                                        \
        out[i * out_stride] = (EXPR);                                                              \
    }
    switch (act) {
    case FC_ACT_RELU: FC_EPILOGUE_LOOP(v < 0 ? (FC_T)0 : v) break;
    case FC_ACT_RELU6: FC_EPILOGUE_LOOP(v < 0 ? (FC_T)0 : (v > 6 ? (FC_T)6 : v)) break;
    case FC_ACT_SIGMOID: FC_EPILOGUE_LOOP((FC_T)1 / ((FC_T)1 + exp(-v))) break;
    case FC_ACT_TANH: FC_EPILOGUE_LOOP(tanh(v)) break;
    case FC_ACT_NONE: FC_EPILOGUE_LOOP(v) break;
    }
#undef FC_EPILOGUE_LOOP
}
