/* The filter gradient as a GEMM: its dimensions, workspace and the entry point forwarding
 * to the call context's ISA, instantiated for float32 and float64 from one template. */
#include "fc_backprop_filter.h"

/* The arrays of a GEMM task's workspace (bf_ws). */
#define BF_WS_ARRAYS 7

#define FC_TEMPLATE "backprop_filter_dims_tmpl.h"
#include "fc_instantiate.h"
