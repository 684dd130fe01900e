/* Depthwise convolution on NCHW planes for the scalar ISA: the row loops run at this ISA's
 * width (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_internal.h"

#define DP_ISA scalar
#define DP_VBYTES 16
#define FC_TEMPLATE "depthwise_planes_tmpl.h"
#include "fc_instantiate.h"
