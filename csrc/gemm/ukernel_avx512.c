/* GEMM micro-kernels for AVX-512F (zmm): float32 12x32 and float64 12x16 tiles, 24 of the 32 zmm registers hold accumulators.
 * Compiled with this ISA's flags only (csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_internal.h"

#define UK_ISA avx512
#define UK_VBYTES 64
#define UK_MR_F32 12
#define UK_NV_F32 2
#define UK_MR_F64 12
#define UK_NV_F64 2
#define FC_TEMPLATE "ukernel_tmpl.h"
#include "fc_instantiate.h"
