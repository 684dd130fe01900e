/* Image filters: a few input and output channels, too few for the channel vectors of the
 * other kernels (template: FC_T, FC_SFX, and FL_ISA with FL_VBYTES: each ISA's file compiles
 * the loops at its own vector width).
 *
 * With so few channels the output row is the vector: for each valid tap (ky, kx), input
 * channel ic and output channel oc, acc[oc][ox] += w[ky][kx][ic][oc] * x[iy][ox * stride +
 * off][ic] over the output columns whose input column is real (padding taps are skipped,
 * never read as zeros, so they contribute nothing even against an infinite weight).  Each
 * input row is first split, per channel, into `stride` phase rows (phase p holds columns p,
 * p + stride, ...), so that every tap reads a contiguous run (a row of adjacent columns at
 * stride 1 is read in place: one channel, or the planes of an NCHW image, which the operator
 * passes as they are).
 *
 * Output rows go a block at a time.  The columns every horizontal tap reaches (the interior)
 * run register-blocked: a block's rows or output channels x FL_NB vectors of columns stay in
 * registers over the whole window, and each input vector, loaded once, serves every row of
 * the block whose window holds its input row (a 5x5 filter: 8 input rows feed 4 output
 * rows), or every output channel.  The edge columns, whose taps differ per column, run
 * with the same sums in scalars (fl_columns: the tap-by-tap loop over a row buffer took 16%
 * of the 720p filter's time on 4 columns of 1280, each tap's update waiting on the previous
 * one's store; 1.20 ms against 1.53); rows without a vector of interior columns keep that
 * loop (fl_row_taps).  Summation order per output value: (ky, kx, ic)
 * from zero, then bias, as the generic direct kernel, whatever the block or the thread split
 * (the same bits as the tap-by-tap loop alone, which ran every column before: 1 thread,
 * thread CPU time, AMD EPYC Zen 4 AVX-512, the 720p grayscale 5x5 filter 1.06 ms against
 * 1.64-1.74, kitten-rgb's 3x3/3 0.037 against 0.045, 224x224x3 3x3 -> 3 0.31 against 0.42). */
#include "fc_epilogue_tmpl.h"
#include "fc_gather_tmpl.h"

#define FL_FN(name) FC_CAT(FC_FN(name), FL_ISA)
#define FL_VEC FC_CAT(FC_CAT(flvec, FL_ISA), FC_SFX)
#define FL_ROWS_T FC_CAT(FC_CAT(fl_rows, FL_ISA), FC_SFX)
#define FL_LANES (FL_VBYTES / (int)sizeof(FC_T))
/* The register block: FL_SUMS output rows and channels (their pairs) x FL_NB vectors of
 * columns.  AVX-512's 32 registers hold 4 x 4 accumulators with the 4 input vectors and a
 * weight; 2 x 4 in the 16 of AVX2 and SSE2.  Pairs are rows where the rows' windows overlap
 * (a 5x5 filter at stride 1: 8 input rows feed 4 output rows, one load for 2.5 FMAs), and
 * output channels otherwise (kitten-rgb's 3x3/3 into 3 channels: one load for 3). */
#define FL_SUMS (FL_VBYTES == 64 ? 4 : 2)
#define FL_NB 4

typedef FC_T FL_VEC __attribute__((vector_size(FL_VBYTES), aligned(sizeof(FC_T))));

/* A block of output rows of one image, and where its input rows are. */
typedef struct {
    const fc_conv_desc *d;
    int64_t rows, chans;                         /* per block at most: rows x chans <= FL_SUMS */
    int64_t n_rows;                              /* this block's rows (the last may have fewer) */
    int64_t base[FL_SUMS];                       /* row r's first window row: oy * stride - pad */
    int64_t ky0[FL_SUMS], ky1[FL_SUMS];          /* row r's valid vertical taps */
    int64_t sum_row[FL_SUMS], sum_chan[FL_SUMS]; /* sum j's row, and channel from oc */
    int64_t iy0, iy1;                            /* the input rows the block reads */
    int64_t c_in, c_out, stride, phase_step, chan_step, wo, x_w; /* x_w: input columns */
    /* Tap kx = 0 of output column c reads phase phase0 at c + shift0; each next tap's offset
     * moves by dil_w: dil_w / stride places and dil_w % stride phases (no division per tap). */
    int64_t phase0, shift0, step_div, step_mod;
    const FC_T *in; /* row iy0 (phase rows), or the image (in place) */
    int64_t in_row; /* the distance between two input rows there */
    /* Where the register blocks go: straight to the output (row r, channel oc at out + r *
     * out_row + oc * out_chan) with the bias and ReLU in registers where its columns are
     * adjacent, else to the accumulator rows, for the epilogue. */
    FC_T *out;
    int64_t out_row, out_chan;
    const FC_T *bias;
    fc_activation act;
    int direct;
} FL_ROWS_T;

