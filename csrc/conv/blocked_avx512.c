/* The register-blocked direct kernel for the avx512 ISA: the output-channel vectors are this
 * ISA's width (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_conv_blocked.h"

#define BK_ISA avx512
#define BK_VBYTES 64
#define FC_TEMPLATE "blocked_tmpl.h"
#include "fc_instantiate.h"
