/* Instantiates the template file named by FC_TEMPLATE once per dtype: float32 and float64
 * kernels come from one source, never from a copy per dtype. */
#define FC_T float
#define FC_SFX f32
#define FC_T_IS_DOUBLE 0
#include FC_TEMPLATE
#undef FC_T
#undef FC_SFX
#undef FC_T_IS_DOUBLE

#define FC_T double
#define FC_SFX f64
#define FC_T_IS_DOUBLE 1
#include FC_TEMPLATE
#undef FC_T
#undef FC_SFX
#undef FC_T_IS_DOUBLE
