/* The few-output-channel direct kernel for the avx512 ISA: the input-channel vectors are this
 * ISA's width (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_conv_fewout.h"

#define FO_ISA avx512
#define FO_VBYTES 64
#define FC_TEMPLATE "fewout_tmpl.h"
#include "fc_instantiate.h"
