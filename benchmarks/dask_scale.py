"""Scaling out with Dask: fastconv.dask on an image larger than memory, and on a batch of
images across worker processes.

    python benchmarks/dask_scale.py out-of-core --size 64000    # 1 x 64000 x 64000 x 3 float32
    python benchmarks/dask_scale.py scaling --rounds 5           # 1 vs 2 worker processes
    python benchmarks/dask_scale.py overhead                     # one chunk vs fastconv itself

out-of-core: a lazily generated random image (dask.array.random, never held whole), a 5x5
SAME conv to 8 channels, a 2x2 max pool, reduced to per-channel mean, std, min and max on a
LocalCluster of `--workers` processes of 1 thread; reports each worker's peak RSS (the
process's ru_maxrss, read from the worker at the end).

scaling: `--images` 224x224x3 images, chunks of `--per-chunk` along the batch, through
ResNet-50's first layer (7x7/2, 3 -> 64, SAME) and its 3x3/2 max pool, on a LocalCluster of 1
worker process and on one of 2 (1 thread each), one cluster at a time, `--rounds` clusters of
each size, alternating, `--calls` timed calls on each; the input already on the workers,
spread evenly; the result stays on the workers and is released. Speedup = 1-worker time /
2-worker time (medians). Besides the workers' CPU per image it reports this process's CPU per
call: the scheduler, the client and the nannies live here and share the cores with the
workers.

overhead: the same two layers on one chunk of `--images` images with fastconv.dask
(threaded scheduler, 1 Dask thread; building the graph and computing it, from a Dask array
made once) against calling fastconv directly, both on 1 fastconv thread, interleaved;
overhead = dask time / direct time - 1, in wall time and in this process's CPU time (all
its threads: on a busy machine, handing the task to Dask's pool thread and back waits for
the scheduler, which wall time counts and CPU time does not).

Each run prints the load average and the CPU that other processes took meanwhile
(fastconv.bench.contention): on a shared machine the scaling can be no better than the cores
the other processes leave free.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import resource
import statistics
import sys
import threading
import time

import dask
import dask.threaded
import dask.array as da
import numpy as np
from distributed import Client, LocalCluster, progress, wait

import fastconv
import fastconv.dask as fdask
from fastconv.bench.contention import Watch, load_average
from fastconv.bench.progress import progress_bar

GiB = 2**30


@contextlib.contextmanager
def cluster(workers: int, memory_limit: str):
    """A LocalCluster of `workers` spawned processes of 1 thread each, closed afterwards."""
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=memory_limit,
            dashboard_address=":0",
            silence_logs=40,
        ) as local,
        Client(local) as client,
    ):
        yield client


def _peak_rss_gib(client: Client) -> list[float]:
    """Each worker's peak resident memory so far (Linux ru_maxrss is in KiB)."""
    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return [kib * 1024 / GiB for kib in peaks.values()]


