/* The micro-kernel of each ISA, a call's context, and the GEMM blocking of the active ISA. */
#include "fc_gemm.h"
#include "fc_runtime.h"

/* Each ISA's table (gemm/ukernel_tmpl.h: ukernel_desc_SFX_ISA), picked by the same switch
 * as every family's entry points. */
#define FC_UKERNEL_TABLE(T, SFX)                                                                   \
    FC_ISA_DECLARE(extern const FC_CAT(fc_ukernel, SFX), SFX, ukernel_desc, )                      \
    const FC_CAT(fc_ukernel, SFX) * FC_CAT(fc_ukernel_for, SFX)(fc_isa isa) {                      \
        FC_ISA_SELECT(isa, &FC_ISA_NAME(ukernel_desc, SFX, avx512),                                \
                      &FC_ISA_NAME(ukernel_desc, SFX, avx2),                                       \
                      &FC_ISA_NAME(ukernel_desc, SFX, scalar))                                     \
    }
FC_UKERNEL_TABLE(float, f32)
FC_UKERNEL_TABLE(double, f64)

fc_cntx fc_cntx_for(fc_isa isa) {
    const fc_cntx cx = {isa, fc_ukernel_for_f32(isa), fc_ukernel_for_f64(isa)};
    return cx;
}

fc_cntx fc_cntx_now(void) {
    return fc_cntx_for(fc_get_isa()); /* read once per call */
}

int64_t fc_gemm_panel_bytes(void) {
    const int64_t bytes = (int64_t)fc_cache_bytes(2) / 8;
    return bytes > (64 << 10) ? bytes : (64 << 10);
}

void fc_gemm_blocking(fc_dtype dtype, int *mr, int *nr, int *mc, int *panel_bytes) {
    const fc_isa isa = fc_get_isa();
    *mr = dtype == FC_FLOAT64 ? fc_ukernel_for_f64(isa)->mr : fc_ukernel_for_f32(isa)->mr;
    *nr = dtype == FC_FLOAT64 ? fc_ukernel_for_f64(isa)->nr : fc_ukernel_for_f32(isa)->nr;
    *mc = FC_GEMM_MC;
    *panel_bytes = (int)fc_gemm_panel_bytes();
}
