/* The register-blocked direct kernel for the avx2 ISA: the output-channel vectors are this
 * ISA's width (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_conv_blocked.h"

#define BK_ISA avx2
#define BK_VBYTES 32
#define FC_TEMPLATE "blocked_tmpl.h"
#include "fc_instantiate.h"