/* acc[0, n) += w * src[0, n): the loop the compiler vectorizes at this file's width. */
static inline void FC_FN(fl_axpy)(FC_T *restrict acc, const FC_T *restrict src, FC_T w, int64_t n) {
    for (int64_t i = 0; i < n; i++) acc[i] += w * src[i];
}

/* Whether filter_rows copies each input row into phase rows (strided, several channels, or
 * a row whose columns are not adjacent). */
static inline int FC_FN(fl_split)(const fc_conv_desc *d, const fc_view *x) {
    return d->win.stride_w > 1 || x->sw != 1;
}

/* A block's output rows and channels (its sums: see FL_SUMS). */
static inline void FC_FN(fl_shape)(const fc_window *win, int64_t c_out, int64_t *rows,
                                   int64_t *chans) {
    const int overlap = win->stride_h < (win->k_h - 1) * win->dil_h + 1;
    *chans = c_out < FL_SUMS ? c_out : FL_SUMS;
    *rows = overlap ? FL_SUMS / *chans : 1;
}

/* Workspace of filter_rows: a row of accumulators per output row of a block and output
 * channel, and the phase rows of every input channel of the block's input rows where
 * needed. */
size_t FL_FN(filter_workspace)(const fc_conv_desc *d, const fc_view *x, const fc_view *y) {
    const fc_window *win = &d->win;
    int64_t rows, chans;
    FC_FN(fl_shape)(win, y->c, &rows, &chans);
    const int64_t rows_in = (rows - 1) * win->stride_h + (win->k_h - 1) * win->dil_h + 1;
    /* the phase rows, and one row of each channel apart (fl_split_row) */
    const int64_t split =
        FC_FN(fl_split)(d, x) ? rows_in * x->c * (x->w + win->stride_w) + x->c * x->w : 0;
    return sizeof(FC_T) * (size_t)(rows * y->c * y->w + split);
}

/* Input row iy of the block: its phase rows (channel ic, phase p at + ic * chan_step + p *
 * phase_step), or the row in place. */
static inline const FC_T *FL_FN(fl_row)(const FL_ROWS_T *b, int64_t iy) {
    return b->in + (iy - b->iy0) * b->in_row;
}

/* Where output column ox's tap kx reads, from input row `row` (stride 1 without the
 * divisions: the edge columns ask once per tap and row). */
static inline const FC_T *FL_FN(fl_tap)(const FL_ROWS_T *b, const FC_T *row, int64_t kx,
                                        int64_t ox) {
    const int64_t s = b->stride, first = ox * s + kx * b->d->win.dil_w - b->d->win.pad_left;
    return s == 1 ? row + first : row + first % s * b->phase_step + first / s;
}

/* The output columns [lo, hi) whose tap kx reads a real input column. */
static inline void FL_FN(fl_tap_columns)(const FL_ROWS_T *b, int64_t kx, int64_t *lo, int64_t *hi) {
    const int64_t s = b->stride, off = kx * b->d->win.dil_w - b->d->win.pad_left;
    if (s == 1) {
        *lo = off < 0 ? -off : 0;
        *hi = off >= b->x_w ? 0 : b->x_w - off;
    } else {
        *lo = off < 0 ? (-off + s - 1) / s : 0;
        *hi = off >= b->x_w ? 0 : (b->x_w - 1 - off) / s + 1;
    }
    if (*hi > b->wo) *hi = b->wo;
}

/* The filter row that each sum of the block (rows and output channels from oc) applies to
 * input row iy, at wr[j] + kx * c_in * c_out + ic * c_out; NULL where the sum's row does not
 * read iy, or the sum is not one of the block's. */
static inline __attribute__((always_inline)) void FL_FN(fl_weights)(const FL_ROWS_T *b,
                                                                    const FC_T *w, int64_t iy,
                                                                    int64_t oc, int64_t chans,
                                                                    const FC_T **wr) {
    const fc_window *win = &b->d->win;
    for (int j = 0; j < FL_SUMS; j++) {
        const int64_t r = b->sum_row[j], o = b->sum_chan[j];
        const int64_t t = iy - b->base[r], ky = win->dil_h == 1 ? t : t / win->dil_h;
        const int on = r < b->n_rows && o < chans && t >= 0 && ky * win->dil_h == t &&
                       ky >= b->ky0[r] && ky < b->ky1[r];
        wr[j] = on ? w + ky * win->k_w * b->c_in * b->c_out + oc + o : NULL;
    }
}

