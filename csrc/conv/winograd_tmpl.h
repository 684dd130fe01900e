/* Winograd F(2x2, 3x3) convolution, NHWC (template: FC_T, FC_SFX, and WG_ISA: each ISA's
 * file compiles the transforms with its own vector width).
 *
 * For 3x3, stride 1, dilation 1, one group.  Each 2x2 block of output pixels (a tile) is
 * computed from the 4x4 input patch under it as Y = A^T [ (G g G^T) . (B^T d B) ] A: the
 * 16 element-wise products of a tile become, over all tiles and channels, 16 independent
 * GEMMs M_xi[tiles x out_C] = V_xi[tiles x C] * U_xi[C x out_C] -- 16 multiplies per tile
 * and channel pair instead of 36, 2.25x fewer.  The GEMMs run on the GEMM engine's micro-
 * kernels (rows of V through the indirection buffer, U packed into panels once per call).
 * Tiles are processed WG_TILES at a time per thread, so the workspace is bounded by that
 * block, not by the image.  The transforms' coefficients are 0, +-1 and +-1/2: in float32
 * the result is as accurate as direct convolution (docs/peers.md, tested).
 *
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1] */
#include <string.h>
#include "fc_epilogue_tmpl.h"

#define WG_FN(name) FC_CAT(FC_FN(name), WG_ISA)
/* Tiles per block: a multiple of every MR, and at least the 49 of a 14x14 image (with 48,
 * r50-3x3-14 ran a second block of one tile, which read all 4 MiB of its transformed
 * weights again for one row of the micro-kernel's six). */
#define WG_TILES 60

typedef struct {
    int64_t tiles_h, tiles_w, tiles, c, o, npanel;
    int mr, nr;
} FC_FN(wg_dims);

static FC_FN(wg_dims) FC_FN(wg_dims_of)(const fc_cntx *cx, const fc_view *x, const fc_view *y) {
    const FC_FN(fc_ukernel) *uk = FC_UKERNEL(cx);
    FC_FN(wg_dims) s;
    s.mr = uk->mr;
    s.nr = uk->nr;
    s.tiles_h = (y->h + 1) / 2;
    s.tiles_w = (y->w + 1) / 2;
    s.tiles = y->n * s.tiles_h * s.tiles_w;
    s.c = x->c;
    s.o = y->c;
    s.npanel = (s.o + s.nr - 1) / s.nr;
    return s;
}

int64_t WG_FN(winograd_tiles)(const fc_cntx *cx, const fc_view *x, const fc_view *y) {
    return FC_FN(wg_dims_of)(cx, x, y).tiles;
}

int64_t WG_FN(winograd_block_tiles)(void) {
    return WG_TILES;
}

size_t WG_FN(winograd_packed_weights_size)(const fc_cntx *cx, const fc_view *x, const fc_view *y) {
    const FC_FN(wg_dims) s = FC_FN(wg_dims_of)(cx, x, y);
    return (size_t)(16 * s.npanel * s.c * s.nr);
}

#define WG_NRMAX 64 /* >= every micro-kernel's NR */

/* U_xi = G g G^T for input channel c and the `cols` output channels from o0 (at most
 * WG_NRMAX): u[xi][j], zero for j in [cols, width).  Shared by both packed layouts below, so
 * that NCHW's transposed GEMM multiplies the same bits.  The rows u[xi] are where the caller
 * wants them: the NHWC panels themselves (through a temporary and 16 memcpy calls of a
 * run-time NR per channel and panel, r50-3x3-14's call took 1.2 -> 1.45 ms). */
static inline __attribute__((always_inline)) void
FC_FN(wg_filter_transform)(const FC_FN(wg_dims) * s, const FC_T *w, int64_t c, int64_t o0,
                           int64_t cols, int64_t width, FC_T *const u[16]) {
    const FC_T h = (FC_T)0.5;
    FC_T g[9][WG_NRMAX], t[4][3][WG_NRMAX];
    for (int k = 0; k < 9; k++) {
        const FC_T *src = w + (k * s->c + c) * s->o + o0;
        for (int64_t j = 0; j < cols; j++) g[k][j] = src[j];
        for (int64_t j = cols; j < width; j++) g[k][j] = 0;
    }
    for (int k = 0; k < 3; k++) /* t = G g, over the filter's columns k */
        for (int64_t j = 0; j < width; j++) {
            const FC_T a = g[k][j], b = g[3 + k][j], e = g[6 + k][j];
            t[0][k][j] = a;
            t[1][k][j] = h * (a + b + e);
            t[2][k][j] = h * (a - b + e);
            t[3][k][j] = e;
        }
    for (int i = 0; i < 4; i++) /* U = t G^T, row i of the 4x4 */
        for (int64_t j = 0; j < width; j++) {
            const FC_T a = t[i][0][j], b = t[i][1][j], e = t[i][2][j];
            u[i * 4 + 0][j] = a;
            u[i * 4 + 1][j] = h * (a + b + e);
            u[i * 4 + 2][j] = h * (a - b + e);
            u[i * 4 + 3][j] = e;
        }
}

