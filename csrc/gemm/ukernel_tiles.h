/* The GEMM micro-kernel's tile for each vector width (UK_VBYTES, defined by the includer):
 * UK_MR_* rows x UK_NV_* vectors of accumulators per dtype.  One copy for the GEMM's
 * micro-kernels (ukernel_*.c) and the 1x1 NCHW planes micro-kernels
 * (conv/pointwise_ukernel_*.c), which run the same tile with B read in place and must have
 * the GEMM's shape (their caller sizes its rows by the GEMM's MR).
 * - 64 bytes (AVX-512, zmm): float32 6x64 and float64 6x32, oneDNN's brgemm shape: 24 of the
 *   32 registers hold accumulators; 4 loads of B and 6 broadcasts feed 24 FMAs, and 6 row
 *   pointers fit in general registers (7x64, 8x48, 8x64 and 12x32 measured 5-20% slower
 *   written this way: GCC spills accumulators or row pointers).
 * - 32 bytes (AVX2 + FMA, ymm): float32 6x16 and float64 6x8, 12 of the 16 registers.
 * - 16 bytes (the portable baseline, SSE2 on x86-64): float32 4x8 and float64 4x4. */
#if UK_VBYTES == 64
#define UK_MR_F32 6
#define UK_NV_F32 4
#define UK_MR_F64 6
#define UK_NV_F64 4
#elif UK_VBYTES == 32
#define UK_MR_F32 6
#define UK_NV_F32 2
#define UK_MR_F64 6
#define UK_NV_F64 2
#else
#define UK_MR_F32 4
#define UK_NV_F32 2
#define UK_MR_F64 4
#define UK_NV_F64 2
#endif
