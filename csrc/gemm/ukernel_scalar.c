/* GEMM micro-kernels for the portable baseline (16-byte vectors, SSE2 on x86-64), of the tile
 * in ukernel_tiles.h.
 * Compiled with this ISA's flags only (csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_gemm.h"

#define UK_ISA scalar
#define UK_VBYTES 16
#include "ukernel_tiles.h"
#define FC_TEMPLATE "ukernel_tmpl.h"
#include "fc_instantiate.h"
