/* Pooling gradient and argmax kernels for the avx2 ISA: vectors of 32 bytes (ymm); per-file flags in csrc/CMakeLists.txt, called only when the CPU has the ISA. */
#include "fc_pool_grad.h"

#define PG_ISA avx2
#define PG_VBYTES 32
#define FC_TEMPLATE "pool_grad_tmpl.h"
#include "fc_instantiate.h"
