/* im2col + GEMM convolution, instantiated for float32 and float64 from one template. */
#include "fc_conv_im2col.h"

#define FC_TEMPLATE "im2col_tmpl.h"
#include "fc_instantiate.h"
