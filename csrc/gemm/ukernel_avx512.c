/* GEMM micro-kernels for AVX-512F (zmm), of the tile in ukernel_tiles.h.
 * Compiled with this ISA's flags only (csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_gemm.h"

#define UK_ISA avx512
#define UK_VBYTES 64
#include "ukernel_tiles.h"
#define FC_TEMPLATE "ukernel_tmpl.h"
#include "fc_instantiate.h"
