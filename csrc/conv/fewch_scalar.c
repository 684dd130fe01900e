/* The few-input-channel direct kernel for the scalar ISA: the output-channel vectors are this
 * ISA's width (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_internal.h"

#define FW_ISA scalar
#define FW_VBYTES 16
#define FC_TEMPLATE "fewch_tmpl.h"
#include "fc_instantiate.h"
