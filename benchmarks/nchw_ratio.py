"""fastconv conv2d in NCHW against the same layer in NHWC: the ratio of their times.

    python benchmarks/nchw_ratio.py [--only lenet,r50-conv1] [--threads 1,2] [--rounds 15]

For every conv2d layer of the bench suite (fastconv.bench.suite), the same data is run as
contiguous NHWC and as contiguous NCHW (transposed), the two calls taking turns round after
round, so that a burst of load from another process lands on both alike. Per thread count:
the minimum and the median over rounds of the calling thread's CPU time (time.thread_time:
fastconv's pool threads are not counted, so it is given for 1 thread only) and of wall time.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import fastconv
from fastconv.bench.suite import select


def _rounds(calls, rounds: int) -> list[dict[str, list[float]]]:
    """Per call, its thread and wall seconds over `rounds` turns (two untimed calls first)."""
    for call in calls:
        call()
        call()
    times = [{"thread": [], "wall": []} for _ in calls]
    for _ in range(rounds):
        for call, t in zip(calls, times):
            t0, w0 = time.thread_time(), time.perf_counter()
            call()
            t["thread"].append(time.thread_time() - t0)
            t["wall"].append(time.perf_counter() - w0)
    return times


def layer_calls(layer, seed: int = 0):
    """The layer's NHWC and NCHW conv2d calls, on the same values."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(layer.input, dtype=np.float32)
    f = rng.standard_normal(layer.window, dtype=np.float32)
    xc = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    args = dict(strides=layer.stride, padding=layer.padding, dilations=layer.dilation)
    return (
        lambda: fastconv.conv2d(x, f, data_format="NHWC", **args),
        lambda: fastconv.conv2d(xc, f, data_format="NCHW", **args),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="layers, as `fastconv bench --only` (globs, substrings)")
    parser.add_argument("--threads", default="1", help="comma-separated thread counts")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    layers = [layer for layer in select(args.only) if layer.op == "conv2d"]
    print(f"{'layer':22} thr  NHWC ms (min/med)   NCHW ms (min/med)   ratio min/med  clock")
    for threads in (int(t) for t in args.threads.split(",")):
        fastconv.set_num_threads(threads)
        for layer in layers:
            nhwc, nchw = _rounds(layer_calls(layer), args.rounds)
            # thread_time misses the pool threads' work: only meaningful on one thread
            for clock in ("thread", "wall") if threads == 1 else ("wall",):
                a, b = nhwc[clock], nchw[clock]
                print(
                    f"{layer.name:22} {threads:3}  {min(a) * 1e3:8.3f} {statistics.median(a) * 1e3:8.3f}"
                    f"   {min(b) * 1e3:8.3f} {statistics.median(b) * 1e3:8.3f}"
                    f"   {min(b) / min(a):5.2f} {statistics.median(b) / statistics.median(a):5.2f}"
                    f"  {clock}"
                )


if __name__ == "__main__":
    main()
