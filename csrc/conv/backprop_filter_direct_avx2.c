/* The unpacked filter gradient for the avx2 ISA: 12 accumulator registers of 32 bytes, up
 * to 2 vectors of output channels a tile (per-file flags in csrc/CMakeLists.txt); called
 * only when the CPU has it. */
#include "fc_backprop_filter.h"

#define BK_ISA avx2
#define BK_VBYTES 32
#define BK_ACC 12
#define BK_NVMAX 2
#define FC_TEMPLATE "backprop_filter_direct_tmpl.h"
#include "fc_instantiate.h"
