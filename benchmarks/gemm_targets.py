"""The GEMM engine's four targets, measured side by side in one process per thread count.

    python benchmarks/gemm_targets.py            # everything, 1 and 2 threads
    python benchmarks/gemm_targets.py --quick    # a fast pass to check it runs

1. GEMM against NumPy's BLAS: 1x1 convolutions that are exactly a GEMM, against
   x.reshape(-1, C) @ w.reshape(C, O) (time ratio; target <= 1.10), float32 and float64.
2. Large layers through algorithm="im2col" against TensorFlow's faster mode (the faster
   of tf.function on pre-made tensors and eager on NumPy arrays), with % of the FMA peak.
3. Peak resident memory growth of an 8x224x224x64 3x3x64x64 SAME convolution into out=.
4. The fused epilogue: bias + relu against the plain convolution on r50-3x3-28.

Each thread count runs in its own process, since TensorFlow fixes its thread pools at
start-up. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for this comparison (they override the core
type and cache size OpenBLAS detects itself, so NumPy would not run its best kernel here) and
threadpoolctl reports which kernel NumPy runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # before NumPy loads OpenBLAS
    os.environ.pop(_var, None)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
GEMMS = [((1, 64, 64, 1024), 1024), ((8, 28, 28, 512), 512)]
LARGE_LAYERS = [
    "r50-3x3-56",
    "r50-3x3-28",
    "r50-3x3-14",
    "r50-1x1-56",
    "vgg-3x3-224",
    "b8-3x3-56",
    "lenet-c2",
]


def fma_peak() -> float | None:
    """GFLOP/s of one core's FMA units (benchmarks/fma_peak.c), None without a compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "fma_peak"
        flags = ["-O2", "-mavx512f", "-mfma"]
        if subprocess.run([cc, *flags, str(HERE / "fma_peak.c"), "-o", str(exe)]).returncode:
            flags = ["-O2", "-mavx2", "-mfma"]
            subprocess.run([cc, *flags, str(HERE / "fma_peak.c"), "-o", str(exe)], check=True)
        return float(subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout)


def _timer(quick: bool):
    from fastconv.bench.timing import Policy, interleaved

    policy = Policy.quick() if quick else Policy(budget=3.0, max_rounds=15)
    return lambda calls: {k: t.median for k, t in interleaved(calls, policy).items()}


def gemm_rows(threads: int, quick: bool) -> list[dict]:
    import fastconv
    from threadpoolctl import threadpool_limits

    time_them = _timer(quick)
    rows = []
    for dtype in (np.float32, np.float64):
        for shape, out_c in GEMMS:
            rng = np.random.default_rng(0)
            x = rng.standard_normal(shape).astype(dtype)
            w = rng.standard_normal((1, 1, shape[3], out_c)).astype(dtype)
            y = np.empty(shape[:3] + (out_c,), dtype)
            x2, w2 = x.reshape(-1, shape[3]), w.reshape(shape[3], out_c)
            y2 = np.empty((x2.shape[0], out_c), dtype)
            with threadpool_limits(threads, user_api="blas"):
                t = time_them(
                    {
                        "fastconv": lambda: fastconv.conv2d(
                            x, w, 1, "VALID", algorithm="im2col", out=y
                        ),
                        "numpy": lambda: np.matmul(x2, w2, out=y2),
                    }
                )
            flops = 2 * x2.shape[0] * shape[3] * out_c
            rows.append(
                {
                    "dtype": np.dtype(dtype).name,
                    "shape": f"{shape} x {shape[3]}x{out_c}",
                    "fastconv_ms": t["fastconv"] * 1e3,
                    "numpy_ms": t["numpy"] * 1e3,
                    "fastconv_gflops": flops / t["fastconv"] / 1e9,
                    "ratio": t["fastconv"] / t["numpy"],
                }
            )
    return rows


def layer_rows(threads: int, quick: bool) -> list[dict]:
    from fastconv.bench import runners
    from fastconv.bench.suite import select

    tf = runners.load_tensorflow(threads)
    time_them = _timer(quick)
    rows = []
    for layer in select(",".join(LARGE_LAYERS)):
        data = runners.make_data(layer, np.float32)
        ours = runners.fastconv_runner(data, "im2col")
        calls = {"fastconv": ours.call}
        if tf is not None:
            calls["tf_function"] = runners.tf_function_runner(tf, data).call
            calls["tf_eager"] = runners.tf_eager_runner(tf, data).call
        t = time_them(calls)
        tf_best = min((v for k, v in t.items() if k.startswith("tf")), default=None)
        rows.append(
            {
                "layer": layer.name,
                "fastconv_ms": t["fastconv"] * 1e3,
                "fastconv_gflops": layer.flops / t["fastconv"] / 1e9,
                "tf_ms": None if tf_best is None else tf_best * 1e3,
                "tf_gflops": None if tf_best is None else layer.flops / tf_best / 1e9,
                "speedup": None if tf_best is None else tf_best / t["fastconv"],
            }
        )
    return rows


def epilogue_row(threads: int, quick: bool) -> dict:
    import fastconv

    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 28, 28, 128)).astype(np.float32)
    w = rng.standard_normal((3, 3, 128, 128)).astype(np.float32)
    b = rng.standard_normal(128).astype(np.float32)
    y = np.empty((1, 28, 28, 128), np.float32)
    t = _timer(quick)(
        {
            "plain": lambda: fastconv.conv2d(x, w, 1, "SAME", algorithm="im2col", out=y),
            "bias_relu": lambda: fastconv.conv2d(
                x, w, 1, "SAME", bias=b, activation="relu", algorithm="im2col", out=y
            ),
        }
    )
    return {
        "plain_ms": t["plain"] * 1e3,
        "bias_relu_ms": t["bias_relu"] * 1e3,
        "ratio": t["bias_relu"] / t["plain"],
    }


