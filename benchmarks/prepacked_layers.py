"""conv2d against Conv2D (filters packed once), TensorFlow and PyTorch, on 1 thread.

    python benchmarks/prepacked_layers.py [--repeats 15]

Each figure is the minimum over `repeats` calls of the CPU time of the calling thread
(time.thread_time), after two untimed calls, conv2d's and Conv2D's calls taking turns;
TensorFlow's is the process's CPU time (time.process_time), since its kernels may run on
its own pool threads. Every library runs on one thread. The layers: float32, batch 1,
stride 1, NHWC (PyTorch: NCHW, its layout); lenet-c2 is the suite's batch of 64.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import fastconv
from fastconv.bench.libraries import load_tensorflow, load_torch
from fastconv.bench.suite import BY_NAME

# input NHWC, filter HWIO, padding: the bench suite's layers of these names
LAYERS = {
    name: (BY_NAME[name].input, BY_NAME[name].window, BY_NAME[name].padding)
    for name in ("r50-3x3-7", "r50-3x3-14", "lenet-c2", "r50-1x1-56")
}


def best_ms(call, repeats: int, clock=time.thread_time) -> float:
    return best_of(call, repeats=repeats, clock=clock)[0]


def best_of(*calls, repeats: int, clock=time.thread_time) -> list[float]:
    """Each call's best time, the calls taking turns (a burst of load from another process
    lands on all of them alike)."""
    for call in calls:
        call()
        call()
    best = [float("inf")] * len(calls)
    for _ in range(repeats):
        for i, call in enumerate(calls):
            t = clock()
            call()
            best[i] = min(best[i], clock() - t)
    return [b * 1e3 for b in best]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    fastconv.set_num_threads(1)
    tf, torch = load_tensorflow(1), load_torch(1)
    rng = np.random.default_rng(0)
    print(
        f"{'layer':12} {'algorithm':9} {'conv2d':>8} {'Conv2D':>8} {'TF eager':>9} "
        f"{'tf.function':>11} {'torch':>8}   (ms)"
    )
    for name, (x_shape, f_shape, padding) in LAYERS.items():
        x = rng.standard_normal(x_shape).astype(np.float32)
        f = rng.standard_normal(f_shape).astype(np.float32)
        peers = ["-"] * 3
        if tf is not None:
            xt, ft = tf.constant(x), tf.constant(f)
            graph = tf.function(lambda a, w: tf.nn.conv2d(a, w, 1, padding))
            cpu = time.process_time
            peers[0] = f"{best_ms(lambda: tf.nn.conv2d(xt, ft, 1, padding), args.repeats, cpu):.3f}"
            peers[1] = f"{best_ms(lambda: graph(xt, ft), args.repeats, cpu):.3f}"
        if torch is not None:
            xp = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
            wp = torch.from_numpy(f.transpose(3, 2, 0, 1).copy())
            pad = "same" if padding == "SAME" else 0
            conv = torch.nn.functional.conv2d
            with torch.no_grad():
                peers[2] = f"{best_ms(lambda: conv(xp, wp, padding=pad), args.repeats):.3f}"
        auto = fastconv.conv2d_algorithm(x, f, 1, padding)
        algorithms = ["auto", "direct", "im2col"] + (["winograd"] if f_shape[:2] == (3, 3) else [])
        for algorithm in algorithms:
            layer = fastconv.Conv2D(f, 1, padding, algorithm=algorithm)
            plain, packed = best_of(
                lambda: fastconv.conv2d(x, f, 1, padding, algorithm=algorithm),
                lambda: layer(x),
                repeats=args.repeats,
            )
            label = f"auto={auto}" if algorithm == "auto" else algorithm
            tail = (
                " ".join(f"{p:>{w}}" for p, w in zip(peers, (9, 11, 8)))
                if algorithm == "auto"
                else ""
            )
            print(f"{name:12} {label:9} {plain:8.3f} {packed:8.3f} {tail}", flush=True)


if __name__ == "__main__":
    main()
