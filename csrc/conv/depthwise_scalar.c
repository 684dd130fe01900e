/* Depthwise convolution for the scalar ISA: the channel loops vectorize at this ISA's width
 * (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_conv_depthwise.h"

#define DW_ISA scalar
#define DW_VBYTES 16
#define FC_TEMPLATE "depthwise_tmpl.h"
#include "fc_instantiate.h"