@contextlib.contextmanager
def rss_log(client: Client, every: float):
    """Every `every` seconds, a line on stderr with the workers' peak RSS so far: a run
    stopped before its end still shows how much memory it had needed."""
    stop = threading.Event()
    start = time.perf_counter()

    def log():
        while not stop.wait(every):
            peaks = ", ".join(f"{p:.2f}" for p in _peak_rss_gib(client))
            print(
                f"\n[{time.perf_counter() - start:.0f} s] peak RSS per worker so far: {peaks} GiB",
                file=sys.stderr,
                flush=True,
            )

    thread = threading.Thread(target=log, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _workers_cpu_seconds(clients) -> float:
    """CPU seconds the worker processes of these clients' clusters have used so far."""
    return sum(sum(client.run(lambda: sum(os.times()[:2])).values()) for client in clients)


class Load:
    """The load average, and the CPUs that processes other than this benchmark (this process
    and its workers) used while it ran."""

    def __init__(self, clients=()):
        self.clients = list(clients)
        self.workers = _workers_cpu_seconds(self.clients)
        self.watch = Watch()

    def line(self, workers_cpu: float | None = None) -> str:
        """workers_cpu: the CPU seconds of this benchmark's workers meanwhile, where they are
        not all those of `clients` (clusters started and closed while it ran)."""
        seconds = time.perf_counter() - self.watch.wall
        if workers_cpu is None:
            workers_cpu = _workers_cpu_seconds(self.clients) - self.workers
        workers = workers_cpu / seconds
        others = self.watch.others_cpus()
        others = "n/a" if others is None else f"{max(others - workers, 0.0):.2f}"
        fmt = lambda la: "n/a" if la is None else " ".join(f"{v:.1f}" for v in la)
        used = f"the workers used {workers:.2f} CPUs on average, " if workers else ""
        return (
            f"load average before {fmt(self.watch.load_before)}, after "
            f"{fmt(load_average())}; {used}other processes {others} of {os.cpu_count()} "
            "CPUs"
        )


def _r50_stem(x, seed: int = 7):
    """ResNet-50's conv1 (7x7/2, 3 -> 64, SAME) and its 3x3/2 SAME max pool, on a NumPy or
    (with fastconv.dask's functions) a Dask batch; `seed` draws the filters."""
    ops = fdask if isinstance(x, da.Array) else fastconv
    w = np.random.default_rng(seed).standard_normal((7, 7, 3, 64)).astype(np.float32)
    return ops.max_pool2d(ops.conv2d(x, w, 2, "SAME"), 3, 2, "SAME")


def out_of_core(args) -> None:
    size, chunk = args.size, args.chunk
    nbytes = size * size * 3 * 4
    w = np.random.default_rng(5).standard_normal((5, 5, 3, 8)).astype(np.float32)
    image = da.random.default_rng(args.seed).random(
        (1, size, size, 3), dtype=np.float32, chunks=(1, chunk, chunk, 3)
    )
    pooled = fdask.max_pool2d(fdask.conv2d(image, w, 1, "SAME"), 2, 2, "SAME")
    axes = (0, 1, 2)
    stats = da.stack(
        [
            pooled.mean(axis=axes),
            pooled.std(axis=axes),
            pooled.min(axis=axes),
            pooled.max(axis=axes),
        ]
    )
    print(
        f"out-of-core: image {image.shape} float32 = {nbytes / 1e9:.1f} GB "
        f"({nbytes / GiB:.1f} GiB), chunks {chunk}x{chunk} ({image.npartitions} chunks), "
        f"{args.workers} worker process(es) x 1 thread, memory_limit {args.memory_limit}; "
        f"5x5 SAME conv 3 -> 8, 2x2 max pool -> {pooled.shape}, per-channel statistics",
        flush=True,
    )
    with cluster(args.workers, args.memory_limit) as client:
        load = Load([client])
        start = time.perf_counter()
        future = client.compute(stats)
        with rss_log(client, args.log_every):
            progress(future)  # distributed's progress bar, until it is done
            values = future.result()
        seconds = time.perf_counter() - start
        peaks = _peak_rss_gib(client)
        load_line = load.line()
    print()
    print("| image | GB | chunks | workers | wall s | Mpixel/s | peak RSS per worker GiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    print(
        f"| {size}x{size}x3 | {nbytes / 1e9:.1f} | {image.npartitions} | {args.workers} | "
        f"{seconds:.0f} | {size * size / seconds / 1e6:.1f} | "
        f"{', '.join(f'{p:.2f}' for p in peaks)} |"
    )
    print()
    for name, row in zip(("mean", "std", "min", "max"), values):
        print(f"{name:>4}: " + " ".join(f"{v:+.4f}" for v in row))
    print(load_line)


def _spread_batch(client: Client, shape, per_chunk: int, seed: int) -> da.Array:
    """The random batch, computed and held on the workers with its chunks spread evenly:
    chunk i on worker i mod n. Left to the scheduler, 32 chunks landed 17 / 15 on 2 workers
    (whichever was free when each was generated), so each round either ran 17 tasks on one
    worker or moved a 4.8 MB chunk to the other (work stealing): a placement of the input,
    not a cost of the convolution."""
    addresses = sorted(client.scheduler_info()["workers"])
    batch = da.random.default_rng(seed).random(
        shape, dtype=np.float32, chunks=(per_chunk, *shape[1:])
    )
    place = lambda key: [addresses[key[1] % len(addresses)]]  # key: (name, i, 0, 0, 0)
    with dask.annotate(workers=place, allow_other_workers=False):
        batch = client.persist(batch, optimize_graph=False)  # optimizing drops annotations
    wait(batch)
    return batch


def _own_cpu_seconds() -> float:
    """CPU seconds of this process: the client and, with LocalCluster, the scheduler and
    the workers' nannies, which live here."""
    return sum(os.times()[:2])


def scaling(args) -> None:
    shape = (args.images, 224, 224, 3)
    print(
        f"scaling: {args.images} images 224x224x3 float32 in chunks of {args.per_chunk}, "
        "r50 conv1 7x7/2 3 -> 64 SAME + 3x3/2 max pool; LocalCluster of 1 and of 2 worker "
        f"processes x 1 thread, one at a time; {args.rounds} rounds of {args.calls} timed "
        "calls each, medians",
        flush=True,
    )
    labels = {1: "1 worker", 2: "2 workers"}
    seconds: dict[int, list[float]] = {1: [], 2: []}
    workers_cpu: dict[int, float] = {1: 0.0, 2: 0.0}
    own_cpu: dict[int, float] = {1: 0.0, 2: 0.0}
    seeds = itertools.count()
    all_workers_cpu = 0.0  # for the Load line: the workers' CPU is this benchmark's, too
    load = Load()
    with progress_bar(2 * args.rounds) as bar:
        for r in range(args.rounds):
            # One cluster at a time: a second, idle LocalCluster beside the timed one keeps
            # its scheduler, nanny and worker ticking (6% of a CPU measured here), which the
            # 2 busy workers then lose; no user runs two clusters on the same 2 cores.
            # Who goes first alternates, so that drift hits both alike.
            for workers in (1, 2) if r % 2 == 0 else (2, 1):
                bar.status(f"round {r + 1}: {labels[workers]}")
                with cluster(workers, args.memory_limit) as client:
                    started = _workers_cpu_seconds([client])
                    batch = _spread_batch(client, shape, args.per_chunk, args.seed)

                    def run(client=client, batch=batch):
                        # New filters each call: a graph of the same keys as one whose
                        # results the scheduler has not yet released would be served from
                        # memory.
                        result = client.persist(_r50_stem(batch, seed=next(seeds)))
                        wait(result)
                        del result

                    run()  # untimed: the workers import fastconv and plan the layers
                    cpu_workers, cpu_own = _workers_cpu_seconds([client]), _own_cpu_seconds()
                    for _ in range(args.calls):
                        start = time.perf_counter()
                        run()
                        seconds[workers].append(time.perf_counter() - start)
                    workers_cpu[workers] += _workers_cpu_seconds([client]) - cpu_workers
                    own_cpu[workers] += _own_cpu_seconds() - cpu_own
                    all_workers_cpu += _workers_cpu_seconds([client]) - started
                bar.advance()
    load_line = load.line(all_workers_cpu)
    calls = args.rounds * args.calls
    one, two = (statistics.median(seconds[w]) for w in (1, 2))
    print()
    print(
        "| workers | median s | min s | images/s | workers' CPU ms per image | "
        "this process's CPU ms per call (scheduler, client, nannies) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for workers, label in labels.items():
        median = statistics.median(seconds[workers])
        print(
            f"| {workers} | {median:.3f} | {min(seconds[workers]):.3f} | "
            f"{args.images / median:.0f} | "
            f"{workers_cpu[workers] / (calls * args.images) * 1e3:.2f} | "
            f"{own_cpu[workers] / calls * 1e3:.1f} |"
        )
    print()
    print(
        f"speedup 1 -> 2 worker processes: {one / two:.2f}x (target >= 1.8x); "
        f"scaling efficiency {one / two / 2:.0%}"
    )
    print(load_line)


def overhead(args) -> None:
    rng = np.random.default_rng(args.seed)
    x = rng.random((args.images, 224, 224, 3), dtype=np.float32)
    fastconv.set_num_threads(1)  # both sides on one fastconv thread: same kernels, same work
    print(
        f"overhead: {args.images} images 224x224x3 as one chunk, r50 conv1 + max pool, "
        "fastconv.dask (threaded scheduler, 1 Dask thread) vs fastconv directly, 1 fastconv "
        "thread each, interleaved rounds, medians",
        flush=True,
    )

    lazy_x = da.from_array(x, chunks=-1)  # made once: Dask hashes the array (ms per call)

    def with_dask():
        with dask.config.set(scheduler="threads", num_workers=1):
            return _r50_stem(lazy_x).compute()

    def without_final_copy():
        # compute() ends with Dask copying a one-chunk result (its guard against writing
        # into a buffer the graph holds): a copy of the whole output, Dask's cost and not
        # fastconv.dask's, which the threaded scheduler's own get() leaves out.
        (z,) = dask.optimize(_r50_stem(lazy_x))
        out = dask.threaded.get(z.__dask_graph__(), z.__dask_keys__(), num_workers=1)
        while isinstance(out, (list, tuple)):
            out = out[0]
        return out

    np.testing.assert_array_equal(with_dask(), _r50_stem(x))
    np.testing.assert_array_equal(without_final_copy(), _r50_stem(x))
    calls = {
        "fastconv": lambda: _r50_stem(x),
        "fastconv.dask, one chunk, compute()": with_dask,
        "fastconv.dask, one chunk, without compute()'s final copy": without_final_copy,
    }
    wall = {label: [] for label in calls}
    cpu = {label: [] for label in calls}
    load = Load()
    with progress_bar(args.rounds) as bar:
        bar.status("fastconv vs fastconv.dask, one chunk")
        for r in range(args.rounds):  # interleaved, who goes first alternating
            for label in list(calls) if r % 2 == 0 else list(calls)[::-1]:
                w0, c0 = time.perf_counter(), time.process_time()
                calls[label]()
                cpu[label].append(time.process_time() - c0)  # all threads of this process
                wall[label].append(time.perf_counter() - w0)
            bar.advance()
    print()
    print("| call | wall median ms | CPU median ms (this process, all threads) |")
    print("| --- | ---: | ---: |")
    for label in calls:
        print(
            f"| {label} | {statistics.median(wall[label]) * 1e3:.2f} | "
            f"{statistics.median(cpu[label]) * 1e3:.2f} |"
        )
    print()
    for kind, times in (("wall", wall), ("CPU", cpu)):
        direct, lazy, own = (statistics.median(times[label]) for label in calls)
        print(
            f"overhead of fastconv.dask on one chunk, {kind} time: {lazy / direct - 1:+.1%} "
            f"({(lazy - direct) * 1e3:.2f} ms) with compute(), {own / direct - 1:+.1%} "
            f"({(own - direct) * 1e3:.2f} ms; target <= 10%) without its final copy"
        )
    print(load.line())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="job", required=True)
    ooc = sub.add_parser("out-of-core", help="an image larger than memory, bounded memory")
    ooc.add_argument("--size", type=int, default=64000, help="image height and width")
    ooc.add_argument("--chunk", type=int, default=2048, help="chunk height and width")
    ooc.add_argument("--workers", type=int, default=2)
    ooc.add_argument(
        "--memory-limit",
        default="8GiB",
        help="per worker, where the nanny starts spilling/killing (default: "
        "%(default)s, above the 4 GiB target so that it never steps in)",
    )
    ooc.add_argument(
        "--log-every",
        type=float,
        default=60.0,
        help="seconds between lines with the peak RSS so far (stderr)",
    )
    ooc.set_defaults(run=out_of_core)
    scale = sub.add_parser("scaling", help="1 vs 2 worker processes on a batch")
    scale.add_argument("--images", type=int, default=256)
    scale.add_argument("--per-chunk", type=int, default=8)
    scale.add_argument("--rounds", type=int, default=5, help="clusters started per size")
    scale.add_argument("--calls", type=int, default=3, help="timed calls per cluster")
    scale.add_argument("--memory-limit", default="2GiB")
    scale.set_defaults(run=scaling)
    over = sub.add_parser("overhead", help="fastconv.dask on one chunk vs fastconv")
    over.add_argument("--images", type=int, default=32)
    over.add_argument("--rounds", type=int, default=15)
    over.set_defaults(run=overhead)
    for p in (ooc, scale, over):
        p.add_argument("--seed", type=int, default=0)
        p.add_argument(
            "--config",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a Dask setting for the run (repeatable; VALUE parsed as YAML), e.g. "
            "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_=268435456",
        )
    return parser


def _settings(pairs: list[str]) -> dict:
    """--config KEY=VALUE pairs as a dask.config.set mapping."""
    import yaml

    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--config takes KEY=VALUE, got {pair!r}")
        settings[key] = yaml.safe_load(value)
    return settings


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    settings = _settings(args.config)
    print(
        f"fastconv {fastconv.__version__}, dask {dask.__version__}, {os.cpu_count()} CPUs, "
        f"python {sys.version.split()[0]}"
        + "".join(f"; {key} = {value!r}" for key, value in settings.items())
    )
    with dask.config.set(settings):  # the nannies pass the settings on to their workers
        args.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
