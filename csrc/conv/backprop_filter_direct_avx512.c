/* The unpacked filter gradient for the avx512 ISA: 24 accumulator registers of 64 bytes, up
 * to 4 vectors of output channels a tile (per-file flags in csrc/CMakeLists.txt); called
 * only when the CPU has it. */
#include "fc_backprop_filter.h"

#define BK_ISA avx512
#define BK_VBYTES 64
#define BK_ACC 24
#define BK_NVMAX 4
#define FC_TEMPLATE "backprop_filter_direct_tmpl.h"
#include "fc_instantiate.h"
