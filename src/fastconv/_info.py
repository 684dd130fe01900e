"""What this build of fastconv runs on: version, CPU, threads and kernels (`fastconv info`)."""

from __future__ import annotations

import os
import platform

from . import _core, __version__


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """The SIMD features the CPU reports that matter to the kernels."""
    wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512vl", "avx512bw", "avx512_bf16")
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    return [w for w in wanted if w in have]
    except OSError:
        pass
    return []


def info() -> dict:
    return {
        "version": __version__,
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cpu_features": cpu_flags(),
        "logical_cpus": os.cpu_count(),
        "openmp": _core.have_openmp(),
        "threads": _core.get_num_threads(),
        "isa": _core.get_isa(),
        "isas_available": _core.isa_names(),
        "gemm_blocking": {dt: _core.gemm_blocking(dt) for dt in ("float32", "float64")},
        "kernels": {
            "conv2d direct": "portable C (NHWC, any stride/dilation/padding/groups)",
            "conv2d im2col": f"implicit im2col + packed GEMM, {_core.get_isa()} micro-kernels",
            "depthwise_conv2d": "portable C direct (grouped convolution)",
            "max_pool2d / avg_pool2d": "portable C",
        },
    }


def format_info(data: dict) -> str:
    lines = [
        f"fastconv {data['version']} (Python {data['python']})",
        f"CPU:      {data['cpu']} ({data['logical_cpus']} logical CPUs)",
        f"features: {' '.join(data['cpu_features']) or 'none detected'}",
        f"OpenMP:   {'yes' if data['openmp'] else 'no (serial build)'}, "
        f"{data['threads']} thread(s)",
        f"ISA:      {data['isa']} (available: {', '.join(data['isas_available'])}; "
        "FASTCONV_ISA lowers it)",
        "GEMM:     "
        + "; ".join(f"{dt} {b['MR']}x{b['NR']} tile" for dt, b in data["gemm_blocking"].items())
        + f"; {data['gemm_blocking']['float32']['MC']} pixels per task, weight panels "
        f"<= {data['gemm_blocking']['float32']['panel_bytes'] // 1024} KiB (L2)",
        "kernels:",
    ]
    lines += [f"  {op:<24} {desc}" for op, desc in data["kernels"].items()]
    return "\n".join(lines)
