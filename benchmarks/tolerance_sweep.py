"""The measurements behind fastconv.testing's tolerance rule, tolerance = 8 * eps * (sqrt(n) + 1).

    python benchmarks/tolerance_sweep.py            # prints the markdown table of docs/testing.md
    python benchmarks/tolerance_sweep.py --quick    # two lengths, to check it runs

For 3x3 convolutions of C channels (reduction lengths n = 9 C from 9 to 4608), on zero-mean
(standard normal) and on positive (uniform [0, 1)) data, each implementation computes the
layer from the same float32 (or float64) arrays; the exact result is the float64 reference
on those arrays (in float64 its own error is ~1e-9 of the float32 bound). The table gives each
one's largest error relative to the largest |exact| value, in units of
eps * (sqrt(n) + 1): the rule allows 8 of them, so a value of 2 leaves a 4x margin.
Implementations: every fastconv algorithm that applies, TensorFlow (tf.nn.conv2d, oneDNN)
and PyTorch (torch.nn.functional.conv2d) when installed.
"""

from __future__ import annotations

import argparse

import numpy as np

import fastconv
from fastconv import reference
from fastconv.testing import tolerance

CHANNELS = (1, 4, 16, 64, 128, 256, 512)


def _peers():
    peers = {}
    try:
        import tensorflow as tf

        peers["TF"] = lambda x, w: tf.nn.conv2d(x, w, 1, "SAME").numpy()
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(1)

        def run_torch(x, w):
            y = torch.nn.functional.conv2d(
                torch.from_numpy(x.transpose(0, 3, 1, 2).copy()),
                torch.from_numpy(w.transpose(3, 2, 0, 1).copy()),
                padding="same",
            )
            return y.numpy().transpose(0, 2, 3, 1)

        peers["PyTorch"] = run_torch
    except ImportError:
        pass
    return peers


def measure(channels, dtype, data, peers, seed=0):
    """{implementation: error / (eps * (sqrt(n) + 1))} for one layer."""
    rng = np.random.default_rng(seed)
    shape_x, shape_w = (2, 14, 14, channels), (3, 3, channels, 16)
    if data == "normal":
        x, w = rng.standard_normal(shape_x), rng.standard_normal(shape_w)
    else:
        x, w = rng.uniform(0, 1, shape_x), rng.uniform(0, 1, shape_w)
    x, w = x.astype(dtype), w.astype(dtype)
    exact = reference.conv2d(x.astype(np.float64), w.astype(np.float64), 1, "SAME")
    scale = np.abs(exact).max()
    n = 9 * channels
    unit = tolerance(dtype, n) / 8
    runs = {
        f"fastconv {a}": (lambda a=a: fastconv.conv2d(x, w, 1, "SAME", algorithm=a))
        for a in ("direct", "im2col", "winograd")
    }
    if dtype == np.float32:
        runs.update({name: (lambda f=f: f(x, w)) for name, f in peers.items()})
    return n, {
        name: float(np.abs(run().astype(np.float64) - exact).max() / scale / unit)
        for name, run in runs.items()
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    channels = CHANNELS[:2] if args.quick else CHANNELS
    peers = _peers()
    fastconv.set_num_threads(1)
    worst = 0.0
    for dtype in (np.float32, np.float64):
        for data in ("normal", "uniform"):
            rows = [measure(c, dtype, data, peers) for c in channels]
            names = list(rows[0][1])
            print(
                f"\n{np.dtype(dtype).name}, {data} data: error / (eps * (sqrt(n) + 1)) "
                "(the rule allows 8)\n"
            )
            print("| n | " + " | ".join(names) + " |")
            print("| ---: | " + " | ".join("---:" for _ in names) + " |")
            for n, errors in rows:
                print(f"| {n} | " + " | ".join(f"{errors[k]:.2f}" for k in names) + " |")
                worst = max(worst, *errors.values())
    print(f"\nlargest: {worst:.2f} of the 8 allowed ({8 / worst:.1f}x margin)")


if __name__ == "__main__":
    main()
