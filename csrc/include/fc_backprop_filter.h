/* Declarations shared by the filter-gradient kernels (conv/backprop_filter*.c,
 * conv/depthwise_backprop_filter*.c) and their operator
 * (operators/conv2d_backprop_filter_tmpl.h). */
#ifndef FC_BACKPROP_FILTER_H
#define FC_BACKPROP_FILTER_H

#include "fc_internal.h"
#include "fc_gemm.h"
#include "fc_runtime.h"

/* A run of B panel columns that one pixel's patch holds side by side in the input
 * (conv/backprop_filter_tmpl.h): from tap (ky, kx) channel ci, len columns, up to tap
 * (ky, kx_last). */
typedef struct {
    int32_t ky, kx, kx_last, ci, len;
} fc_bf_run;

#define FC_DECLARE_BACKPROP_FILTER(T, SFX)                                                         \
    /* The GEMM's dimensions: channels per group in and out, taps, r = taps x cg filter   \
     * rows, NR-wide panels of them, pixels per block (kc), the micro-kernel's tile. */        \
    typedef struct {                                                                               \
        int64_t cg, og, taps, r, npanel, kc;                                                       \
        int mr, nr;                                                                                \
    } FC_CAT(bf_dims, SFX);                                                                        \
    /* A GEMM task's workspace: its block of C [rows][panels x NR], dyT rows [rows][kc], a \
     * full and a partial B panel, the indirection buffer, the runs of each panel and     \
     * where each panel's runs start. */       \
    typedef struct {                                                                               \
        T *c, *a, *full, *part;                                                                    \
        const T **ind;                                                                             \
        fc_bf_run *runs;                                                                           \
        int64_t *run_at;                                                                           \
    } FC_CAT(bf_ws, SFX);                                                                          \
    FC_CAT(bf_dims, SFX)                                                                           \
    FC_CAT(bf_gemm_dims, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,          \
                              const fc_view *dy);                                                  \
    size_t FC_CAT(bf_gemm_workspace, SFX)(const FC_CAT(bf_dims, SFX) * s, int64_t rows,            \
                                          int64_t panels, int with_c);                             \
    FC_CAT(bf_ws, SFX)                                                                             \
    FC_CAT(bf_ws_split, SFX)(const FC_CAT(bf_dims, SFX) * s, int64_t rows, int64_t panels,         \
                             int with_c, void *ws);                                                \
    void FC_CAT(bf_gemm_block, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,    \
                                    const fc_view *dy, const FC_CAT(bf_dims, SFX) * s, int64_t g,  \
                                    int64_t o0, int64_t o1, int64_t p0, int64_t p1, T *dw, T *db,  \
                                    void *ws);                                                     \
    void FC_CAT(bf_gemm_block_swapped,                                                             \
                SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,                   \
                     const fc_view *dy, const FC_CAT(bf_dims, SFX) * s, int64_t g, int64_t r0,     \
                     int64_t r1, int64_t p0, int64_t p1, T *dw, T *db, void *ws);                  \
    void FC_CAT(bf_depthwise, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,     \
                                   const fc_view *dy, int64_t c0, int64_t c1, int64_t ky0,         \
                                   int64_t ky1, T *dw, int64_t dw_st, int64_t dw_sc, T *db,        \
                                   int64_t db_sc, T *acc);                                         \
    int FC_CAT(bf_depthwise_lanes, SFX)(const fc_cntx *cx);

FC_DECLARE_BACKPROP_FILTER(float, f32)
FC_DECLARE_BACKPROP_FILTER(double, f64)

#endif
