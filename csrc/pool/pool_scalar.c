/* Pooling kernels for the portable baseline: 16-byte vectors (SSE2 on x86-64). */
#include "fc_pool.h"

#define PL_ISA scalar
#define PL_VBYTES 16
#define FC_TEMPLATE "pool_tmpl.h"
#include "fc_instantiate.h"
