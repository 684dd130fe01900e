/* The few-input-channel direct kernel for the avx512 ISA: the output-channel vectors are this
 * ISA's width (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_internal.h"

#define FW_ISA avx512
#define FW_VBYTES 64
#define FC_TEMPLATE "fewch_tmpl.h"
#include "fc_instantiate.h"
