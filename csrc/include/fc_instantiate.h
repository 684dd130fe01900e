/* Instantiates the template file named by FC_TEMPLATE once per dtype: float32 and float64
 * kernels come from one source, never from a copy per dtype. */
#define FC_T float
#define FC_SFX f32
#include FC_TEMPLATE
#undef FC_T
#undef FC_SFX

#define FC_T double
#define FC_SFX f64
#include FC_TEMPLATE
#undef FC_T
#undef FC_SFX
