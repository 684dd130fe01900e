/* GEMM micro-kernels for portable baseline (16-byte vectors, SSE2 on x86-64): float32 4x8 and float64 4x4 tiles.
 * Compiled with this ISA's flags only (csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_gemm.h"

#define UK_ISA scalar
#define UK_VBYTES 16
#define UK_MR_F32 4
#define UK_NV_F32 2
#define UK_MR_F64 4
#define UK_NV_F64 2
#define FC_TEMPLATE "ukernel_tmpl.h"
#include "fc_instantiate.h"
