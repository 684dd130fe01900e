/* The narrow-group direct kernel for the scalar ISA: the vectors are this ISA's width
 * (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_conv_grouped.h"

#define GR_ISA scalar
#define GR_VBYTES 16
#define FC_TEMPLATE "grouped_tmpl.h"
#include "fc_instantiate.h"
