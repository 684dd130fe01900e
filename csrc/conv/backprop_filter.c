/* The filter gradient as a GEMM, instantiated for float32 and float64 from one template. */
#include "fc_backprop_filter.h"

#define FC_TEMPLATE "backprop_filter_tmpl.h"
#include "fc_instantiate.h"
