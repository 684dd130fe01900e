/* The micro-kernel of each ISA, a call's context, and the GEMM blocking of the active ISA. */
#include "fc_gemm.h"

#define FC_UKERNEL_TABLE(T, SFX)                                                            \
    extern const FC_CAT(fc_ukernel, SFX) FC_CAT(ukernel_desc_avx512, SFX);                 \
    extern const FC_CAT(fc_ukernel, SFX) FC_CAT(ukernel_desc_avx2, SFX);                   \
    extern const FC_CAT(fc_ukernel, SFX) FC_CAT(ukernel_desc_scalar, SFX);                 \
    const FC_CAT(fc_ukernel, SFX) *FC_CAT(fc_ukernel_for, SFX)(fc_isa isa) {                \
        switch (isa) {                                                                      \
        case FC_ISA_AVX512: FC_IF_X86(return &FC_CAT(ukernel_desc_avx512, SFX);)            \
        case FC_ISA_AVX2: FC_IF_X86(return &FC_CAT(ukernel_desc_avx2, SFX);)                \
        case FC_ISA_BASELINE: break;                                                        \
        }                                                                                   \
        return &FC_CAT(ukernel_desc_scalar, SFX);                                           \
    }
FC_UKERNEL_TABLE(float, f32)
FC_UKERNEL_TABLE(double, f64)

fc_cntx fc_cntx_now(void) {
    const fc_isa isa = fc_get_isa();   /* read once per call */
    const fc_cntx cx = {isa, fc_ukernel_for_f32(isa), fc_ukernel_for_f64(isa)};
    return cx;
}

void fc_gemm_blocking(fc_dtype dtype, int *mr, int *nr, int *mc, int *panel_bytes) {
    const fc_isa isa = fc_get_isa();
    *mr = dtype == FC_FLOAT64 ? fc_ukernel_for_f64(isa)->mr : fc_ukernel_for_f32(isa)->mr;
    *nr = dtype == FC_FLOAT64 ? fc_ukernel_for_f64(isa)->nr : fc_ukernel_for_f32(isa)->nr;
    *mc = FC_GEMM_MC;
    *panel_bytes = FC_GEMM_PANEL_BYTES;
}