/* One input channel at stride 1 without dilation (the 720p grayscale filter), on AVX-512:
 * tap kx of a vector of output columns reads the input vector kx columns on, so each input
 * row's vectors are loaded once and each tap's built by a lane shift (valign) of two of them,
 * instead of an unaligned load per tap, most of which span two cache lines.  AMD EPYC Zen 4,
 * 1 thread, alternating processes: the 720p grayscale 5x5 filter 0.49 ms against 1.14 (the
 * loads held the generic block to 34% of the FMA peak; 80% now). */
#if FL_VBYTES == 64 && defined(__AVX512F__)
#include <immintrin.h>
#define FL_SHIFTS 1
/* The lanes of m at p, zeros elsewhere (no fault outside them: beyond the row's ends). */
static inline FL_VEC FL_FN(fl_load_lanes)(const FC_T *p, unsigned m) {
#if FC_T_IS_DOUBLE
    return (FL_VEC)_mm512_maskz_loadu_pd((__mmask8)m, p);
#else
    return (FL_VEC)_mm512_maskz_loadu_ps((__mmask16)m, p);
#endif
}
/* acc + wv * xv in the lanes of m (one rounding, as the contracted acc += wv * xv), acc
 * elsewhere. */
static inline FL_VEC FL_FN(fl_fma_lanes)(FL_VEC acc, FC_T wv, FL_VEC xv, unsigned m) {
#if FC_T_IS_DOUBLE
    return (FL_VEC)_mm512_mask3_fmadd_pd(_mm512_set1_pd(wv), (__m512d)xv, (__m512d)acc,
                                         (__mmask8)m);
#else
    return (FL_VEC)_mm512_mask3_fmadd_ps(_mm512_set1_ps(wv), (__m512)xv, (__m512)acc, (__mmask16)m);
#endif
}
#if FC_T_IS_DOUBLE
#define FL_ALIGNR(hi, lo, k) ((FL_VEC)_mm512_alignr_epi64((__m512i)(hi), (__m512i)(lo), (k)))
#else
#define FL_ALIGNR(hi, lo, k) ((FL_VEC)_mm512_alignr_epi32((__m512i)(hi), (__m512i)(lo), (k)))
#endif
/* Lanes k.. of lo, then the first k of hi (k < 7 < lanes; a constant once unrolled). */
static inline __attribute__((always_inline)) FL_VEC FL_FN(fl_shifted)(FL_VEC lo, FL_VEC hi, int k) {
    switch (k) {
    case 0: return lo;
    case 1: return FL_ALIGNR(hi, lo, 1);
    case 2: return FL_ALIGNR(hi, lo, 2);
    case 3: return FL_ALIGNR(hi, lo, 3);
    case 4: return FL_ALIGNR(hi, lo, 4);
    case 5: return FL_ALIGNR(hi, lo, 5);
    default: return FL_ALIGNR(hi, lo, 6);
    }
}
#undef FL_ALIGNR
#else
#define FL_SHIFTS 0
#endif

/* A vector of sums out, row r and channel oc from column c: to the output with fl_out's
 * operations, so its bits (+ bias, + 0: the epilogue's, -0 becomes +0, then ReLU keeping
 * NaN: its compare is false) where b->direct, else to the accumulator rows, for the
 * epilogue.  (One vector a call, so that the callers' loops unroll, each sum a register: the
 * whole block passed as an array kept it in memory.) */
static inline __attribute__((always_inline)) void FL_FN(fl_sum_store)(const FL_ROWS_T *b, int64_t r,
                                                                      int64_t oc, int64_t c,
                                                                      FL_VEC y, FC_T *acc_rows) {
    if (!b->direct) {
        *(FL_VEC *)(acc_rows + (r * b->c_out + oc) * b->wo + c) = y;
        return;
    }
    if (b->bias) y += b->bias[oc];
    y += (FL_VEC){0};
    if (b->act == FC_ACT_RELU) y = FC_VEC_RELU(y);
    *(FL_VEC *)(b->out + r * b->out_row + oc * b->out_chan + c) = y;
}

/* Columns [c, c + nb vectors) of the block's rows and output channels [oc, oc + chans) (sum
 * j: row j / chans, channel oc + j % chans), in registers: for each input row, tap kx and
 * input channel, the nb input vectors are loaded once and added, weighted, to every sum whose
 * row's window holds that input row (at its tap ky), so each sum still runs in (ky, kx, ic)
 * order. */