def memory_row() -> dict:
    """ru_maxrss grows only if the convolution allocates beyond what is already resident."""
    import fastconv

    x = np.random.default_rng(0).standard_normal((8, 224, 224, 64)).astype(np.float32)
    w = np.ones((3, 3, 64, 64), np.float32)
    y = np.ones((8, 224, 224, 64), np.float32)  # touched: resident before we measure
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fastconv.conv2d(x, w, 1, "SAME", algorithm="im2col", out=y)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "growth_mib": (after - before) / 1024,
        "explicit_im2col_mib": 8 * 224 * 224 * 9 * 64 * 4 / 2**20,
    }


def worker(threads: int, quick: bool) -> dict:
    import fastconv
    from threadpoolctl import threadpool_info

    fastconv.set_num_threads(threads)
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return {
        "threads": threads,
        "isa": fastconv._core.get_isa(),
        "numpy_blas": [
            {k: i.get(k) for k in ("internal_api", "version", "architecture")} for i in blas
        ],
        "memory": memory_row() if threads == 1 else None,
        "gemm": gemm_rows(threads, quick),
        "layers": layer_rows(threads, quick),
        "epilogue": epilogue_row(threads, quick),
    }


def report(results: list[dict], peak: float | None) -> str:
    def pct(gflops, threads, dtype="float32"):
        """% of the FMA peak of `threads` cores; float64 vectors hold half the lanes."""
        lanes = 0.5 if dtype == "float64" else 1.0
        return f"{100 * gflops / (peak * threads * lanes):5.1f}%" if peak else "   n/a"

    out = [
        f"FMA peak (benchmarks/fma_peak.c): {peak:.1f} float32 GFLOP/s per core (float64: "
        "half; % of peak below is per dtype and thread count)"
        if peak
        else "FMA peak: no C compiler to measure it"
    ]
    for r in results:
        th = r["threads"]
        out.append(
            f"\n== {th} thread(s), fastconv ISA {r['isa']}, NumPy BLAS "
            + ", ".join(
                f"{b['internal_api']} {b['version']} ({b['architecture']})" for b in r["numpy_blas"]
            )
        )
        out.append(
            "1. GEMM (1x1 conv) vs NumPy matmul      fastconv ms  GFLOP/s  %peak   "
            "numpy ms  ratio (<= 1.10)"
        )
        for g in r["gemm"]:
            out.append(
                f"   {g['dtype']:8s} {g['shape']:29s} {g['fastconv_ms']:9.2f} "
                f"{g['fastconv_gflops']:8.1f} {pct(g['fastconv_gflops'], th, g['dtype'])} "
                f"{g['numpy_ms']:9.2f}  {g['ratio']:5.3f}"
            )
        out.append(
            "2. large layers, algorithm='im2col'      fastconv ms  GFLOP/s  %peak   "
            "TF ms   TF GFLOP/s  speedup"
        )
        speedups = []
        for lay in r["layers"]:
            tf_ms = f"{lay['tf_ms']:8.3f}" if lay["tf_ms"] else "     n/a"
            tf_gf = f"{lay['tf_gflops']:8.1f}" if lay["tf_gflops"] else "     n/a"
            sp = f"{lay['speedup']:6.2f}" if lay["speedup"] else "   n/a"
            if lay["speedup"]:
                speedups.append(lay["speedup"])
            out.append(
                f"   {lay['layer']:36s} {lay['fastconv_ms']:9.3f} "
                f"{lay['fastconv_gflops']:8.1f} {pct(lay['fastconv_gflops'], th)} "
                f"{tf_ms} {tf_gf}   {sp}"
            )
        if speedups:
            out.append(f"   geometric mean speedup vs TF: {np.exp(np.mean(np.log(speedups))):.2f}")
        if r["memory"]:
            m = r["memory"]
            out.append(
                f"3. peak RSS growth, 8x224x224x64 * 3x3x64x64 into out=: "
                f"{m['growth_mib']:.1f} MiB (limit 64; explicit im2col "
                f"{m['explicit_im2col_mib']:.0f} MiB)"
            )
        e = r["epilogue"]
        out.append(
            f"4. r50-3x3-28 bias+relu {e['bias_relu_ms']:.3f} ms vs plain "
            f"{e['plain_ms']:.3f} ms: ratio {e['ratio']:.3f} (<= 1.05)"
        )
    return "\n".join(out)


def run_targets(script: str, doc: str, worker, report) -> int:
    """The command line of a targets script: one worker process per thread count (TensorFlow
    fixes its thread pools at start-up), then the report with the FMA peak of this run."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="a fast pass, figures not trusted")
    parser.add_argument("--json", help="write every figure here")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.quick)))
        return 0
    results = []
    for th in args.threads:
        cmd = [sys.executable, script, "--worker", str(th)] + (["--quick"] if args.quick else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    peak = fma_peak()
    print(report(results, peak))
    if args.json:
        Path(args.json).write_text(json.dumps({"fma_peak_gflops": peak, "runs": results}, indent=2))
    return 0


def main() -> int:
    return run_targets(__file__, __doc__, worker, report)


if __name__ == "__main__":
    sys.exit(main())
