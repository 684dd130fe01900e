/* Declarations shared by the filter-gradient kernels (conv/backprop_filter*.c,
 * conv/depthwise_backprop_filter*.c) and their operator
 * (operators/conv2d_backprop_filter_tmpl.h). */
#ifndef FC_BACKPROP_FILTER_H
#define FC_BACKPROP_FILTER_H

#include "fc_internal.h"
#include "fc_runtime.h"

/* The unpacked filter gradient's shape (conv/backprop_filter_direct_tmpl.h): channels per
 * group in and out, r filter rows, the ISA's lanes, NV vectors (NB channels) of output
 * channels a tile and their blocks per group, `chunks` chunks of MR filter rows, the padded
 * input row's Wp pixels, `band` output rows a pass (each walked in segments of `seg`
 * pixels) and the `prow` input rows they read. */
typedef struct {
    int64_t cg, og, r, kh, lanes, nv, nb, oblocks, chunks, mr, wp, band, prow;
    int64_t seg;     /* pixels of a row a pass: dy->w, or less when band is 1 row */
    int64_t per_tap; /* chunks a tap (their pixels whose tap reads padding skipped), or 0 */
    int padded;      /* some tap of some pixel reads padding */
    int x_direct;    /* tiles read x itself, not P (set by the caller: see bf_direct_run) */
} fc_bf_direct;
size_t fc_bf_direct_workspace(const fc_bf_direct *p, int64_t ow, size_t elem);

#define FC_DECLARE_BACKPROP_FILTER(T, SFX)                                                         \
    void FC_CAT(bf_depthwise, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,     \
                                   const fc_view *dy, int64_t c0, int64_t c1, int64_t ky0,         \
                                   int64_t ky1, T *dw, int64_t dw_st, int64_t dw_sc, T *db,        \
                                   int64_t db_sc, T *acc);                                         \
    int FC_CAT(bf_depthwise_lanes, SFX)(const fc_cntx *cx);                                        \
    void FC_CAT(bf_direct_shape, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,  \
                                      const fc_view *dy, fc_bf_direct *p);                         \
    void FC_CAT(bf_direct, SFX)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,        \
                                const fc_view *dy, const fc_bf_direct *p, int64_t g, int64_t ob,   \
                                int64_t ch0, int64_t ch1, T *dw, T *db, void *ws);

FC_DECLARE_BACKPROP_FILTER(float, f32)
FC_DECLARE_BACKPROP_FILTER(double, f64)

#endif
