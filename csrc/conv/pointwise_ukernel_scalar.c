/* The in-place-B GEMM micro-kernel of 1x1 NCHW convolutions (pointwise_ukernel_tmpl.h) for
 * the portable baseline (16-byte vectors): the GEMM's tile of this ISA (gemm/ukernel_tiles.h).
 * Compiled with this ISA's flags only (csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_gemm.h"

#define UK_ISA planes_scalar
#define UK_VBYTES 16
#include "ukernel_tiles.h"
#define FC_TEMPLATE "pointwise_ukernel_tmpl.h"
#include "fc_instantiate.h"
