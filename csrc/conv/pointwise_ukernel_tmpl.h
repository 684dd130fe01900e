/* The GEMM micro-kernel (gemm/ukernel_tmpl.h) with B read in place, for 1x1 convolutions on
 * NCHW planes (pointwise_planes_tmpl.h): row k of B at b + k * ldc, a plane apart, like the
 * rows of C, instead of a packed panel's NR values apart.  The same template with only the
 * step that loads B changed: every accumulator sums the same products in the same order,
 * so it gives the GEMM's bits.  Template: FC_T, FC_SFX, and per ISA file UK_ISA (planes_*),
 * UK_VBYTES and the GEMM's tile from gemm/ukernel_tiles.h. */
#define UK_STEP(k)                                                                                 \
    do {                                                                                           \
        UK_VEC bv[UK_NV];                                                                          \
        _Pragma("GCC unroll 8") for (int v = 0; v < UK_NV; v++) bv[v] =                            \
            *(const UK_VEC *)(b + v * UK_LANES);                                                   \
        b += ldc; /* the next input plane */                                                       \
        _Pragma("GCC unroll 16") for (int i = 0; i < UK_ROWS; i++) {                               \
            const UK_VEC av = rows[i][k] - (UK_VEC){0};                                            \
            _Pragma("GCC unroll 8") for (int v = 0; v < UK_NV; v++) acc[i][v] += av * bv[v];       \
        }                                                                                          \
    } while (0)
#include "ukernel_tmpl.h" /* undefines UK_STEP */
