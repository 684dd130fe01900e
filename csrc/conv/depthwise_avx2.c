/* Depthwise convolution for the avx2 ISA: the channel loops vectorize at this ISA's width
 * (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_conv_depthwise.h"

#define DW_ISA avx2
#define DW_VBYTES 32
#define FC_TEMPLATE "depthwise_tmpl.h"
#include "fc_instantiate.h"
