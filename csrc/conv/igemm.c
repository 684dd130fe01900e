/* The indirect GEMM convolution (the public algorithm "im2col"), instantiated for float32
 * and float64 from one template. */
#include "fc_conv_igemm.h"

#define FC_TEMPLATE "igemm_tmpl.h"
#include "fc_instantiate.h"
