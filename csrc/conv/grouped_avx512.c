/* The narrow-group direct kernel for the avx512 ISA: the vectors are this ISA's width
 * (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_conv_grouped.h"

#define GR_ISA avx512
#define GR_VBYTES 64
#define FC_TEMPLATE "grouped_tmpl.h"
#include "fc_instantiate.h"
