/* Winograd F(2x2, 3x3): the entry points, forwarding to the call context's ISA's instantiation. */
#include "fc_conv_winograd.h"

#define WG_ISA_DECL(T, SFX, ISA)                                                                   \
    int64_t FC_CAT(FC_CAT(winograd_tiles, SFX), ISA)(const fc_cntx *, const fc_view *,             \
                                                     const fc_view *);                             \
    int64_t FC_CAT(FC_CAT(winograd_block_tiles, SFX), ISA)(void);                                  \
    size_t FC_CAT(FC_CAT(winograd_packed_weights_size, SFX),                                       \
                  ISA)(const fc_cntx *, const fc_view *, const fc_view *);                         \
    void FC_CAT(FC_CAT(winograd_pack_weights, SFX), ISA)(                                          \
        const fc_cntx *, const fc_view *, const fc_view *, const T *, int64_t, int64_t, T *);      \
    size_t FC_CAT(FC_CAT(winograd_workspace, SFX), ISA)(const fc_cntx *, const fc_view *,          \
                                                        const fc_view *);                          \
    int FC_CAT(FC_CAT(winograd_block, SFX),                                                        \
               ISA)(const fc_cntx *, const fc_conv_desc *, const fc_view *, const fc_view *,       \
                    const T *, const T *, int64_t, int64_t, int64_t, int64_t, void *);

#define WG_DISPATCH(T, SFX)                                                                        \
    WG_ISA_DECL(T, SFX, avx512)                                                                    \
    WG_ISA_DECL(T, SFX, avx2)                                                                      \
    WG_ISA_DECL(T, SFX, scalar)                                                                    \
    int64_t FC_CAT(winograd_tiles, SFX)(const fc_cntx *cx, const fc_view *x, const fc_view *y){    \
        FC_ISA_FORWARD(cx -> isa, SFX, winograd_tiles,                                             \
                       (cx, x, y))} int64_t FC_CAT(winograd_block_tiles, SFX)(const fc_cntx *cx){  \
        FC_ISA_FORWARD(cx->isa, SFX, winograd_block_tiles,                                         \
                       ())} size_t FC_CAT(winograd_packed_weights_size, SFX)(const fc_cntx *cx,    \
                                                                             const fc_view *x,     \
                                                                             const fc_view *y) {   \
        FC_ISA_FORWARD(cx->isa, SFX, winograd_packed_weights_size, (cx, x, y))                     \
    }                                                                                              \
    void FC_CAT(winograd_pack_weights, SFX)(const fc_cntx *cx, const fc_view *x, const fc_view *y, \
                                            const T *w, int64_t c0, int64_t c1, T *upack){         \
        FC_ISA_FORWARD(cx -> isa, SFX, winograd_pack_weights,                                      \
                       (cx, x, y, w, c0, c1, upack))} size_t FC_CAT(winograd_workspace,            \
                                                                    SFX)(                          \
        const fc_cntx *cx, const fc_view *x, const fc_view *y) {                                   \
        FC_ISA_FORWARD(cx->isa, SFX, winograd_workspace, (cx, x, y))                               \
    }                                                                                              \
    int FC_CAT(winograd_block, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,    \
                                    const fc_view *y, const T *upack, const T *bias, int64_t t0,   \
                                    int64_t t1, int64_t p0, int64_t p1, void *ws) {                \
        FC_ISA_FORWARD(cx->isa, SFX, winograd_block,                                               \
                       (cx, d, x, y, upack, bias, t0, t1, p0, p1, ws))                             \
    }

WG_DISPATCH(float, f32)
WG_DISPATCH(double, f64)
