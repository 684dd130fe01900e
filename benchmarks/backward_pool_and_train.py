"""Pooling gradients and one LeNet training step: fastconv against TensorFlow and PyTorch.

    python benchmarks/backward_pool_and_train.py            # 1 and 2 threads
    python benchmarks/backward_pool_and_train.py --quick    # a fast pass to check it runs

1. The input gradient of every pooling layer of the suite (fastconv.bench.suite), float32:
   fastconv's max_pool2d_grad / avg_pool2d_grad on NHWC NumPy arrays; TF's
   tf.raw_ops.MaxPoolGrad / AvgPoolGrad eagerly and in a tf.function (pre-made tensors);
   PyTorch's aten max_pool2d_with_indices_backward (indices from its forward, not timed) /
   avg_pool2d_backward on the same memory as channels_last NCHW tensors. PyTorch pads
   symmetrically only: TF's SAME split (the odd cell at the end) is given to it as a
   pre-padded input, so its timing covers the same windows.
2. One training step of examples/train_lenet.py's model (loss and every gradient; the Adam
   update is the same NumPy code for both and not timed): fastconv against the same model
   through tf.GradientTape, eager and in a tf.function.

Interleaved rounds, medians (fastconv.bench.timing). Each thread count runs in its own
process, since TensorFlow fixes its thread pools at start-up.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _pool_calls(layer, tf, torch):
    import fastconv

    rng = np.random.default_rng(0)
    x = rng.standard_normal(layer.input).astype(np.float32)
    k, s, pad = layer.window, layer.stride, layer.padding
    y = fastconv.max_pool2d(x, k, s, pad)
    g = rng.standard_normal(y.shape).astype(np.float32)
    win = layer.geometry
    tk, ts = [1, *k, 1], [1, s, s, 1]
    xt, yt, gt = (tf.constant(a) for a in (x, y, g))
    if layer.op == "maxpool":

        def fast():
            return fastconv.max_pool2d_grad(x, y, g, k, s, pad)

        def tf_op(a, b, c):
            return tf.raw_ops.MaxPoolGrad(
                orig_input=a, orig_output=b, grad=c, ksize=tk, strides=ts, padding=pad
            )

        args = (xt, yt, gt)
    else:

        def fast():
            return fastconv.avg_pool2d_grad(x.shape, g, k, s, pad)

        def tf_op(shape, c):
            return tf.raw_ops.AvgPoolGrad(
                orig_input_shape=shape, grad=c, ksize=tk, strides=ts, padding=pad
            )

        args = (tf.constant(x.shape, tf.int32), gt)
    tf_fn = tf.function(tf_op)
    calls = {"fastconv": fast, "TF eager": lambda: tf_op(*args), "TF fn": lambda: tf_fn(*args)}
    if torch is not None:
        calls["torch"] = _torch_call(torch, layer, x, g, win)
    return calls


def _torch_call(torch, layer, x, g, win):
    F = torch.nn.functional  # noqa: N806 (PyTorch's own name for it)
    fill = -float("inf") if layer.op == "maxpool" else 0.0
    xt = torch.from_numpy(x).permute(0, 3, 1, 2)  # channels_last NCHW on the same memory
    xt = F.pad(xt, (win.pad_left, win.pad_right, win.pad_top, win.pad_bottom), value=fill)
    xt = xt.contiguous(memory_format=torch.channels_last)
    gt = torch.from_numpy(g).permute(0, 3, 1, 2)
    k, s = list(layer.window), [layer.stride] * 2
    if layer.op == "maxpool":
        _, idx = torch.ops.aten.max_pool2d_with_indices(xt, k, s, [0, 0], [1, 1], False)
        return lambda: torch.ops.aten.max_pool2d_with_indices_backward(
            gt, xt, k, s, [0, 0], [1, 1], False, idx
        )
    return lambda: torch.ops.aten.avg_pool2d_backward(gt, xt, k, s, [0, 0], False, False, None)


def _train_calls(tf, batch):
    spec = importlib.util.spec_from_file_location(
        "train_lenet", ROOT / "examples" / "train_lenet.py"
    )
    lenet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lenet)
    x_train, _, y_train, _ = lenet.load_data(0)
    x, labels = x_train[:batch], y_train[:batch]
    params = lenet.init_params(0)
    variables = {k: tf.Variable(v) for k, v in params.items()}
    xt, lt = tf.constant(x), tf.constant(labels)

    def tf_step(xb, lb):
        with tf.GradientTape() as tape:
            a1 = tf.nn.relu(tf.nn.conv2d(xb, variables["w1"], 1, "SAME") + variables["b1"])
            p1 = tf.nn.max_pool2d(a1, 2, 2, "VALID")
            a2 = tf.nn.relu(tf.nn.conv2d(p1, variables["w2"], 1, "SAME") + variables["b2"])
            p2 = tf.nn.max_pool2d(a2, 2, 2, "VALID")
            logits = tf.reshape(p2, (batch, -1)) @ variables["w3"] + variables["b3"]
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(lb, logits))
        return loss, tape.gradient(loss, variables)

    tf_fn = tf.function(tf_step)
    return {
        "fastconv": lambda: lenet.loss_and_grads(params, x, labels),
        "TF eager": lambda: tf_step(xt, lt),
        "TF fn": lambda: tf_fn(xt, lt),
    }


def worker(threads: int, quick: bool) -> dict:
    import fastconv
    from fastconv.bench import libraries, suite
    from fastconv.bench.timing import Policy, interleaved

    fastconv.set_num_threads(threads)
    tf = libraries.load_tensorflow(threads)
    torch = libraries.load_torch(threads)
    policy = Policy.quick() if quick else Policy(budget=3.0, min_rounds=5, max_rounds=25)

    def medians(calls):
        return {k: t.median * 1e3 for k, t in interleaved(calls, policy).items()}

    pools = [
        (layer.name, medians(_pool_calls(layer, tf, torch)))
        for layer in suite.LAYERS
        if layer.is_pool
    ]
    steps = [(f"lenet step, batch {b}", medians(_train_calls(tf, b))) for b in (16, 64)]
    return {"threads": threads, "isa": fastconv._core.get_isa(), "pools": pools, "steps": steps}


def table(result) -> str:
    lines = [
        f"\n== {result['threads']} thread(s), float32, fastconv ISA {result['isa']} "
        "(ms, medians of interleaved rounds)"
    ]
    for title, rows in (
        ("pooling input gradient", result["pools"]),
        ("training step (loss + all gradients)", result["steps"]),
    ):
        peers = [p for p in ("TF eager", "TF fn", "torch") if p in rows[0][1]]
        lines.append(
            f"\n| {title} | fastconv | "
            + " | ".join(peers)
            + " | vs best TF | "
            + ("vs torch |" if "torch" in peers else "")
        )
        lines.append("| --- " * (3 + len(peers) + ("torch" in peers)) + "|")
        for name, t in rows:
            best_tf = min(t["TF eager"], t["TF fn"])
            cells = [f"{t['fastconv']:.3f}"] + [f"{t[p]:.3f}" for p in peers]
            cells.append(f"{best_tf / t['fastconv']:.2f}x")
            if "torch" in peers:
                cells.append(f"{t['torch'] / t['fastconv']:.2f}x")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="a fast pass, figures not trusted")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.quick)))
        return
    for threads in args.threads:
        cmd = [sys.executable, __file__, "--worker", str(threads)] + (
            ["--quick"] if args.quick else []
        )
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        print(table(json.loads(proc.stdout.strip().splitlines()[-1])), flush=True)


if __name__ == "__main__":
    main()
