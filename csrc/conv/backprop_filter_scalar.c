/* The filter-gradient GEMM for the scalar ISA: the packing loops vectorize at this ISA's
 * width (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_backprop_filter.h"

#define BF_ISA scalar
#define FC_TEMPLATE "backprop_filter_tmpl.h"
#include "fc_instantiate.h"
