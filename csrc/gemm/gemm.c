/* The GEMM loops, instantiated for float32 and float64 from one template. */
#include "fc_gemm.h"

#define FC_TEMPLATE "gemm_tmpl.h"
#include "fc_instantiate.h"
