"""CUDA C sources of the GPU kernels, the list of their variants, and the compiled-kernel cache.

Every kernel is one source template, instantiated per variant by a few `#define`s in front of
it (dtype, index width, layout, and for the direct convolution a compile-time window and
channels-per-group): never a copy per dtype. A variant's name says everything
(`fc_conv_direct_f32_i32_nhwc_k3x3_cg1`), like XNNPACK's kernel names, and `variants()` is
the one list that the dispatch (`fastconv.gpu`), the tests and tools/check_cuda_kernels.py
(which compiles each with nvcc) all use.

The sources are what CuPy's `RawKernel` compiles with NVRTC: `extern "C" __global__`
functions, no `#include`, no host code. Arrays are read through element strides in
(N, H, W, C) order, so NCHW, NHWC and strided views are read in place; outputs are dense in
the data_format (`FC_CHANNELS_LAST` picks the thread-to-element order, so that writes are
coalesced). float16 never reaches a kernel: it is computed in float32, as on the CPU.

This module imports neither CuPy nor the rest of fastconv at import time (the compile check
loads it on a machine without a GPU); `raw_kernel` imports CuPy on first use.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

KINDS = ("conv_direct", "im2col", "epilogue", "pool_max", "pool_avg")
DTYPES = {"float32": "f32", "float64": "f64"}
INDEX_TYPES = {"int32": "i32", "int64": "i64"}
LAYOUTS = ("NHWC", "NCHW")

# Compile-time windows of the direct kernel (fully unrolled tap loops); any other window runs
# the same source with the window as a run-time argument.
UNROLLED_WINDOWS = ((1, 1), (3, 3), (5, 5), (7, 7))

# The kernels' own activation codes (the `act` argument): fastconv.h's fc_activation, which
# _core exports; this module loads without the extension (the compile check), so it keeps
# this copy, and tests/test_c_enums.py keeps it equal to the C enum.
ACTIVATION_CODES = {None: 0, "relu": 1, "relu6": 2, "sigmoid": 3, "tanh": 4}

# NVRTC options. CuPy 14 compiles RawKernels with -std=c++17 by default; it is spelled out so
# that the compile check uses exactly the same flags. No fast math: NaN must propagate.
OPTIONS = ("-std=c++17",)

_PRELUDE = {
    "float32": r"""
typedef float real;
#define FC_EXP expf
#define FC_TANH tanhf
#define FC_NEG_INF __int_as_float((int)0xff800000u)
""",
    "float64": r"""
typedef double real;
#define FC_EXP exp
#define FC_TANH tanh
#define FC_NEG_INF __longlong_as_double((long long)0xfff0000000000000ULL)
""",
}

_INDEX = {"int32": "typedef int idx_t;\n", "int64": "typedef long long idx_t;\n"}

# The grid-stride loop over the output elements, in the order they lie in memory.
_LOOP = r"""
    for (idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (idx_t)gridDim.x * blockDim.x)
"""

_ACTIVATE = r"""
/* Bias-added value -> activation, with the CPU kernels' NaN rules (ReLU keeps NaN). */
__device__ __forceinline__ real fc_activate(real v, const int act) {
    switch (act) {
    case 1: return v > (real)0 ? v : (v != v ? v : (real)0);
    case 2: return v != v ? v : (v < (real)0 ? (real)0 : (v > (real)6 ? (real)6 : v));
    case 3: return (real)1 / ((real)1 + FC_EXP(-v));
    case 4: return FC_TANH(v);
    default: return v;
    }
}
"""

_CONV_DIRECT = (
    r"""
/* Direct grouped convolution, one thread per output element: depthwise (FC_CG 1) and
 * small channel counts. x: (N, H, W, C) through element strides; w: dense HWIO
 * [kh][kw][cg][out_c]; y: dense in the data_format; bias and activation fused. */
extern "C" __global__ void FC_KERNEL(
    const real* __restrict__ x, const real* __restrict__ w, const real* __restrict__ bias,
    real* __restrict__ y, const idx_t total,
    const idx_t in_h, const idx_t in_w, const idx_t out_h, const idx_t out_w, const idx_t out_c,
    const idx_t xs_n, const idx_t xs_h, const idx_t xs_w, const idx_t xs_c,
    const idx_t kh, const idx_t kw, const idx_t stride_h, const idx_t stride_w,
    const idx_t dil_h, const idx_t dil_w, const idx_t pad_top, const idx_t pad_left,
    const idx_t cg, const idx_t og, const int has_bias, const int act)
{
"""
    + _LOOP
    + r"""    {
        idx_t t = i, n, oy, ox, o;
#if FC_CHANNELS_LAST
        o = t % out_c; t /= out_c; ox = t % out_w; t /= out_w; oy = t % out_h; n = t / out_h;
#else
        ox = t % out_w; t /= out_w; oy = t % out_h; t /= out_h; o = t % out_c; n = t / out_c;
#endif
        const real* xg = x + n * xs_n + (o / og) * FC_CG * xs_c;
        const idx_t iy0 = oy * stride_h - pad_top, ix0 = ox * stride_w - pad_left;
        real acc = (real)0;
#pragma unroll
        for (idx_t ky = 0; ky < FC_KH; ky++) {
            const idx_t iy = iy0 + ky * dil_h;
            if (iy < 0 || iy >= in_h) continue;
#pragma unroll
            for (idx_t kx = 0; kx < FC_KW; kx++) {
                const idx_t ix = ix0 + kx * dil_w;
                if (ix < 0 || ix >= in_w) continue;
                const real* xp = xg + iy * xs_h + ix * xs_w;
                const real* wp = w + (ky * FC_KW + kx) * FC_CG * out_c + o;
                for (idx_t c = 0; c < FC_CG; c++) acc += xp[c * xs_c] * wp[c * out_c];
            }
        }
        if (has_bias) acc += bias[o];
        y[i] = fc_activate(acc, act);
    }
}
"""
)

_IM2COL = (
    r"""
