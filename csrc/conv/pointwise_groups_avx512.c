/* The 1x1 kernel for five-vector groups (conv/pointwise_groups_tmpl.h) for the avx512 ISA
 * (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_conv_pointwise_groups.h"

#define PG_ISA avx512
#define PG_VBYTES 64
#define FC_TEMPLATE "pointwise_groups_tmpl.h"
#include "fc_instantiate.h"
