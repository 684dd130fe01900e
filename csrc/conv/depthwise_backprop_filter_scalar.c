/* The depthwise filter gradient for the scalar ISA: the channel loops vectorize at this ISA's
 * width (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_backprop_filter.h"

#define BD_ISA scalar
#define BD_VBYTES 16
#define FC_TEMPLATE "depthwise_backprop_filter_tmpl.h"
#include "fc_instantiate.h"