/* im2col for the cuBLAS GEMM; column index k = (ky * kw + kx) * cg + c, the row order of
 * the HWIO filter read as a [kh * kw * cg][out_c] matrix. Padding cells are 0.
 *   FC_CHANNELS_LAST 1: cols[g][n][p][k]   (NHWC: cols @ W -> [n * p][out_c])
 *   FC_CHANNELS_LAST 0: cols[n][g][k][p]   (NCHW: W^T @ cols -> [n][out_c][p]) */
extern "C" __global__ void FC_KERNEL(
    const real* __restrict__ x, real* __restrict__ cols, const idx_t total,
    const idx_t batch, const idx_t in_h, const idx_t in_w, const idx_t out_h, const idx_t out_w,
    const idx_t xs_n, const idx_t xs_h, const idx_t xs_w, const idx_t xs_c,
    const idx_t kh, const idx_t kw, const idx_t stride_h, const idx_t stride_w,
    const idx_t dil_h, const idx_t dil_w, const idx_t pad_top, const idx_t pad_left,
    const idx_t cg, const idx_t groups)
{
    const idx_t k_len = FC_KH * FC_KW * cg, p_len = out_h * out_w;
"""
    + _LOOP
    + r"""    {
        idx_t t = i, n, g, k, p;
#if FC_CHANNELS_LAST
        k = t % k_len; t /= k_len; p = t % p_len; t /= p_len; n = t % batch; g = t / batch;
#else
        p = t % p_len; t /= p_len; k = t % k_len; t /= k_len; g = t % groups; n = t / groups;
#endif
        const idx_t c = k % cg, tap = k / cg, kx = tap % FC_KW, ky = tap / FC_KW;
        const idx_t iy = (p / out_w) * stride_h - pad_top + ky * dil_h;
        const idx_t ix = (p % out_w) * stride_w - pad_left + kx * dil_w;
        cols[i] = (iy >= 0 && iy < in_h && ix >= 0 && ix < in_w)
                      ? x[n * xs_n + iy * xs_h + ix * xs_w + (g * cg + c) * xs_c]
                      : (real)0;
    }
}
"""
)

_EPILOGUE = (
    r"""
/* GEMM result -> output: bias, activation, and the group-major -> data_format reorder.
 * z element (n, p, o = g * og + oo) is at n*zs_n + p*zs_p + g*zs_g + oo*zs_o; y is dense in
 * the data_format. z may be y itself (each thread reads only the element it writes). */
extern "C" __global__ void FC_KERNEL(
    const real* z, const real* __restrict__ bias, real* y, const idx_t total,
    const idx_t p_len, const idx_t out_c, const idx_t og,
    const idx_t zs_n, const idx_t zs_p, const idx_t zs_g, const idx_t zs_o,
    const int has_bias, const int act)
{
"""
    + _LOOP
    + r"""    {
        idx_t t = i, n, p, o;
#if FC_CHANNELS_LAST
        o = t % out_c; t /= out_c; p = t % p_len; n = t / p_len;
#else
        p = t % p_len; t /= p_len; o = t % out_c; n = t / out_c;
#endif
        const idx_t g = o / og;
        real v = z[n * zs_n + p * zs_p + g * zs_g + (o - g * og) * zs_o];
        if (has_bias) v += bias[o];
        y[i] = fc_activate(v, act);
    }
}
"""
)

_POOL = (
    r"""
/* Max / average pooling, one thread per output element. Padding cells are skipped, never
 * compared or counted (TF's average divides by the real cells); NaN propagates in max. */
