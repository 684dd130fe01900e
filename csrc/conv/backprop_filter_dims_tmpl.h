/* The filter-gradient GEMM's dimensions and workspace for a call (template: FC_T, FC_SFX),
 * and the entry point forwarding to the call context's ISA's kernel
 * (backprop_filter_tmpl.h). */

FC_FN(bf_dims)
FC_FN(bf_gemm_dims)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x, const fc_view *dy) {
    const FC_FN(fc_ukernel) *uk = FC_UKERNEL(cx);
    FC_FN(bf_dims) s;
    s.mr = uk->mr;
    s.nr = uk->nr;
    s.cg = x->c / d->groups;
    s.og = dy->c / d->groups;
    s.taps = d->win.k_h * d->win.k_w;
    s.r = s.taps * s.cg;
    s.npanel = (s.r + s.nr - 1) / s.nr;
    /* Half of L1 for the B panel, the rest for the MR rows of A and the C tile. */
    s.kc = (int64_t)(fc_cache_bytes(1) / 2 / sizeof(FC_T)) / s.nr / 8 * 8;
    if (s.kc < 16) s.kc = 16;
    return s;
}

/* The sizes of a task's workspace arrays (bf_ws), in order, each 64-byte aligned; the
 * block of C only `with_c` (the swapped GEMM accumulates into dW itself). */
static void FC_FN(bf_ws_sizes)(const FC_FN(bf_dims) * s, int64_t rows, int64_t panels, int with_c,
                               size_t sizes[BF_WS_ARRAYS]) {
    const int64_t ptrs = (rows + s->mr - 1) / s->mr * s->mr;
    sizes[0] = with_c ? fc_align_up(sizeof(FC_T) * (size_t)(rows * panels * s->nr)) : 0;
    sizes[1] = fc_align_up(sizeof(FC_T) * (size_t)(ptrs * s->kc));
    sizes[2] = sizes[3] = fc_align_up(sizeof(FC_T) * (size_t)(s->kc * s->nr));
    sizes[4] = fc_align_up(sizeof(FC_T *) * (size_t)ptrs);
    sizes[5] = fc_align_up(sizeof(fc_bf_run) * (size_t)(panels * s->nr + rows));
    sizes[6] = fc_align_up(sizeof(int64_t) * (size_t)(panels + 1));
}

size_t FC_FN(bf_gemm_workspace)(const FC_FN(bf_dims) * s, int64_t rows, int64_t panels,
                                int with_c) {
    size_t sizes[BF_WS_ARRAYS], total = 0;
    FC_FN(bf_ws_sizes)(s, rows, panels, with_c, sizes);
    for (int i = 0; i < BF_WS_ARRAYS; i++) total += sizes[i];
    return total;
}

FC_FN(bf_ws)
FC_FN(bf_ws_split)(const FC_FN(bf_dims) * s, int64_t rows, int64_t panels, int with_c, void *ws) {
    size_t sizes[BF_WS_ARRAYS];
    char *at = ws;
    FC_FN(bf_ws_sizes)(s, rows, panels, with_c, sizes);
    FC_FN(bf_ws) w;
    w.c = (FC_T *)at;
    w.a = (FC_T *)(at += sizes[0]);
    w.full = (FC_T *)(at += sizes[1]);
    w.part = (FC_T *)(at += sizes[2]);
    w.ind = (const FC_T **)(at += sizes[3]);
    w.runs = (fc_bf_run *)(at += sizes[4]);
    w.run_at = (int64_t *)(at + sizes[5]);
    return w;
}

FC_ISA_DECLARE(void, FC_SFX, bf_gemm_block,
               (const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x, const fc_view *dy,
                const FC_FN(bf_dims) * s, int64_t g, int64_t o0, int64_t o1, int64_t p0, int64_t p1,
                FC_T *dw, FC_T *db, void *ws))

void FC_FN(bf_gemm_block)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                          const fc_view *dy, const FC_FN(bf_dims) * s, int64_t g, int64_t o0,
                          int64_t o1, int64_t p0, int64_t p1, FC_T *dw, FC_T *db, void *ws){
    FC_ISA_FORWARD(cx -> isa, FC_SFX, bf_gemm_block,
                   (cx, d, x, dy, s, g, o0, o1, p0, p1, dw, db, ws))}

FC_ISA_DECLARE(void, FC_SFX, bf_gemm_block_swapped,
               (const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x, const fc_view *dy,
                const FC_FN(bf_dims) * s, int64_t g, int64_t r0, int64_t r1, int64_t p0, int64_t p1,
                FC_T *dw, FC_T *db, void *ws))

    void FC_FN(bf_gemm_block_swapped)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                                      const fc_view *dy, const FC_FN(bf_dims) * s, int64_t g,
                                      int64_t r0, int64_t r1, int64_t p0, int64_t p1, FC_T *dw,
                                      FC_T *db, void *ws) {
    FC_ISA_FORWARD(cx->isa, FC_SFX, bf_gemm_block_swapped,
                   (cx, d, x, dy, s, g, r0, r1, p0, p1, dw, db, ws))
}
