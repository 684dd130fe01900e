/* A few input channels into NCHW planes for the avx512 ISA: the pixel vectors are this ISA's
 * width (per-file flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_conv_fewin.h"
#include "fc_runtime.h"

#define FP_ISA avx512
#define FP_VBYTES 64
#define FC_TEMPLATE "fewin_planes_tmpl.h"
#include "fc_instantiate.h"