static inline __attribute__((always_inline)) void FL_FN(fl_block)(const FL_ROWS_T *b, const FC_T *w,
                                                                  int64_t oc, int64_t c,
                                                                  const int nb, FC_T *acc_rows) {
    const fc_window *win = &b->d->win;
    const int64_t tap_step = b->c_in * b->c_out; /* between taps kx of a filter row */
    const int64_t chans = oc + b->chans <= b->c_out ? b->chans : b->c_out - oc;
    FL_VEC acc[FL_SUMS][FL_NB];
    for (int j = 0; j < FL_SUMS; j++)
        for (int v = 0; v < nb; v++) acc[j][v] = (FL_VEC){0};
    for (int64_t iy = b->iy0; iy < b->iy1; iy++) {
        const FC_T *wr[FL_SUMS]; /* sum j's weights at this input row, or none */
        FL_FN(fl_weights)(b, w, iy, oc, chans, wr);
        const FC_T *row = FL_FN(fl_row)(b, iy) + c;
        int64_t phase = b->phase0, shift = b->shift0;
        for (int64_t kx = 0; kx < win->k_w; kx++) {
            const FC_T *src = row + phase * b->phase_step + shift;
            phase += b->step_mod;
            shift += b->step_div;
            if (phase >= b->stride) {
                phase -= b->stride;
                shift++;
            }
            for (int64_t ic = 0; ic < b->c_in; ic++, src += b->chan_step) {
                FL_VEC xv[FL_NB];
                for (int v = 0; v < nb; v++) xv[v] = *(const FL_VEC *)(src + v * FL_LANES);
                for (int j = 0; j < FL_SUMS; j++) {
                    if (!wr[j]) continue;
                    const FC_T wv = wr[j][kx * tap_step + ic * b->c_out];
                    for (int v = 0; v < nb; v++) acc[j][v] += wv * xv[v];
                }
            }
        }
    }
#pragma GCC unroll 8
    for (int j = 0; j < FL_SUMS; j++) {
        const int64_t r = b->sum_row[j], o = b->sum_chan[j];
        if (r >= b->n_rows || o >= chans) continue;
        for (int v = 0; v < nb; v++)
            FL_FN(fl_sum_store)(b, r, oc + o, c + v * FL_LANES, acc[j][v], acc_rows);
    }
}

#if FL_SHIFTS
/* The lanes i of a vector from column `first` whose column first + i lies in [lo, hi). */
static inline unsigned FL_FN(fl_lanes_in)(int64_t first, int64_t lo, int64_t hi) {
    const int64_t a = lo > first ? lo - first : 0,
                  e = hi - first < FL_LANES ? hi - first : FL_LANES;
    return e > a ? ((1u << e) - 1) & ~((1u << a) - 1) : 0;
}

/* fl_block for a block of FL_SUMS rows of one output channel whose windows lie wholly in
 * the image, at stride 1 without dilation, the k x k window unrolled: which filter row each
 * input row meets is then known when compiling, without fl_block's per-row tests.  A block
 * at either end of the row (`ends`) adds each tap only in the lanes whose input column is
 * real, and loads only those: its padding taps are skipped, as fl_columns skips them, which
 * it replaces there (a scalar loop per column that took 13% of the 720p filter's time on 4 of
 * its 1280 columns).  The same sums in the same (ky, kx) order as fl_block, stored as it
 * stores them. */
