"""The pooling targets, measured side by side in one process per thread count.

    python benchmarks/pool_targets.py            # every pooling layer of the suite, 1 and 2 threads
    python benchmarks/pool_targets.py --quick    # a fast pass to check it runs

Per pooling layer of the suite (float32 unless --dtype says otherwise), timed interleaved in
one process (fastconv.bench.timing, medians over rounds):

- fastconv: the public call on an NHWC NumPy array (it allocates its result, as users do);
- fastconv NCHW: the same layer on a C-contiguous NCHW array, data_format="NCHW";
- TF's faster mode: the faster of tf.function on pre-made tensors and eager on NumPy arrays;
- copy: np.copyto of an array as large as the layer's input + output, into a preallocated one.

GB/s is (input + output bytes) / time for fastconv and for the copy alike, so "% copy" is
simply copy time / fastconv time: pooling at 100% moves its compulsory bytes in the time a
NumPy copy of as many bytes takes (the copy reads and writes each of them). Targets: speedup
>= 2 over TF, >= 60% of copy bandwidth, NCHW/NHWC <= 1.3.

Each thread count runs in its own process, since TensorFlow fixes its thread pools at start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np


def _timer(quick: bool):
    from fastconv.bench.timing import Policy, interleaved

    policy = Policy.quick() if quick else Policy(budget=4.0, min_rounds=5, max_rounds=25)
    return lambda calls: {k: t.median for k, t in interleaved(calls, policy).items()}


def layer_row(layer, tf, dtype, time_them) -> dict:
    import fastconv
    from fastconv.bench import runners

    data = runners.make_data(layer, dtype)
    pool = fastconv.max_pool2d if layer.op == "maxpool" else fastconv.avg_pool2d
    k, s, pad = layer.window, layer.stride, layer.padding
    x = data.x
    x_nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    nbytes = layer.bytes(x.itemsize)
    src = np.ones(nbytes // x.itemsize, x.dtype)
    dst = np.zeros_like(src)
    calls = {
        "fastconv": lambda: pool(x, k, s, pad),
        "fastconv_nchw": lambda: pool(x_nchw, k, s, pad, "NCHW"),
        "copy": lambda: np.copyto(dst, src),
    }
    if tf is not None:
        calls["tf_function"] = runners.tf_function_runner(tf, data).call
        calls["tf_eager"] = runners.tf_eager_runner(tf, data).call
    t = time_them(calls)
    tf_modes = {m: t[m] for m in ("tf_function", "tf_eager") if m in t}
    tf_mode = min(tf_modes, key=tf_modes.get) if tf_modes else None
    ours = t["fastconv"]
    return {
        "layer": layer.name,
        "bytes": nbytes,
        "fastconv_ms": ours * 1e3,
        "gbs": nbytes / ours / 1e9,
        "copy_ms": t["copy"] * 1e3,
        "copy_gbs": nbytes / t["copy"] / 1e9,
        "pct_copy": 100 * t["copy"] / ours,
        "tf_ms": tf_modes[tf_mode] * 1e3 if tf_mode else None,
        "tf_mode": tf_mode,
        "speedup": tf_modes[tf_mode] / ours if tf_mode else None,
        "nchw_ms": t["fastconv_nchw"] * 1e3,
        "nchw_ratio": t["fastconv_nchw"] / ours,
    }


def worker(threads: int, quick: bool, dtype: str, pattern: str | None) -> dict:
    import fastconv
    from fastconv.bench import runners
    from fastconv.bench.suite import select

    fastconv.set_num_threads(threads)
    tf = runners.load_tensorflow(threads)
    time_them = _timer(quick)
    layers = [lay for lay in select(pattern) if lay.is_pool]
    rows = [layer_row(lay, tf, np.dtype(dtype), time_them) for lay in layers]
    return {
        "threads": threads,
        "isa": fastconv._core.get_isa(),
        "dtype": dtype,
        "rows": rows,
        "load_average": os.getloadavg()[0],
    }  # other processes on the cores skew figures


def report(results: list[dict]) -> str:
    out = []
    for r in results:
        out.append(
            f"\n== {r['threads']} thread(s), {r['dtype']}, fastconv ISA {r['isa']}, "
            f"load average {r['load_average']:.2f} on {os.cpu_count()} CPUs"
        )
        out.append(
            f"{'layer':22s} {'fc ms':>8s} {'GB/s':>6s} {'copy GB/s':>9s} {'%copy':>6s} "
            f"{'TF ms':>8s} {'TF mode':>11s} {'speedup':>7s} {'NCHW ms':>8s} {'NCHW/NHWC':>9s}"
        )
        for row in r["rows"]:
            tf_ms = f"{row['tf_ms']:8.3f}" if row["tf_ms"] else "     n/a"
            sp = f"{row['speedup']:7.2f}" if row["speedup"] else "    n/a"
            out.append(
                f"{row['layer']:22s} {row['fastconv_ms']:8.3f} {row['gbs']:6.1f} "
                f"{row['copy_gbs']:9.1f} {row['pct_copy']:5.0f}% {tf_ms} "
                f"{row['tf_mode'] or '':>11s} {sp} {row['nchw_ms']:8.3f} "
                f"{row['nchw_ratio']:9.2f}"
            )
    out.append(
        "\ntargets: speedup >= 2 (max-3x3s2-b8, avg-2x2s2-b8, r50-maxpool, lenet-pool), "
        "%copy >= 60, NCHW/NHWC <= 1.3"
    )
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--layers", help="suite layer patterns (default: every pooling layer)")
    parser.add_argument("--quick", action="store_true", help="a fast pass, figures not trusted")
    parser.add_argument("--json", help="write every figure here")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.quick, args.dtype, args.layers)))
        return 0
    results = []
    for th in args.threads:
        cmd = [sys.executable, __file__, "--worker", str(th), "--dtype", args.dtype]
        cmd += (["--quick"] if args.quick else []) + (
            ["--layers", args.layers] if args.layers else []
        )
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            sys.stderr.write(proc.stderr)
            return proc.returncode
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(report(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
