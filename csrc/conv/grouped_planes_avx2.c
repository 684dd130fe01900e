/* Narrow-group convolution on NCHW planes for the avx2 ISA: the row loops run at this ISA's
 * width (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_conv_grouped.h"

#define GP_ISA avx2
#define GP_VBYTES 32
#define FC_TEMPLATE "grouped_planes_tmpl.h"
#include "fc_instantiate.h"