/* U_xi for input channels [c0, c1), written into the micro-kernel's panel layout
 * [xi][panel][C][NR] (zero past out_C).  Vectorized over the NR output channels of a panel,
 * which are contiguous in both the HWIO filter and the panel. */
void WG_FN(winograd_pack_weights)(const fc_cntx *cx, const fc_view *x, const fc_view *y,
                                  const FC_T *w, int64_t c0, int64_t c1, FC_T *upack) {
    const FC_FN(wg_dims) s = FC_FN(wg_dims_of)(cx, x, y);
    FC_T *u[16];
    for (int64_t c = c0; c < c1; c++)
        for (int64_t p = 0; p < s.npanel; p++) {
            const int64_t o0 = p * s.nr, cols = s.o - o0 < s.nr ? s.o - o0 : s.nr;
            for (int xi = 0; xi < 16; xi++) u[xi] = upack + ((xi * s.npanel + p) * s.c + c) * s.nr;
            FC_FN(wg_filter_transform)(&s, w, c, o0, cols, s.nr, u);
        }
}

/* U_xi transposed, for output channels [o0, o1): rows [xi][O][C], the A operand of NCHW's
 * transposed GEMMs (winograd_planes_tmpl.h), 16 * O * C values.  Computed for blocks of
 * WG_RB output and input channels, then stored as runs of WG_RB channels per row: one value
 * at a time, C apart, the rows' cache lines were written a value at a time (r50-3x3-56: 8%
 * of its call). */
#define WG_RB 16
typedef FC_T FC_FN(wg_run)
    __attribute__((vector_size(sizeof(FC_T) * WG_RB), aligned(sizeof(FC_T))));
void WG_FN(winograd_pack_rows)(const fc_cntx *cx, const fc_view *x, const fc_view *y, const FC_T *w,
                               int64_t o0, int64_t o1, FC_T *ut) {
    const FC_FN(wg_dims) s = FC_FN(wg_dims_of)(cx, x, y);
    FC_T ub[16][WG_NRMAX], blk[16][WG_RB][WG_RB]; /* [xi][o][c] */
    FC_T *u[16];
    for (int xi = 0; xi < 16; xi++) u[xi] = ub[xi];
    for (int64_t oa = o0; oa < o1; oa += WG_RB) {
        const int64_t cols = o1 - oa < WG_RB ? o1 - oa : WG_RB;
        for (int64_t ca = 0; ca < s.c; ca += WG_RB) {
            const int64_t cn = s.c - ca < WG_RB ? s.c - ca : WG_RB;
            for (int64_t c = 0; c < cn; c++) { /* constant widths: vector code, no calls */
                if (cols == WG_RB) FC_FN(wg_filter_transform)(&s, w, ca + c, oa, WG_RB, WG_RB, u);
                else FC_FN(wg_filter_transform)(&s, w, ca + c, oa, cols, WG_RB, u);
                for (int xi = 0; xi < 16; xi++)
                    for (int64_t j = 0; j < WG_RB; j++) blk[xi][j][c] = ub[xi][j];
            }
            for (int xi = 0; xi < 16; xi++)
                for (int64_t j = 0; j < cols; j++) {
                    FC_T *dst = ut + (xi * s.o + oa + j) * s.c + ca;
                    if (cn == WG_RB) /* vector moves (memcpy: rep movs, 40% of this loop) */
                        *(FC_FN(wg_run) *)dst = *(const FC_FN(wg_run) *)blk[xi][j];
                    else memcpy(dst, blk[xi][j], sizeof(FC_T) * (size_t)cn);
                }
        }
    }
}
#undef WG_RB

