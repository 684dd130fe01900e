/* The depthwise filter gradient for the avx2 ISA: the channel loops vectorize at this ISA's
 * width (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_backprop_filter.h"

#define BD_ISA avx2
#define BD_VBYTES 32
#define FC_TEMPLATE "depthwise_backprop_filter_tmpl.h"
#include "fc_instantiate.h"
