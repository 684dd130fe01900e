/* The GEMM micro-kernel (gemm/ukernel_tmpl.h) with B read in place, for 1x1 convolutions on
 * NCHW planes (pointwise_planes_tmpl.h): row k of B at b + k * ldc, a plane apart, like the
 * rows of C, instead of a packed panel's NR values apart.  The same template with only the
 * distance between B's rows changed: every accumulator sums the same products in the same
 * order, so it gives the GEMM's bits.  Template: FC_T, FC_SFX, and per ISA file UK_ISA (planes_*),
 * UK_VBYTES and the GEMM's tile from gemm/ukernel_tiles.h. */
#define UK_B_ROW ldc      /* the next input plane: the micro-kernel's C stride (its parameter) */
#include "ukernel_tmpl.h" /* undefines UK_B_ROW */
