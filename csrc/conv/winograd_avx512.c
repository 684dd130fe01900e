/* Winograd F(2x2, 3x3) for the avx512 ISA: the NHWC transforms vectorize over channels, the
 * NCHW ones over tiles, at this ISA's width (per-file flags in csrc/CMakeLists.txt); called
 * only when the CPU has it. */
#include "fc_conv_winograd.h"

#define WG_ISA avx512
#define WG_VBYTES 64
#define FC_TEMPLATE "winograd_tmpl.h"
#include "fc_instantiate.h"
#undef FC_TEMPLATE
#define FC_TEMPLATE "winograd_planes_tmpl.h"
#include "fc_instantiate.h"
