#!/usr/bin/env python3
"""fastconv on the GPU (CuPy: RawKernels + cuBLAS) against PyTorch (cuDNN), on the suite's
large layers at batch 32. Needs a CUDA device, CuPy, and for the comparison PyTorch with
CUDA (without it, fastconv's own times are still printed).

    python benchmarks/gpu_bench.py                      # batch 32, float32, NHWC and NCHW
    python benchmarks/gpu_bench.py --layers 3x3 --check # only the 3x3 layers, verify results
    python benchmarks/gpu_bench.py --tf32               # both sides allowed TF32 tensor cores
    python benchmarks/gpu_bench.py --json gpu.json

Both sides run in strict FP32 by default (PyTorch's cuDNN would otherwise use TF32 for
convolutions, CuPy's cuBLAS does not): `torch.backends.cudnn.allow_tf32 = False`, and
`cudnn.benchmark = True` so that cuDNN picks its fastest algorithm per layer. PyTorch's
layout follows fastconv's: NHWC runs as channels_last, NCHW as contiguous. Times are the
median of --repeat CUDA-event measurements, each averaging enough calls for ~20 ms.
Throughput: TFLOP/s for convolutions (2 per multiply-add, padding taps included), GB/s of
compulsory traffic for pools. The issue's target: fastconv >= 50% of PyTorch's throughput
on the 3x3 convolutions.

Where TF's SAME padding is asymmetric (the odd cell at the bottom/right), PyTorch gets the
symmetric padding that gives the same output size (same cost; border values differ), so
--check compares fastconv with fastconv's CPU path, not with PyTorch.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys

import numpy as np

# The suite's real workloads; tutorials, LeNet/MNIST and the overhead probe are small layers.
SMALL_SOURCES = {"tutorial", "LeNet", "Keras MNIST", "overhead"}


def large_layers(batch: int, patterns: str | None):
    from fastconv.bench.suite import LAYERS, select

    chosen = select(patterns) if patterns else list(LAYERS)
    return [
        dataclasses.replace(layer, input=(batch,) + tuple(layer.input[1:]))
        for layer in chosen
        if layer.source not in SMALL_SOURCES
    ]


def time_calls(fn, new_event, elapsed_ms, sync, repeat: int, target_ms: float = 20.0) -> float:
    """Median milliseconds per call, from CUDA events around batches of calls."""
    fn()
    sync()
    start, end = new_event(), new_event()

    def per_call(n):
        start.record()
        for _ in range(n):
            fn()
        end.record()
        end.synchronize()
        return elapsed_ms(start, end) / n

    number = max(1, min(1000, int(target_ms / max(per_call(1), 1e-3))))
    return statistics.median(per_call(number) for _ in range(repeat))


def fastconv_call(layer, fmt, cp, rng, dtype):
    import fastconv

    n, h, w, c = layer.input
    x = cp.asarray(
        rng.standard_normal(
            (n, h, w, c) if fmt == "NHWC" else (n, c, h, w), dtype=np.float32
        ).astype(dtype)
    )
    if layer.op in ("conv2d", "depthwise"):
        f = cp.asarray(rng.standard_normal(layer.window, dtype=np.float32).astype(dtype))
        fn = fastconv.conv2d if layer.op == "conv2d" else fastconv.depthwise_conv2d
        return x, f, lambda: fn(x, f, layer.stride, layer.padding, fmt, layer.dilation)
    fn = fastconv.max_pool2d if layer.op == "maxpool" else fastconv.avg_pool2d
    return x, None, lambda: fn(x, layer.window, layer.stride, layer.padding, fmt)


def torch_call(layer, fmt, x, f):
    """The same layer in PyTorch on the same device memory (DLPack, no copies)."""
    import torch
    import torch.nn.functional as F

    win = layer.geometry
    xt = torch.from_dlpack(x)
    if fmt == "NHWC":
        xt = xt.permute(0, 3, 1, 2)  # an NCHW view in channels_last memory
    pad = (max(win.pad_top, win.pad_bottom), max(win.pad_left, win.pad_right))
    note = (
        ""
        if (win.pad_top, win.pad_left) == (win.pad_bottom, win.pad_right)
        else "symmetric padding"
    )
    if layer.is_pool:
        k = layer.window
        if layer.op == "maxpool":
            return (lambda: F.max_pool2d(xt, k, layer.stride, pad)), note
        return (lambda: F.avg_pool2d(xt, k, layer.stride, pad, count_include_pad=False)), note
    ft = torch.from_dlpack(f)
    if layer.op == "conv2d":
        wt = ft.permute(3, 2, 0, 1)  # HWIO -> OIHW
        groups = layer.input[3] // layer.window[2]
    else:
        kh, kw, c, m = layer.window
        wt = ft.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)
        groups = c
    memory = torch.channels_last if fmt == "NHWC" else torch.contiguous_format
    wt = wt.contiguous(memory_format=memory)
    return (lambda: F.conv2d(xt, wt, None, layer.stride, pad, layer.dilation, groups)), note


def check_against_cpu(layer, fmt, x, f, y):
    """fastconv's GPU result on the first image == its CPU path (fastconv's tolerance)."""
    import fastconv

    host_x = x[:1].get()
    if layer.op in ("conv2d", "depthwise"):
        fn = fastconv.conv2d if layer.op == "conv2d" else fastconv.depthwise_conv2d
        want = fn(host_x, f.get(), layer.stride, layer.padding, fmt, layer.dilation)
        reduction = (
            layer.window[0] * layer.window[1] * (layer.window[2] if layer.op == "conv2d" else 1)
        )
    else:
        fn = fastconv.max_pool2d if layer.op == "maxpool" else fastconv.avg_pool2d
        want = fn(host_x, layer.window, layer.stride, layer.padding, fmt)
        reduction = layer.window[0] * layer.window[1]
    got = y[:1].get().astype(np.float64)
    eps = float(np.finfo(want.dtype).eps)
    tol = 8 * eps * (reduction**0.5 + 1) * max(float(np.abs(want).max()), 1e-30)
    err = float(np.abs(got - want).max())
    return err <= tol, err, tol


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--layers", help="comma-separated name patterns (fastconv bench syntax)")
    parser.add_argument("--formats", default="NHWC,NCHW")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64", "float16"])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--tf32", action="store_true", help="allow TF32 on both sides")
    parser.add_argument("--check", action="store_true", help="compare with the CPU path")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--json", help="write the rows here too")
    args = parser.parse_args(argv)

    if args.tf32:
        os.environ["CUPY_TF32"] = "1"  # read by CuPy when it first runs a GEMM
    import cupy as cp

    import fastconv
    from fastconv import gpu
    from fastconv._geometry import conv_shape

    props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
    device = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    torch = None
    if not args.no_torch:
        try:
            import torch

            if not torch.cuda.is_available():
                print("PyTorch has no CUDA here: fastconv times only", file=sys.stderr)
                torch = None
        except ImportError:
            print("PyTorch is not installed: fastconv times only", file=sys.stderr)
    if torch is not None:
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = args.tf32
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
    print(
        f"fastconv {fastconv.__version__}, CuPy {cp.__version__}, device {device}; "
        + (
            f"PyTorch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}"
            if torch is not None
            else "no PyTorch"
        )
        + f"; batch {args.batch}, {args.dtype}, {'TF32 allowed' if args.tf32 else 'strict FP32'}"
    )

    rng = np.random.default_rng(0)
    rows = []
    header = (
        f"{'layer':<22} {'fmt':<4} {'algo':<6} {'fastconv ms':>11} {'torch ms':>9} "
        f"{'fastconv':>10} {'torch':>10} {'ratio':>6}  note"
    )
    print(header)
    print("-" * len(header))
    for layer in large_layers(args.batch, args.layers):
        for fmt in args.formats.split(","):
            x, f, call = fastconv_call(layer, fmt, cp, rng, args.dtype)
            algo = ""
            if layer.op == "conv2d":
                shape = conv_shape(
                    layer.input, layer.window, layer.stride, layer.padding, "NHWC", layer.dilation
                )
                algo = gpu.choose_algorithm("auto", shape)
            elif layer.op == "depthwise":
                algo = "direct"
            ms = time_calls(
                call,
                cp.cuda.Event,
                cp.cuda.get_elapsed_time,
                cp.cuda.Device().synchronize,
                args.repeat,
            )
            row = dict(
                layer=layer.name,
                op=layer.op,
                input=list(layer.input),
                format=fmt,
                algorithm=algo,
                fastconv_ms=ms,
                torch_ms=None,
                note="",
            )
            if args.check:
                ok, err, tol = check_against_cpu(layer, fmt, x, f, call())
                row["check"] = dict(ok=ok, max_abs_err=err, tolerance=tol)
                if not ok:
                    row["note"] += f"CHECK FAILED (err {err:.2e} > {tol:.2e}) "
            if torch is not None:
                tcall, note = torch_call(layer, fmt, x, f)
                row["torch_ms"] = time_calls(
                    tcall,
                    lambda: torch.cuda.Event(enable_timing=True),
                    lambda a, b: a.elapsed_time(b),
                    torch.cuda.synchronize,
                    args.repeat,
                )
                row["note"] += note
            itemsize = np.dtype(args.dtype).itemsize
            work, unit = (
                (layer.bytes(itemsize) / 1e9, "GB/s")
                if layer.is_pool
                else (layer.flops / 1e12, "TFLOP/s")
            )
            row["unit"] = unit
            row["fastconv_rate"] = work / (ms / 1e3)
            row["torch_rate"] = None if row["torch_ms"] is None else work / (row["torch_ms"] / 1e3)
            row["ratio"] = None if row["torch_ms"] is None else row["torch_ms"] / ms
            if layer.op == "conv2d" and layer.window[:2] == (3, 3) and row["ratio"] is not None:
                row["note"] += " target>=0.50 " + ("met" if row["ratio"] >= 0.5 else "MISSED")
            rows.append(row)
            t_ms = f"{row['torch_ms']:9.3f}" if row["torch_ms"] is not None else f"{'-':>9}"
            t_rate = (
                f"{row['torch_rate']:6.1f} {unit[:2] if unit == 'GB/s' else 'TF'}"
                if row["torch_rate"] is not None
                else f"{'-':>10}"
            )
            ratio = f"{row['ratio']:6.2f}" if row["ratio"] is not None else f"{'-':>6}"
            print(
                f"{layer.name:<22} {fmt:<4} {algo:<6} {ms:11.3f} {t_ms} "
                f"{row['fastconv_rate']:6.1f} {unit[:2] if unit == 'GB/s' else 'TF'} "
                f"{t_rate} {ratio}  {row['note'].strip()}",
                flush=True,
            )
            del x, f, call
            cp.get_default_memory_pool().free_all_blocks()
            if torch is not None:
                torch.cuda.empty_cache()
    print(
        "ratio = fastconv throughput / PyTorch throughput (torch ms / fastconv ms); "
        "TF = TFLOP/s, GB = GB/s"
    )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(
                dict(device=device, batch=args.batch, dtype=args.dtype, tf32=args.tf32, rows=rows),
                fh,
                indent=2,
            )
    failed = [r for r in rows if r.get("check") and not r["check"]["ok"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
