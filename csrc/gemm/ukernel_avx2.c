/* GEMM micro-kernels for AVX2 + FMA (ymm): float32 6x16 and float64 6x8 tiles, 12 of the 16 ymm registers hold accumulators.
 * Compiled with this ISA's flags only (csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_gemm.h"

#define UK_ISA avx2
#define UK_VBYTES 32
#define UK_MR_F32 6
#define UK_NV_F32 2
#define UK_MR_F64 6
#define UK_NV_F64 2
#define FC_TEMPLATE "ukernel_tmpl.h"
#include "fc_instantiate.h"
