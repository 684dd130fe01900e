/* Pooling gradient and argmax kernels for the avx512 ISA: vectors of 64 bytes (zmm); per-file flags in csrc/CMakeLists.txt, called only when the CPU has the ISA. */
#include "fc_pool_grad.h"

#define PG_ISA avx512
#define PG_VBYTES 64
#define FC_TEMPLATE "pool_grad_tmpl.h"
#include "fc_instantiate.h"
