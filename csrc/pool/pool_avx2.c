/* Pooling kernels for the avx2 ISA: vectors of 32 bytes (ymm); per-file flags in
 * csrc/CMakeLists.txt, called only when the CPU has the ISA. */
#include "fc_pool.h"

#define PL_ISA avx2
#define PL_VBYTES 32
#define FC_TEMPLATE "pool_tmpl.h"
#include "fc_instantiate.h"
