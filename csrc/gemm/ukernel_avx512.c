/* GEMM micro-kernels for AVX-512F (zmm): float32 6x64 and float64 6x32 tiles, oneDNN's
 * brgemm shape: 24 of the 32 zmm registers hold accumulators; 4 loads of B and 6
 * broadcasts feed 24 FMAs, and 6 row pointers fit in general registers.
 * Compiled with this ISA's flags only (csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_gemm.h"

#define UK_ISA avx512
#define UK_VBYTES 64
#define UK_MR_F32 6
#define UK_NV_F32 4
#define UK_MR_F64 6
#define UK_NV_F64 4
#define FC_TEMPLATE "ukernel_tmpl.h"
#include "fc_instantiate.h"
