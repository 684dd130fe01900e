/* Pooling kernels for the avx512 ISA: vectors of 64 bytes (zmm); per-file flags in
 * csrc/CMakeLists.txt, called only when the CPU has the ISA. */
#include "fc_pool.h"

#define PL_ISA avx512
#define PL_VBYTES 64
#define FC_TEMPLATE "pool_tmpl.h"
#include "fc_instantiate.h"
