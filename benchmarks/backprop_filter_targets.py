"""The filter gradient's targets, measured side by side in one process per thread count.

    python benchmarks/backprop_filter_targets.py            # 1 and 2 threads
    python benchmarks/backprop_filter_targets.py --quick    # a fast pass to check it runs

On the suite's conv layers, fastconv.conv2d_backprop_filter (depthwise_conv2d_backprop_filter
on the depthwise layer) against TensorFlow's op, tf.raw_ops.Conv2DBackpropFilter
(DepthwiseConv2dNativeBackpropFilter), the faster of tf.function on pre-made tensors and
eager on NumPy arrays, and against PyTorch's torch.nn.grad.conv2d_weight on NCHW tensors
made once. Targets: >= 1.0x TF on every layer, geometric mean >= 1.5x TF and >= 1.2x
PyTorch. Times are medians of interleaved rounds (fastconv.bench.timing); % of the FMA
peak (benchmarks/fma_peak.c, measured in the same run) for fastconv. Each thread count runs
in its own process, since TensorFlow fixes its thread pools at start-up.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gemm_targets import _timer, run_targets

LAYERS = [
    "lenet-c1",
    "lenet-c2",
    "keras-mnist-c1",
    "r50-conv1",
    "r50-3x3-56",
    "r50-3x3-28",
    "r50-3x3-14",
    "r50-3x3-7",
    "r50-1x1-56",
    "vgg-3x3-224",
    "b8-3x3-56",
    "mbv1-dw-112",
]


def _operands(layer):
    """x, out_backprop (NHWC float32) and filter_sizes of one suite layer."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(layer.input).astype(np.float32)
    dy = rng.standard_normal(layer.output).astype(np.float32)
    return x, dy, tuple(layer.window)


def _calls(layer, tf, torch):
    import fastconv

    x, dy, sizes = _operands(layer)
    s, d, pad = layer.stride, layer.dilation, layer.padding
    depthwise = layer.op == "depthwise"
    ours = (
        fastconv.depthwise_conv2d_backprop_filter if depthwise else fastconv.conv2d_backprop_filter
    )
    calls = {"fastconv": lambda: ours(x, sizes, dy, s, pad, dilations=d)}
    if tf is not None:
        op = (
            tf.raw_ops.DepthwiseConv2dNativeBackpropFilter
            if depthwise
            else tf.raw_ops.Conv2DBackpropFilter
        )
        args = dict(strides=[1, s, s, 1], padding=pad, dilations=[1, d, d, 1])
        xt, dyt, st = tf.constant(x), tf.constant(dy), tf.constant(sizes, tf.int32)
        fn = tf.function(lambda a, b, c: op(input=a, filter_sizes=c, out_backprop=b, **args))
        calls["tf_function"] = lambda: fn(xt, dyt, st)
        calls["tf_eager"] = lambda: op(input=x, filter_sizes=sizes, out_backprop=dy, **args).numpy()
    if torch is not None:
        from fastconv.bench.runners import torch_padding

        padding, _ = torch_padding(layer)
        xn = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        dyn = torch.from_numpy(np.ascontiguousarray(dy.transpose(0, 3, 1, 2)))
        kh, kw, cin, cout = sizes
        groups = layer.input[3] if depthwise else layer.input[3] // cin
        oihw = (cin * cout, 1, kh, kw) if depthwise else (cout, cin, kh, kw)
        if padding == "same":  # conv2d_weight takes numbers: TF's split at stride 1
            g = layer.geometry
            padding = (g.pad_top, g.pad_left)
        calls["torch"] = lambda: torch.nn.grad.conv2d_weight(xn, oihw, dyn, s, padding, d, groups)
    return calls


def worker(threads: int, quick: bool) -> dict:
    import fastconv
    from fastconv.bench import runners
    from fastconv.bench.libraries import load_torch
    from fastconv.bench.suite import select

    fastconv.set_num_threads(threads)
    tf = runners.load_tensorflow(threads)
    torch = load_torch(threads)
    time_them = _timer(quick)
    rows = []
    for name in LAYERS:
        layer = select(name)[0]
        t = time_them(_calls(layer, tf, torch))
        tf_best = min((v for k, v in t.items() if k.startswith("tf")), default=None)
        rows.append(
            {
                "layer": layer.name,
                "flops": layer.flops,
                **{f"{k}_ms": v * 1e3 for k, v in t.items()},
                "vs_tf": None if tf_best is None else tf_best / t["fastconv"],
                "vs_torch": t["torch"] / t["fastconv"] if "torch" in t else None,
            }
        )
    return {"threads": threads, "isa": fastconv._core.get_isa(), "rows": rows}


def report(results: list[dict], peak: float | None) -> str:
    out = [
        f"FMA peak (benchmarks/fma_peak.c): {peak:.1f} float32 GFLOP/s per core"
        if peak
        else "FMA peak: no C compiler to measure it"
    ]
    for r in results:
        th = r["threads"]
        out.append(
            f"\n== {th} thread(s), float32, fastconv ISA {r['isa']} (medians of interleaved rounds)"
        )
        out.append(
            f"   {'layer':14s} {'fastconv ms':>11s} {'%peak':>6s} {'tf-fn ms':>9s} "
            f"{'tf-eager':>9s} {'torch ms':>9s} {'vs TF':>6s} {'vs torch':>8s}"
        )
        for row in r["rows"]:

            def ms(key):
                return f"{row[key]:9.3f}" if key in row else "      n/a"

            pct = (
                f"{100 * row['flops'] / (row['fastconv_ms'] * 1e-3) / 1e9 / (peak * th):5.1f}%"
                if peak
                else "   n/a"
            )
            vs_tf = f"{row['vs_tf']:6.2f}" if row["vs_tf"] else "   n/a"
            vs_torch = f"{row['vs_torch']:8.2f}" if row["vs_torch"] else "     n/a"
            out.append(
                f"   {row['layer']:14s} {row['fastconv_ms']:11.3f} {pct:>6s} "
                f"{ms('tf_function_ms')} {ms('tf_eager_ms')} {ms('torch_ms')} "
                f"{vs_tf} {vs_torch}"
            )
        for key, name in (("vs_tf", "TF"), ("vs_torch", "PyTorch")):
            vals = [row[key] for row in r["rows"] if row[key]]
            if vals:
                out.append(
                    f"   geometric mean vs {name}: {np.exp(np.mean(np.log(vals))):.2f} "
                    f"(worst {min(vals):.2f})"
                )
    return "\n".join(out)


def main() -> int:
    return run_targets(__file__, __doc__, worker, report)


if __name__ == "__main__":
    sys.exit(main())