extern "C" __global__ void FC_KERNEL(
    const real* __restrict__ x, real* __restrict__ y, const idx_t total,
    const idx_t in_h, const idx_t in_w, const idx_t out_h, const idx_t out_w,
    const idx_t channels,
    const idx_t xs_n, const idx_t xs_h, const idx_t xs_w, const idx_t xs_c,
    const idx_t kh, const idx_t kw, const idx_t stride_h, const idx_t stride_w,
    const idx_t pad_top, const idx_t pad_left)
{
"""
    + _LOOP
    + r"""    {
        idx_t t = i, n, oy, ox, c;
#if FC_CHANNELS_LAST
        c = t % channels; t /= channels; ox = t % out_w; t /= out_w; oy = t % out_h;
        n = t / out_h;
#else
        ox = t % out_w; t /= out_w; oy = t % out_h; t /= out_h; c = t % channels;
        n = t / channels;
#endif
        const idx_t iy0 = oy * stride_h - pad_top, ix0 = ox * stride_w - pad_left;
        const idx_t y0 = iy0 > 0 ? iy0 : 0, y1 = iy0 + kh < in_h ? iy0 + kh : in_h;
        const idx_t x0 = ix0 > 0 ? ix0 : 0, x1 = ix0 + kw < in_w ? ix0 + kw : in_w;
        const real* xc = x + n * xs_n + c * xs_c;
#if FC_POOL_MAX
        real acc = FC_NEG_INF;
        for (idx_t iy = y0; iy < y1; iy++)
            for (idx_t ix = x0; ix < x1; ix++) {
                const real v = xc[iy * xs_h + ix * xs_w];
                acc = (v > acc || v != v) ? v : acc; /* stays NaN once NaN */
            }
        y[i] = acc;
#else
        real acc = (real)0;
        for (idx_t iy = y0; iy < y1; iy++)
            for (idx_t ix = x0; ix < x1; ix++) acc += xc[iy * xs_h + ix * xs_w];
        y[i] = acc / (real)((y1 - y0) * (x1 - x0));
#endif
    }
}
"""
)

_BODIES = {
    "conv_direct": _ACTIVATE + _CONV_DIRECT,
    "im2col": _IM2COL,
    "epilogue": _ACTIVATE + _EPILOGUE,
    "pool_max": _POOL,
    "pool_avg": _POOL,
}


@dataclass(frozen=True)
class Variant:
    """One compiled instance of a kernel template.

    kh, kw: compile-time window of conv_direct (0: run-time `kh`/`kw` arguments);
    cg: compile-time channels per group of conv_direct (1: depthwise; 0: run-time `cg`).
    """

    kind: str
    dtype: str
    index: str
    layout: str
    kh: int = 0
    kw: int = 0
    cg: int = 0

    def __post_init__(self):
        if self.kind not in KINDS or self.dtype not in DTYPES or self.index not in INDEX_TYPES:
            raise ValueError(f"unknown kernel variant {self}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"unknown kernel variant {self}")
        if self.kind != "conv_direct" and (self.kh or self.kw or self.cg):
            raise ValueError(f"only conv_direct has compile-time windows: {self}")

    @property
    def name(self) -> str:
        parts = ["fc", self.kind, DTYPES[self.dtype], INDEX_TYPES[self.index], self.layout.lower()]
        if self.kh:
            parts.append(f"k{self.kh}x{self.kw}")
        if self.cg:
            parts.append(f"cg{self.cg}")
        return "_".join(parts)

    def source(self) -> str:
        """The complete CUDA C translation unit of this variant, as NVRTC compiles it."""
        defines = {
            "FC_KERNEL": self.name,
            "FC_CHANNELS_LAST": int(self.layout == "NHWC"),
            "FC_KH": self.kh or "kh",
            "FC_KW": self.kw or "kw",
            "FC_CG": self.cg or "cg",
            "FC_POOL_MAX": int(self.kind == "pool_max"),
        }
        head = "".join(f"#define {k} {v}\n" for k, v in defines.items())
        return (
            f"/* {self.name} (generated by fastconv.gpu.kernels) */\n"
            + head
            + _INDEX[self.index]
            + _PRELUDE[self.dtype]
            + _BODIES[self.kind]
        )


def direct_window(kh: int, kw: int) -> tuple[int, int]:
    """The compile-time window class of the direct kernel for a kh x kw filter."""
    return (kh, kw) if (kh, kw) in UNROLLED_WINDOWS else (0, 0)


def variants():
    """Every variant the dispatch can ask for (the compile check compiles each)."""
    for dtype in DTYPES:
        for index in INDEX_TYPES:
            for layout in LAYOUTS:
                for kh, kw in ((0, 0),) + UNROLLED_WINDOWS:
                    for cg in (0, 1):
                        yield Variant("conv_direct", dtype, index, layout, kh, kw, cg)
                for kind in ("im2col", "epilogue", "pool_max", "pool_avg"):
                    yield Variant(kind, dtype, index, layout)


@functools.cache
def raw_kernel(variant: Variant, cupy=None):
    """The RawKernel of a variant, created once per process (and per CuPy-like module: the
    tests also run these sources on the host). CuPy compiles it on the first launch on each
    device and keeps the binary in its on-disk kernel cache."""
    if cupy is None:
        import cupy as installed

        cupy = installed
    return cupy.RawKernel(variant.source(), variant.name, options=OPTIONS)
