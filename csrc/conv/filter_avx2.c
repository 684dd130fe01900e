/* The image filter for the avx2 ISA: the row loops vectorize at this ISA's width (per-file
 * flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_conv_filter.h"

#define FL_ISA avx2
#define FL_VBYTES 32
#define FC_TEMPLATE "filter_tmpl.h"
#include "fc_instantiate.h"
