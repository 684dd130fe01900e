/* The layout transpose for the avx512 ISA: its tiles are one vector of this ISA wide (per-file
 * flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_internal.h"

#define TR_ISA avx512
#define TR_VBYTES 64
#define FC_TEMPLATE "transpose_tmpl.h"
#include "fc_instantiate.h"