static inline __attribute__((always_inline)) void
FL_FN(fl_block_full)(const FL_ROWS_T *b, const FC_T *w, int64_t c, const int nb, const int k,
                     const int ends, FC_T *acc_rows) {
    const int64_t col0 = c + b->shift0;    /* lane 0's input column at tap 0 */
    unsigned tap[FL_NB][8], ld[FL_NB + 1]; /* the lanes each tap adds, each load reads */
    for (int v = 0; v <= nb; v++)          /* input columns in the row */
        ld[v] = ends ? FL_FN(fl_lanes_in)(col0 + v * FL_LANES, 0, b->x_w) : ~0u;
    ld[nb] &= (1u << (k - 1)) - 1;           /* the lanes the taps reach */
    for (int kx = 0; kx < k && ends; kx++) { /* output columns whose tap kx is real */
        int64_t lo, hi;
        FL_FN(fl_tap_columns)(b, kx, &lo, &hi);
        for (int v = 0; v < nb; v++) tap[v][kx] = FL_FN(fl_lanes_in)(c + v * FL_LANES, lo, hi);
    }
    FL_VEC acc[FL_SUMS][FL_NB];
    for (int r = 0; r < FL_SUMS; r++)
        for (int v = 0; v < nb; v++) acc[r][v] = (FL_VEC){0};
    const FC_T *src = FL_FN(fl_row)(b, b->iy0) + col0;
#pragma GCC unroll 16
    for (int t = 0; t < FL_SUMS + k - 1; t++, src += b->in_row) {
        FL_VEC lo[FL_NB + 1];
        for (int v = 0; v < nb; v++)
            lo[v] = ends ? FL_FN(fl_load_lanes)(src + v * FL_LANES, ld[v])
                         : *(const FL_VEC *)(src + v * FL_LANES);
        lo[nb] = FL_FN(fl_load_lanes)(src + nb * FL_LANES, ld[nb]);
#pragma GCC unroll 8
        for (int kx = 0; kx < k; kx++) {
            FL_VEC xv[FL_NB];
            for (int v = 0; v < nb; v++) xv[v] = FL_FN(fl_shifted)(lo[v], lo[v + 1], kx);
#pragma GCC unroll 4
            for (int r = 0; r < FL_SUMS; r++) {
                const int ky = t - r;
                if (ky < 0 || ky >= k) continue;
                const FC_T wv = w[ky * k + kx];
                for (int v = 0; v < nb; v++)
                    acc[r][v] = ends ? FL_FN(fl_fma_lanes)(acc[r][v], wv, xv[v], tap[v][kx])
                                     : acc[r][v] + wv * xv[v];
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < FL_SUMS; r++)
        for (int v = 0; v < nb; v++)
            FL_FN(fl_sum_store)(b, r, 0, c + v * FL_LANES, acc[r][v], acc_rows);
}

/* fl_block_full with nb (1 to FL_NB, a constant in each case) and the window (kf). */
static inline __attribute__((always_inline)) void
FL_FN(fl_block_full_nb)(const FL_ROWS_T *b, const FC_T *w, int64_t c, const int nb, int kf,
                        int ends, FC_T *acc_rows) {
#define FL_FULL(k)                                                                                 \
    (ends ? FL_FN(fl_block_full)(b, w, c, nb, k, 1, acc_rows)                                      \
          : FL_FN(fl_block_full)(b, w, c, nb, k, 0, acc_rows))
    switch (kf) {
    case 3: FL_FULL(3); break;
    case 5: FL_FULL(5); break;
    default: FL_FULL(7);
    }
#undef FL_FULL
}

/* A block's columns [c, c + nb vectors) by fl_block_full, with masks where they reach past
 * the interior [lo, hi). */
static void FL_FN(fl_block_full_at)(const FL_ROWS_T *b, const FC_T *w, int64_t c, int64_t nb,
                                    int kf, int64_t lo, int64_t hi, FC_T *acc_rows) {
    const int ends = c < lo || c + nb * FL_LANES > hi;
    switch (nb) {
    case 1: FL_FN(fl_block_full_nb)(b, w, c, 1, kf, ends, acc_rows); break;
    case 2: FL_FN(fl_block_full_nb)(b, w, c, 2, kf, ends, acc_rows); break;
    case 3: FL_FN(fl_block_full_nb)(b, w, c, 3, kf, ends, acc_rows); break;
    default: FL_FN(fl_block_full_nb)(b, w, c, FL_NB, kf, ends, acc_rows);
    }
}

/* Every column of a block of rows fl_block_full takes (kf), at least a vector of them: blocks
 * of FL_NB vectors from column 0, then the rest in one block ending at the row's end (over
 * columns done already, which it recomputes in the same order: the same bits). */
static void FL_FN(fl_row_full)(const FL_ROWS_T *b, const FC_T *w, int kf, int64_t lo, int64_t hi,
                               FC_T *acc_rows) {
    const int64_t wo = b->wo;
    int64_t c = 0;
    for (; c + FL_NB * FL_LANES <= wo; c += FL_NB * FL_LANES)
        FL_FN(fl_block_full_at)(b, w, c, FL_NB, kf, lo, hi, acc_rows);
    if (c == wo) return;
    const int64_t n = (wo - c + FL_LANES - 1) / FL_LANES;
    if (wo >= n * FL_LANES) {
        FL_FN(fl_block_full_at)(b, w, wo - n * FL_LANES, n, kf, lo, hi, acc_rows);
    } else { /* a row of under FL_NB vectors, not whole ones */
        FL_FN(fl_block_full_at)(b, w, 0, n - 1, kf, lo, hi, acc_rows);
        FL_FN(fl_block_full_at)(b, w, wo - FL_LANES, 1, kf, lo, hi, acc_rows);
    }
}
#endif

/* The window width fl_block_full unrolls for this call (k x k, 3 <= k <= 7 odd), or 0. */
static inline int FL_FN(fl_full_width)(const FL_ROWS_T *b) {
    const fc_window *win = &b->d->win;
    const int64_t k = win->k_w;
    return FL_SHIFTS && b->stride == 1 && win->stride_h == 1 && win->dil_w == 1 &&
                   win->dil_h == 1 && b->c_in == 1 && b->c_out == 1 && b->rows == FL_SUMS &&
                   win->k_h == k && (k == 3 || k == 5 || k == 7)
               ? (int)k
               : 0;
}

/* Output columns [c0, c1) of the block's sums (rows and output channels from oc), each
 * column over its own horizontal taps: the edge columns, where the taps that reach a real
 * input column differ from column to column (and every column of rows too narrow for a
 * vector).  Input row by input row, each column's sums in scalars over the row's taps and
 * channels, then back to the accumulator rows: the same (ky, kx, ic) order as fl_block. */
static void FL_FN(fl_columns)(const FL_ROWS_T *b, const FC_T *w, int64_t oc, int64_t c0, int64_t c1,
                              FC_T *acc_rows) {
    const fc_window *win = &b->d->win;
    const int64_t tap_step = b->c_in * b->c_out;
    const int64_t chans = oc + b->chans <= b->c_out ? b->chans : b->c_out - oc;
    if (c0 >= c1) return;
    FC_T *ar[FL_SUMS]; /* sum j's accumulator row, or NULL */
    for (int j = 0; j < FL_SUMS; j++) {
        const int64_t r = b->sum_row[j], o = b->sum_chan[j];
        ar[j] = r < b->n_rows && o < chans ? acc_rows + (r * b->c_out + oc + o) * b->wo : NULL;
        if (ar[j])
            for (int64_t ox = c0; ox < c1; ox++) ar[j][ox] = 0;
    }
    for (int64_t iy = b->iy0; iy < b->iy1; iy++) {
        const FC_T *wr[FL_SUMS];
        FL_FN(fl_weights)(b, w, iy, oc, chans, wr);
        const FC_T *row = FL_FN(fl_row)(b, iy);
        for (int64_t ox = c0; ox < c1; ox++) {
            int64_t kx0, kx1;
            fc_valid_taps(ox, b->stride, win->pad_left, win->dil_w, win->k_w, b->x_w, &kx0, &kx1);
            FC_T acc[FL_SUMS];
            for (int j = 0; j < FL_SUMS; j++) acc[j] = wr[j] ? ar[j][ox] : 0;
            for (int64_t kx = kx0; kx < kx1; kx++) {
                const FC_T *src = FL_FN(fl_tap)(b, row, kx, ox);
                for (int64_t ic = 0; ic < b->c_in; ic++) {
                    const FC_T xv = src[ic * b->chan_step];
                    for (int j = 0; j < FL_SUMS; j++)
                        if (wr[j]) acc[j] += wr[j][kx * tap_step + ic * b->c_out] * xv;
                }
            }
            for (int j = 0; j < FL_SUMS; j++)
                if (wr[j]) ar[j][ox] = acc[j];
        }
    }
}

/* Row r of the block, every output channel, tap by tap into its accumulator rows over the
 * columns each tap reaches: rows too narrow for a vector of interior columns (an 8x8
 * image: 3.7 us a call against 4.4 with fl_columns, whose per-column work costs more than
 * these few short loops). */
static void FL_FN(fl_row_taps)(const FL_ROWS_T *b, const FC_T *w, int64_t r, FC_T *acc) {
    const fc_window *win = &b->d->win;
    for (int64_t i = 0; i < b->c_out * b->wo; i++) acc[i] = 0;
    for (int64_t ky = b->ky0[r]; ky < b->ky1[r]; ky++) {
        const FC_T *row = FL_FN(fl_row)(b, b->base[r] + ky * win->dil_h);
        for (int64_t kx = 0; kx < win->k_w; kx++) {
            int64_t lo, hi;
            FL_FN(fl_tap_columns)(b, kx, &lo, &hi);
            if (lo >= hi) continue;
            const FC_T *src = FL_FN(fl_tap)(b, row, kx, lo);
            const FC_T *wk = w + (ky * win->k_w + kx) * b->c_in * b->c_out;
            for (int64_t ic = 0; ic < b->c_in; ic++)
                for (int64_t oc = 0; oc < b->c_out; oc++)
                    FC_FN(fl_axpy)(acc + oc * b->wo + lo, src + ic * b->chan_step,
                                   wk[ic * b->c_out + oc], hi - lo);
        }
    }
}

/* Input row src split into phase rows at dst: channel ic, phase p at (p * c_in + ic) *
 * phase_len (x's columns at a stride s, or not adjacent).  Dense pixels of a few channels
 * are dealt out in one or two vectorized passes (deinterleave: every phase of every channel
 * at once, or the channels apart into tmp first, c_in rows of x->w, then each one's phases);
 * the rest, and the last columns of phases longer than the others, gathered one phase row
 * at a time (their vectors were built element by element for steps over 4).  1 thread,
 * alternating processes on a busy machine, against the gathers: kitten-gray (stride 3)
 * 14.0 us against 19.6, 224x224x3 3x3 -> 1 (channels only) 108 against 120, kitten-rgb (3
 * channels at stride 3) 46.6 against 45.0 (the permutes now, as the profile shows; the
 * FMAs and the loop overhead of 80-column rows are the rest). */
static void FL_FN(fl_split_row)(FC_T *dst, const FC_T *src, const fc_view *x, int64_t s,
                                int64_t phase_len, FC_T *tmp) {
    const int64_t c_in = x->c, whole = x->w / s;
    int64_t j0 = 0; /* the columns dealt out already, in each phase */
    if (x->sc == 1 && x->sw == c_in) {
        if (s * c_in <= FC_DEINTERLEAVE_MAX) {
            FC_FN(deinterleave)(dst, phase_len, src, s * c_in, whole);
            j0 = whole;
        } else if (s <= FC_DEINTERLEAVE_MAX && c_in <= FC_DEINTERLEAVE_MAX) {
            FC_FN(deinterleave)(tmp, x->w, src, c_in, x->w); /* (both are 2 or more here) */
            for (int64_t ic = 0; ic < c_in; ic++)
                FC_FN(deinterleave)(dst + ic * phase_len, c_in * phase_len, tmp + ic * x->w, s,
                                    whole);
            j0 = whole;
        }
    }
    for (int64_t p = 0; p < s; p++)
        for (int64_t ic = 0; ic < c_in; ic++)
            FC_FN(gather)(dst + (p * c_in + ic) * phase_len + j0,
                          src + (j0 * s + p) * x->sw + ic * x->sc, s * x->sw,
                          (x->w - p + s - 1) / s - j0);
}

/* Columns [c0, c1) of one row's accumulators of output channel oc out to y: the bias, then
 * the epilogue. */
static void FL_FN(fl_out)(const FL_ROWS_T *b, FC_T *a, int64_t oc, int64_t c0, int64_t c1, FC_T *y,
                          int64_t y_step) {
    if (b->bias) /* one bias per channel, before the activation */
        for (int64_t ox = c0; ox < c1; ox++) a[ox] += b->bias[oc];
    FC_FN(epilogue_store)(a + c0, c1 - c0, NULL, b->act, y + c0 * y_step, y_step);
}

void FL_FN(filter_rows)(const fc_conv_desc *d, const fc_view *x, const FC_T *w, const FC_T *bias,
                        const fc_view *y, int64_t n, int64_t oy0, int64_t oy1, FC_T *ws) {
    const fc_window *win = &d->win;
    const int64_t s = win->stride_w, wo = y->w, c_in = x->c, c_out = y->c;
    const int64_t phase_len = (x->w + s - 1) / s, chan_len = s * phase_len;
    const int split = FC_FN(fl_split)(d, x);
    const int64_t pl = win->pad_left, pl_div = pl / s + (pl % s != 0); /* ceil */
    FL_ROWS_T b = {.d = d,
                   .c_in = c_in,
                   .c_out = c_out,
                   .stride = s,
                   .phase_step = c_in * phase_len,
                   .chan_step = split ? phase_len : x->sc,
                   .wo = wo,
                   .x_w = x->w,
                   .phase0 = pl_div * s - pl,
                   .shift0 = -pl_div,
                   .step_div = win->dil_w / s,
                   .step_mod = win->dil_w % s,
                   .out_row = y->sh,
                   .out_chan = y->sc,
                   .bias = bias,
                   .act = d->activation,
                   .direct = y->sw == 1 &&
                             (d->activation == FC_ACT_NONE || d->activation == FC_ACT_RELU)};
    FC_FN(fl_shape)(win, c_out, &b.rows, &b.chans);
    const int kf = FL_FN(fl_full_width)(&b);
    for (int64_t j = 0; j < FL_SUMS; j++) {
        b.sum_row[j] = j / b.chans;
        b.sum_chan[j] = j % b.chans;
    }
    FC_T *acc = ws, *phases = ws + b.rows * c_out * wo;
    const FC_T *xn = (const FC_T *)x->data + n * x->sn;
    FC_T *yn = (FC_T *)y->data + n * y->sn;
    /* The interior: the columns every horizontal tap reaches, in whole vectors. */
    int64_t lo = 0, hi = wo;
    for (int64_t kx = 0; kx < win->k_w; kx++) {
        int64_t l, h;
        FL_FN(fl_tap_columns)(&b, kx, &l, &h);
        if (l > lo) lo = l;
        if (h < hi) hi = h;
    }
    /* In vectors: blocks of FL_NB, single ones, and one more ending at hi where the interior
     * is not whole vectors (it recomputes a few columns, in the same order, so the same bits) */
    const int64_t vecs = hi > lo ? (hi - lo) / FL_LANES : 0;
    if (!vecs) lo = hi = wo; /* no interior: fl_row_taps takes the whole row */
    const int64_t blocks = vecs / FL_NB, mid = lo + vecs * FL_LANES, tail = vecs && mid < hi;
    for (int64_t oy = oy0; oy < oy1; oy += b.rows) {
        b.n_rows = oy1 - oy < b.rows ? oy1 - oy : b.rows;
        b.iy0 = INT64_MAX;
        b.iy1 = INT64_MIN;
        for (int64_t r = 0; r < b.n_rows; r++) {
            b.base[r] = (oy + r) * win->stride_h - win->pad_top;
            fc_valid_taps(oy + r, win->stride_h, win->pad_top, win->dil_h, win->k_h, x->h,
                          &b.ky0[r], &b.ky1[r]);
            if (b.ky0[r] >= b.ky1[r]) continue;
            const int64_t first = b.base[r] + b.ky0[r] * win->dil_h;
            const int64_t last = b.base[r] + (b.ky1[r] - 1) * win->dil_h;
            if (first < b.iy0) b.iy0 = first;
            if (last + 1 > b.iy1) b.iy1 = last + 1;
        }
        if (b.iy0 >= b.iy1) b.iy0 = b.iy1 = 0;         /* every row's window in the padding */
        int kb = vecs && b.n_rows == FL_SUMS ? kf : 0; /* k x k unrolled, rows whole */
        for (int64_t r = 0; r < b.n_rows; r++)
            if (b.ky0[r] != 0 || b.ky1[r] != win->k_h) kb = 0;
        b.out = yn + oy * y->sh;
        if (split) {
            for (int64_t iy = b.iy0; iy < b.iy1; iy++)
                FL_FN(fl_split_row)(phases + (iy - b.iy0) * chan_len * c_in, xn + iy * x->sh, x, s,
                                    phase_len, phases + (b.iy1 - b.iy0) * chan_len * c_in);
            b.in = phases;
            b.in_row = c_in * chan_len;
        } else {
            b.in = xn + b.iy0 * x->sh;
            b.in_row = x->sh;
        }
#if FL_SHIFTS
        if (kb) FL_FN(fl_row_full)(&b, w, kb, lo, hi, acc); /* (one output channel) */
#endif
        for (int64_t oc = 0; oc < c_out && !kb; oc += b.chans) {
            int64_t c = lo;
            for (int64_t k = 0; k < blocks; k++, c += FL_NB * FL_LANES)
                FL_FN(fl_block)(&b, w, oc, c, FL_NB, acc);
            for (; c < mid; c += FL_LANES) FL_FN(fl_block)(&b, w, oc, c, 1, acc);
            if (tail) FL_FN(fl_block)(&b, w, oc, hi - FL_LANES, 1, acc);
            if (vecs) { /* else fl_row_taps below */
                FL_FN(fl_columns)(&b, w, oc, 0, lo, acc);
                FL_FN(fl_columns)(&b, w, oc, hi, wo, acc);
            }
        }
        for (int64_t r = 0; r < b.n_rows; r++) {
            FC_T *ar = acc + r * c_out * wo, *yr = yn + (oy + r) * y->sh;
            if (!vecs) FL_FN(fl_row_taps)(&b, w, r, ar);
            for (int64_t oc = 0; oc < c_out; oc++) {
                FC_T *a = ar + oc * wo, *yc = yr + oc * y->sc;
                if (b.direct && kb) {  /* out already, every column */
                } else if (b.direct) { /* the interior is out already */
                    FL_FN(fl_out)(&b, a, oc, 0, lo, yc, y->sw);
                    FL_FN(fl_out)(&b, a, oc, hi, wo, yc, y->sw);
                } else {
                    FL_FN(fl_out)(&b, a, oc, 0, wo, yc, y->sw);
                }
            }
        }
    }
}
