#!/usr/bin/env python3
"""Compile every CUDA kernel variant of fastconv.gpu with the local nvcc (no GPU needed).

Each variant of `fastconv.gpu.kernels.variants()` is written out as the exact translation
unit that CuPy's RawKernel hands to NVRTC (`extern "C" __global__`, no host code, no
#include) and compiled with `nvcc --cubin -arch=<arch>` and the same -std as CuPy, warnings
as errors. The check fails if any variant does not compile, if its kernel symbol is missing
from the binary, or if ptxas reports register spills.

    python tools/check_cuda_kernels.py                  # sm_80 and sm_90, 2 jobs
    python tools/check_cuda_kernels.py --arch sm_90 --match conv_direct_f32
    python tools/check_cuda_kernels.py --nvrtc          # CuPy's NVRTC library (no GPU needed)
    python tools/check_cuda_kernels.py --cupy           # on a GPU machine: cupy.RawKernel

kernels.py is loaded from its file, so neither the compiled fastconv extension nor CuPy is
needed for the nvcc check. --nvrtc compiles through the NVRTC library CuPy itself uses (CuPy
installed, plus nvidia-cuda-nvrtc-cu12 or a CUDA 12 toolkit; still no GPU), which is the
exact compiler of a RawKernel.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.util
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
KERNELS = ROOT / "src" / "fastconv" / "gpu" / "kernels.py"


def load_kernels():
    spec = importlib.util.spec_from_file_location("fastconv_gpu_kernels", KERNELS)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while creating classes
    spec.loader.exec_module(module)
    return module


def compile_variant(nvcc: str, options, variant, arch: str, workdir: pathlib.Path):
    """(ok, message) for one variant on one architecture."""
    source = variant.source()
    if "#include" in source:
        return False, "has an #include (NVRTC sources must be self-contained)"
    cu = workdir / f"{variant.name}.{arch}.cu"
    cubin = cu.with_suffix(".cubin")
    cu.write_text(source)
    cmd = [
        nvcc,
        "--cubin",
        f"-arch={arch}",
        *options,
        "-Werror",
        "all-warnings",
        "-Xptxas",
        "-v",
        "-o",
        str(cubin),
        str(cu),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    log = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        return False, "nvcc failed:\n" + log
    if variant.name.encode() not in cubin.read_bytes():
        return False, f"symbol {variant.name} missing from the cubin"
    regs = re.search(r"Used (\d+) registers", log)
    spills = [int(s) for s in re.findall(r"(\d+) bytes spill (?:stores|loads)", log)]
    if any(spills):
        return False, "register spills:\n" + log
    return True, f"{regs.group(1) if regs else '?'} registers, no spills"


def compile_with_nvrtc(kernels, variant, arch: str):
    """(ok, message): the variant through the NVRTC library CuPy loads (cupy-cuda12x finds
    it in the nvidia-cuda-nvrtc-cu12 wheel or a CUDA 12 toolkit); no GPU needed. Warnings
    fail, as with nvcc."""
    from cupy_backends.cuda.libs import nvrtc

    prog = nvrtc.createProgram(variant.source(), f"{variant.name}.cu", [], [])
    try:
        try:
            nvrtc.compileProgram(prog, [*kernels.OPTIONS, f"-arch={arch}"])
        except nvrtc.NVRTCError as e:
            return False, f"{e}\n{nvrtc.getProgramLog(prog)}"
        log = nvrtc.getProgramLog(prog).strip("\x00 \n")
        cubin = nvrtc.getCUBIN(prog)
    finally:
        nvrtc.destroyProgram(prog)
    if log:
        return False, "warnings:\n" + log
    if variant.name.encode() not in cubin:
        return False, f"symbol {variant.name} missing from the cubin"
    return True, f"{len(cubin)} bytes of cubin, no warnings"


def compile_with_cupy(kernels, variant):
    """(ok, message): the variant through cupy.RawKernel (NVRTC, for the current device),
    exactly as fastconv.gpu compiles it."""
    import cupy

    try:
        kernel = cupy.RawKernel(variant.source(), variant.name, options=kernels.OPTIONS)
        kernel.compile()
        regs, local = kernel.num_regs, kernel.local_size_bytes
    except Exception as e:  # noqa: BLE001 - a compile error, with NVRTC's log
        return False, f"{type(e).__name__}: {e}"
    return True, f"{regs} registers, {local} bytes local memory"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", action="append", help="sm_XX (repeatable; default sm_80, sm_90)")
    parser.add_argument("--match", default="", help="only variants whose name contains this")
    parser.add_argument("--jobs", type=int, default=2, help="parallel nvcc processes (default 2)")
    parser.add_argument("--nvcc", default=shutil.which("nvcc") or "nvcc")
    parser.add_argument("--quiet", action="store_true", help="print failures and the summary only")
    parser.add_argument(
        "--nvrtc",
        action="store_true",
        help="compile with the NVRTC library CuPy uses instead of nvcc",
    )
    parser.add_argument(
        "--cupy",
        action="store_true",
        help="compile with cupy.RawKernel for the current GPU (needs a GPU)",
    )
    args = parser.parse_args(argv)
    if args.cupy:
        return main_cupy(args)
    if args.nvrtc:
        return main_nvrtc(args)
    arches = args.arch or ["sm_80", "sm_90"]

    kernels = load_kernels()
    version = subprocess.run([args.nvcc, "--version"], capture_output=True, text=True).stdout
    release = [line for line in version.splitlines() if "release" in line]
    print(f"{args.nvcc}: {release[0].strip() if release else 'not found'}")
    variants = [v for v in kernels.variants() if args.match in v.name]
    names = [v.name for v in variants]
    assert len(set(names)) == len(names), "two variants share a kernel name"
    print(
        f"{len(variants)} variants x {len(arches)} architectures ({', '.join(arches)}), "
        f"options {' '.join(kernels.OPTIONS)} -Werror all-warnings"
    )

    failures = 0
    start = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="fastconv-cuda-") as tmp,
        concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool,
    ):
        jobs = [
            (
                v,
                a,
                pool.submit(compile_variant, args.nvcc, kernels.OPTIONS, v, a, pathlib.Path(tmp)),
            )
            for v in variants
            for a in arches
        ]
        for variant, arch, job in jobs:
            ok, message = job.result()
            failures += not ok
            if not ok or not args.quiet:
                print(f"{'ok  ' if ok else 'FAIL'} {arch} {variant.name}: {message}")
    elapsed = time.perf_counter() - start
    print(f"{len(jobs) - failures} compiled, {failures} failed ({elapsed:.0f} s)")
    return 1 if failures else 0


def main_nvrtc(args) -> int:
    from cupy_backends.cuda.libs import nvrtc

    kernels = load_kernels()
    arches = args.arch or ["sm_80", "sm_90"]
    variants = [v for v in kernels.variants() if args.match in v.name]
    major, minor = nvrtc.getVersion()
    print(
        f"NVRTC {major}.{minor} (CuPy's): {len(variants)} variants x {len(arches)} "
        f"architectures ({', '.join(arches)}), options {' '.join(kernels.OPTIONS)}"
    )
    failures = 0
    for variant in variants:
        for arch in arches:
            ok, message = compile_with_nvrtc(kernels, variant, arch)
            failures += not ok
            if not ok or not args.quiet:
                print(f"{'ok  ' if ok else 'FAIL'} {arch} {variant.name}: {message}")
    print(f"{len(variants) * len(arches) - failures} compiled, {failures} failed")
    return 1 if failures else 0


def main_cupy(args) -> int:
    import cupy

    kernels = load_kernels()
    device = cupy.cuda.Device()
    variants = [v for v in kernels.variants() if args.match in v.name]
    print(
        f"CuPy {cupy.__version__}, device {device.id} (compute capability "
        f"{device.compute_capability}): {len(variants)} variants, options "
        f"{' '.join(kernels.OPTIONS)}"
    )
    failures = 0
    for variant in variants:
        ok, message = compile_with_cupy(kernels, variant)
        failures += not ok
        if not ok or not args.quiet:
            print(f"{'ok  ' if ok else 'FAIL'} {variant.name}: {message}")
    print(f"{len(variants) - failures} compiled, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
