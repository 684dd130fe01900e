/* The image filter for the scalar ISA: the row loops vectorize at this ISA's width (per-file
 * flags in csrc/CMakeLists.txt); called only when the CPU has it. */
#include "fc_conv_filter.h"

#define FL_ISA scalar
#define FL_VBYTES 16
#define FC_TEMPLATE "filter_tmpl.h"
#include "fc_instantiate.h"