/* The workspace of one thread: V and M blocks, a zero row, one tile's output (4 pixels)
 * and the indirection buffer, each array starting on a 64-byte boundary (the arrays of
 * FC_T have any length: with an odd channel count a pointer array right after them would
 * be misaligned, which is undefined behaviour).  Offsets in bytes; `end` is the size. */
typedef struct {
    size_t v, m, zero, tile_out, ind, end;
} FC_FN(wg_layout);

static FC_FN(wg_layout) FC_FN(wg_layout_of)(const FC_FN(wg_dims) * s) {
    FC_FN(wg_layout) l;
    l.v = 0;
    l.m = fc_align_up(l.v + sizeof(FC_T) * (size_t)(16 * WG_TILES * s->c));
    l.zero = fc_align_up(l.m + sizeof(FC_T) * (size_t)(16 * WG_TILES * s->o));
    l.tile_out = fc_align_up(l.zero + sizeof(FC_T) * (size_t)s->c);
    l.ind = fc_align_up(l.tile_out + sizeof(FC_T) * (size_t)(4 * s->o));
    l.end = l.ind + sizeof(FC_T *) * (size_t)WG_TILES;
    return l;
}

/* Bytes per thread (see wg_layout_of). */
size_t WG_FN(winograd_workspace)(const fc_cntx *cx, const fc_view *x, const fc_view *y) {
    const FC_FN(wg_dims) s = FC_FN(wg_dims_of)(cx, x, y);
    return FC_FN(wg_layout_of)(&s).end;
}

/* V_xi[tile][c] = (B^T d B)[xi] for the tiles [t0, t0 + nt); d is read with the input's
 * strides, padding cells as zeros (a pointer to the zero row). */
static void FC_FN(input_transform)(const fc_conv_desc *d, const fc_view *x,
                                   const FC_FN(wg_dims) * s, int64_t t0, int64_t nt,
                                   const FC_T *zero, FC_T *v) {
    const int64_t per_image = s->tiles_h * s->tiles_w;
    for (int64_t t = 0; t < nt; t++) {
        const int64_t tile = t0 + t, n = tile / per_image;
        const int64_t iy0 = (tile % per_image) / s->tiles_w * 2 - d->win.pad_top;
        const int64_t ix0 = (tile % per_image) % s->tiles_w * 2 - d->win.pad_left;
        const FC_T *p[4][4];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                const int64_t iy = iy0 + i, ix = ix0 + j;
                p[i][j] = (iy < 0 || iy >= x->h || ix < 0 || ix >= x->w)
                              ? zero
                              : (const FC_T *)x->data + n * x->sn + iy * x->sh + ix * x->sw;
            }
        FC_T *vt = v + t * s->c;
        const int64_t vs = WG_TILES * s->c; /* distance between the 16 V matrices */
        FC_IVDEP
        for (int64_t c = 0; c < s->c; c++) {
            FC_T b[4][4];
            for (int j = 0; j < 4; j++) { /* B^T d, column by column */
                const FC_T d0 = p[0][j][c], d1 = p[1][j][c], d2 = p[2][j][c], d3 = p[3][j][c];
                b[0][j] = d0 - d2;
                b[1][j] = d1 + d2;
                b[2][j] = d2 - d1;
                b[3][j] = d1 - d3;
            }
            for (int i = 0; i < 4; i++) { /* (B^T d) B, row by row */
                vt[(i * 4 + 0) * vs + c] = b[i][0] - b[i][2];
                vt[(i * 4 + 1) * vs + c] = b[i][1] + b[i][2];
                vt[(i * 4 + 2) * vs + c] = b[i][2] - b[i][1];
                vt[(i * 4 + 3) * vs + c] = b[i][1] - b[i][3];
            }
        }
    }
}

/* Y = A^T M A for the tiles [t0, t0 + nt) and output channels [o0, o1), + bias,
 * activation, stored with y's strides; pixels past an odd output edge are dropped.  Returns whether a value of Y (before bias
 * and activation, which could hide it: relu6 clips Inf) is Inf or NaN: v - v is 0 for
 * finite v, NaN otherwise, one vectorized subtraction per value. */
