/* A few input channels into NCHW planes for the avx2 ISA: the pixel vectors are this ISA's
 * width (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_conv_fewin.h"
#include "fc_runtime.h"

#define FP_ISA avx2
#define FP_VBYTES 32
#define FC_TEMPLATE "fewin_planes_tmpl.h"
#include "fc_instantiate.h"
