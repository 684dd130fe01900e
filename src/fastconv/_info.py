"""What this build of fastconv runs on: version, CPU, threads and kernels (`fastconv info`)."""

from __future__ import annotations

import importlib.util
import os
import platform

from . import _core, _isa, _openmp, _threads, __version__


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


def gpu_info() -> dict:
    """Whether CuPy and a CUDA device are there for the GPU path (fastconv.gpu). CuPy is
    imported only if it is installed, and any failure of its device query is reported, not
    raised (no driver, no device, a CUDA mismatch...)."""
    try:
        installed = importlib.util.find_spec("cupy") is not None
    except (ImportError, ValueError):
        installed = False
    if not installed:
        return {"cupy": None, "devices": [], "error": "CuPy is not installed"}
    try:
        import cupy

        version = cupy.__version__
    except Exception as e:  # noqa: BLE001 - a broken install must not break `fastconv info`
        return {"cupy": None, "devices": [], "error": f"import cupy failed: {e}"}
    try:
        devices = []
        for i in range(cupy.cuda.runtime.getDeviceCount()):
            props = cupy.cuda.runtime.getDeviceProperties(i)
            name = props["name"]
            name = name.decode() if isinstance(name, bytes) else str(name)
            devices.append(f"{name} (compute capability {props['major']}.{props['minor']})")
    except Exception as e:  # noqa: BLE001 - nor a broken driver
        return {"cupy": version, "devices": [], "error": f"{type(e).__name__}: {e}"}
    return {"cupy": version, "devices": devices, "error": None if devices else "no CUDA device"}


def info() -> dict:
    return {
        "version": __version__,
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cpu_features": cpu_flags(),
        "logical_cpus": os.cpu_count(),
        "openmp": _core.have_openmp(),
        "threads": _core.get_num_threads(),
        "cpus_available": _threads.cpus_available(),
        "openmp_wait_policy": _openmp.WAIT_POLICY,
        "contention": _core.parallel_stats(),
        "isa": _core.get_isa(),
        "isas_available": _core.isa_names(),
        "isa_requested": _isa.requested(),
        "gemm_blocking": {dt: _core.gemm_blocking(dt) for dt in ("float32", "float64")},
        "kernels": {
            "conv2d im2col": f"indirect GEMM, {_core.get_isa()} micro-kernels",
            "conv2d winograd": f"F(2x2,3x3), {_core.get_isa()} transforms + GEMM micro-kernels",
            "conv2d direct": "portable C (any stride/dilation/padding/groups); "
            f"{_core.get_isa()} kernels for image filters (1-4 -> 1-4 channels), "
            "first layers (1-4 channels in, whole vectors out) "
            "and 1x1 groups of five vectors",
            "depthwise_conv2d": f"{_core.get_isa()} channel-vector kernel, 8-pixel blocks",
            "max_pool2d / avg_pool2d": f"{_core.get_isa()} vertical + horizontal passes",
        },
        "gpu": gpu_info(),
    }


def _contention_line(c: dict) -> str:
    judged = (
        f"{c['contended_calls']} of {c['parallel_calls']} calls on several threads "
        f"were kept waiting by other processes"
    )
    return judged + (f"; teams capped at {c['cap']} thread(s) for now" if c["cap"] else "")


def _isa_request_line(data: dict) -> str:
    req = data["isa_requested"]
    if not req["value"]:
        return "FASTCONV_ISA not set: the best level; FASTCONV_ISA=avx2 or baseline lowers it"
    if req["honoured"]:
        return f"FASTCONV_ISA={req['value']} requested"
    return req["note"]


def format_info(data: dict) -> str:
    lines = [
        f"fastconv {data['version']} (Python {data['python']})",
        f"CPU:      {data['cpu']} ({data['logical_cpus']} logical CPUs)",
        f"features: {' '.join(data['cpu_features']) or 'none detected'}",
        f"OpenMP:   {'yes' if data['openmp'] else 'no (serial build)'}, "
        f"{data['threads']} thread(s) of {data['cpus_available']} CPU(s) this process may use; "
        f"wait policy {data['openmp_wait_policy']}",
        f"load:     {_contention_line(data['contention'])}",
        f"ISA:      {data['isa']} runs ({_isa_request_line(data)}; available: "
        f"{', '.join(data['isas_available'])})",
        "GEMM:     "
        + "; ".join(f"{dt} {b['MR']}x{b['NR']} tile" for dt, b in data["gemm_blocking"].items())
        + f"; {data['gemm_blocking']['float32']['MC']} pixels per task, weight panels "
        f"<= {data['gemm_blocking']['float32']['panel_bytes'] // 1024} KiB (L2)",
        "kernels:",
    ]
    lines += [f"  {op:<24} {desc}" for op, desc in data["kernels"].items()]
    gpu = data["gpu"]
    if gpu["devices"]:
        lines.append(f"GPU:      CuPy {gpu['cupy']}: {'; '.join(gpu['devices'])}")
    elif gpu["cupy"]:
        lines.append(f"GPU:      CuPy {gpu['cupy']}, no usable CUDA device ({gpu['error']})")
    else:
        lines.append(
            f"GPU:      none ({gpu['error']}; pip install 'fastconv[gpu]', or '.[gpu]' "
            "in a source checkout, for CuPy)"
        )
    return "\n".join(lines)
