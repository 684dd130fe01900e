/* Winograd F(2x2, 3x3) for the avx512 ISA: the transforms vectorize over channels at this
 * ISA's width (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_conv_winograd.h"

#define WG_ISA avx512
#define FC_TEMPLATE "winograd_tmpl.h"
#include "fc_instantiate.h"
