/* Depthwise convolution on NCHW planes for the avx2 ISA: the row loops run at this ISA's
 * width (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_internal.h"

#define DP_ISA avx2
#define DP_VBYTES 32
#define FC_TEMPLATE "depthwise_planes_tmpl.h"
#include "fc_instantiate.h"
