/* Pooling gradient and argmax kernels for the scalar ISA: the portable baseline: 16-byte vectors (SSE2 on x86-64). */
#include "fc_pool_grad.h"

#define PG_ISA scalar
#define PG_VBYTES 16
#define FC_TEMPLATE "pool_grad_tmpl.h"
#include "fc_instantiate.h"