static int FC_FN(output_transform)(const fc_conv_desc *d, const fc_view *y,
                                   const FC_FN(wg_dims) * s, int64_t t0, int64_t nt, const FC_T *m,
                                   const FC_T *bias, int64_t o0, int64_t o1, FC_T *row) {
    const int64_t per_image = s->tiles_h * s->tiles_w, ms = WG_TILES * s->o;
    int nonfinite = 0;
    for (int64_t t = 0; t < nt; t++) {
        const int64_t tile = t0 + t, n = tile / per_image;
        const int64_t oy0 = (tile % per_image) / s->tiles_w * 2;
        const int64_t ox0 = (tile % per_image) % s->tiles_w * 2;
        const FC_T *mt = m + t * s->o;
        FC_T *out[2][2];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++) out[i][j] = row + (i * 2 + j) * s->o;
        FC_IVDEP
        for (int64_t o = o0; o < o1; o++) {
            FC_T a[2][4];
            for (int j = 0; j < 4; j++) { /* A^T M, column by column */
                const FC_T m0 = mt[(0 + j) * ms + o], m1 = mt[(4 + j) * ms + o];
                const FC_T m2 = mt[(8 + j) * ms + o], m3 = mt[(12 + j) * ms + o];
                a[0][j] = m0 + m1 + m2;
                a[1][j] = m1 - m2 - m3;
            }
            for (int i = 0; i < 2; i++) { /* (A^T M) A */
                const FC_T y0 = a[i][0] + a[i][1] + a[i][2], y1 = a[i][1] - a[i][2] - a[i][3];
                out[i][0][o] = y0;
                out[i][1][o] = y1;
                nonfinite |= (y0 - y0) + (y1 - y1) != 0;
            }
        }
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                if (oy0 + i < y->h && ox0 + j < y->w)
                    FC_FN(epilogue_store)(out[i][j] + o0, o1 - o0, bias ? bias + o0 : NULL,
                                          d->activation,
                                          (FC_T *)y->data + n * y->sn + (oy0 + i) * y->sh +
                                              (ox0 + j) * y->sw + o0 * y->sc,
                                          y->sc);
    }
    return nonfinite;
}

/* Tiles [t0, t1) (t1 - t0 <= WG_TILES) x the output channels of panels [p0, p1):
 * transform, 16 GEMMs, transform back.  Every output value is computed the same way
 * whatever the split, so the split never changes a result.  Returns
 * whether an output value was Inf or NaN (see output_transform): the caller then computes
 * the call another way, since Winograd's transforms turn one Inf into NaN for its whole
 * tile (Inf - Inf) and overflow above about max/4 where the direct sum does not. */
int WG_FN(winograd_block)(const fc_cntx *cx, const fc_conv_desc *d, const fc_view *x,
                          const fc_view *y, const FC_T *upack, const FC_T *bias, int64_t t0,
                          int64_t t1, int64_t p0, int64_t p1, void *ws) {
    const FC_FN(fc_ukernel) *uk = FC_UKERNEL(cx);
    const FC_FN(wg_dims) s = FC_FN(wg_dims_of)(cx, x, y);
    const int64_t nt = t1 - t0, o0 = p0 * s.nr, o1 = p1 * s.nr < s.o ? p1 * s.nr : s.o;
    const FC_FN(wg_layout) l = FC_FN(wg_layout_of)(&s);
    char *base = ws;
    FC_T *v = (FC_T *)(base + l.v), *m = (FC_T *)(base + l.m), *zero = (FC_T *)(base + l.zero);
    FC_T *tile_out = (FC_T *)(base + l.tile_out);
    const FC_T **ind = (const FC_T **)(base + l.ind);

    memset(zero, 0, sizeof(FC_T) * (size_t)s.c);
    FC_FN(input_transform)(d, x, &s, t0, nt, zero, v);
    for (int xi = 0; xi < 16; xi++) {
        const int64_t rows = (nt + s.mr - 1) / s.mr * s.mr;
        for (int64_t r = 0; r < rows; r++) ind[r] = r < nt ? v + (xi * WG_TILES + r) * s.c : zero;
        FC_FN(gemm_macro)(
            uk, nt, o1 - o0, 1, s.c, ind, 0, upack + (xi * s.npanel + p0) * s.c * s.nr, s.c * s.nr,
            m + xi * WG_TILES * s.o + o0, s.o, NULL, 0, 1, NULL, FC_ACT_NONE, 0, NULL);
    }
    return FC_FN(output_transform)(d, y, &s, t0, nt, m, bias, o0, o1, tile_out);
}

#undef WG_NRMAX
#undef WG_TILES
#undef WG_FN
