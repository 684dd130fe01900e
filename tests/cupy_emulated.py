"""A host stand-in for CuPy that runs fastconv's real CUDA kernel sources on the CPU.

Only what fastconv.gpu uses: an `ndarray` (a NumPy subclass whose module name starts with
"cupy", so fastconv routes it to the GPU path), asarray/empty/ascontiguousarray/matmul/
may_share_memory/isfinite, `cuda.Device`, and `RawKernel`. A RawKernel's source is compiled as C++
for the host (a small shim maps `__global__`, `blockIdx`, ... to plain C++) and launched on a
virtual grid of 2 blocks x 3 threads, so the grid-stride loops are exercised too. Every
launch checks each argument against the kernel's parameter list (pointer dtype against
`real`, integer width against `idx_t` or `int`), which is how a wrong argument would
silently corrupt a real launch.

What this cannot show: NVRTC acceptance (tools/check_cuda_kernels.py compiles every variant
with nvcc), cuBLAS, real thread concurrency, and speed. Those need a GPU run.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading

import numpy as np

__version__ = "emulated"

CXX = shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++")

_SHIM = r"""
#include <cmath>
#include <cstring>
#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
struct fc_dim3 { unsigned int x, y, z; };
static fc_dim3 blockIdx = {0, 0, 0}, blockDim = {1, 1, 1}, gridDim = {1, 1, 1},
               threadIdx = {0, 0, 0};
extern "C" void fc_emulator_set_thread(unsigned grid, unsigned block, unsigned b, unsigned t) {
    gridDim.x = grid; blockDim.x = block; blockIdx.x = b; threadIdx.x = t;
}
static inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
static inline double __longlong_as_double(long long i) {
    double d; std::memcpy(&d, &i, 8); return d;
}
"""

VIRTUAL_GRID, VIRTUAL_BLOCK = 2, 3
_lock = threading.Lock()
_cache_dir = None


class Device:
    def __init__(self, id=0):
        self.id = id

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Runtime:
    @staticmethod
    def getDeviceCount():  # noqa: N802 (mirrors cupy.cuda.runtime)
        return 1


class cuda:  # noqa: N801 (mirrors cupy.cuda)
    Device = Device
    runtime = _Runtime


class ndarray(np.ndarray):  # noqa: N801 (mirrors cupy.ndarray)
    """A "device" array: a NumPy array that fastconv sees as a CuPy array."""

    @property
    def device(self):
        return Device(0)

    def get(self):
        return np.array(self)


def asarray(a, dtype=None):
    if isinstance(a, ndarray) and dtype is None:
        return a
    return np.array(a, dtype=dtype, copy=True).view(ndarray)


def asnumpy(a):
    return np.array(a)


def empty(shape, dtype=np.float64):
    return np.empty(shape, dtype).view(ndarray)


def full(shape, value, dtype=np.float64):
    return np.full(shape, value, dtype).view(ndarray)


def ascontiguousarray(a, dtype=None):
    return np.ascontiguousarray(a, dtype=dtype).view(ndarray)


def matmul(a, b, out=None):
    """cupy.matmul: C-contiguous `out` of the result dtype receives the product."""
    result = np.matmul(np.asarray(a), np.asarray(b))
    if out is None:
        return result.view(ndarray)
    if out.shape != result.shape:
        raise ValueError("Output array has an invalid size")
    out[...] = result
    return out


may_share_memory = np.may_share_memory


def isfinite(a):
    return np.isfinite(np.asarray(a)).view(ndarray)


def _compile(source: str, name: str):
    global _cache_dir
    if CXX is None:
        raise RuntimeError("no C++ compiler to run the kernels on the host")
    with _lock:
        if _cache_dir is None:
            _cache_dir = tempfile.mkdtemp(prefix="fastconv-emulated-")
            with open(os.path.join(_cache_dir, "shim.h"), "w") as f:
                f.write(_SHIM)
        key = hashlib.sha1(source.encode()).hexdigest()[:16]
        lib = os.path.join(_cache_dir, f"{name}-{key}.so")
        if not os.path.exists(lib):
            src = lib[:-3] + ".cpp"
            with open(src, "w") as f:
                f.write(source)
            cmd = [
                CXX,
                "-std=c++17",
                "-O1",
                "-shared",
                "-fPIC",
                "-Wno-unknown-pragmas",
                "-include",
                os.path.join(_cache_dir, "shim.h"),
                src,
                "-o",
                lib,
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode:
                raise RuntimeError(f"host compile of {name} failed:\n{proc.stderr}")
    return ctypes.CDLL(lib)


def _parameters(source: str):
    """[(kind, name)] of the kernel's parameters: kind 'ptr', 'idx' or 'int'."""
    match = re.search(r"void\s+FC_KERNEL\s*\((.*?)\)\s*\{", source, re.S)
    params = []
    for part in match.group(1).split(","):
        part = " ".join(part.split())
        name = part.split()[-1]
        if "*" in part:
            params.append(("ptr", name))
        elif "idx_t" in part:
            params.append(("idx", name))
        elif re.search(r"\bint\b", part):
            params.append(("int", name))
        else:
            raise ValueError(f"unsupported kernel parameter {part!r}")
    return params


class RawKernel:
    def __init__(self, code, name, options=(), **kwargs):
        self.code, self.name, self.options = code, name, tuple(options)
        real = re.search(r"typedef (float|double) real;", code).group(1)
        index = re.search(r"typedef (int|long long) idx_t;", code).group(1)
        self._real = np.dtype(np.float32 if real == "float" else np.float64)
        self._idx = np.int32 if index == "int" else np.int64
        self._params = _parameters(code)
        assert f"#define FC_KERNEL {name}\n" in code, "kernel name differs from FC_KERNEL"
        self._fn = None

    def _convert(self, args):
        if len(args) != len(self._params):
            raise TypeError(
                f"{self.name}: {len(args)} arguments for {len(self._params)} parameters"
            )
        converted = []
        for (kind, pname), arg in zip(self._params, args):
            if kind == "ptr":
                if not isinstance(arg, ndarray) or arg.dtype != self._real:
                    raise TypeError(
                        f"{self.name}: {pname} must be a device array of "
                        f"{self._real}, got {type(arg).__name__} "
                        f"{getattr(arg, 'dtype', '')}"
                    )
                converted.append(ctypes.c_void_p(arg.ctypes.data))
            elif kind == "idx":
                if type(arg) is not self._idx:
                    raise TypeError(
                        f"{self.name}: {pname} must be {self._idx.__name__}, "
                        f"got {type(arg).__name__}"
                    )
                converted.append(
                    (ctypes.c_int32 if self._idx is np.int32 else ctypes.c_int64)(int(arg))
                )
            else:
                if type(arg) is not np.int32:
                    raise TypeError(f"{self.name}: {pname} must be int32, got {type(arg).__name__}")
                converted.append(ctypes.c_int32(int(arg)))
        return converted

    def __call__(self, grid, block, args):
        grid, block = tuple(grid), tuple(block)
        if not (1 <= grid[0] < 2**31 and 1 <= block[0] <= 1024):
            raise ValueError(f"{self.name}: bad launch grid {grid} x block {block}")
        if self._fn is None:
            lib = _compile(self.code, self.name)
            self._fn = getattr(lib, self.name)
            self._set = lib.fc_emulator_set_thread
        converted = self._convert(args)
        g, b = min(grid[0], VIRTUAL_GRID), min(block[0], VIRTUAL_BLOCK)
        for bi in range(g):
            for ti in range(b):
                self._set(g, b, bi, ti)
                self._fn(*converted)
