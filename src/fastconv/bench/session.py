"""One `fastconv bench` run: set threads, load the peers, measure each layer, report."""

from __future__ import annotations

import datetime
import shlex
import sys
import time
from dataclasses import asdict

from . import libraries as L
from . import suite
from .busy import Spinners
from .cli import INSTALL_HINT
from .contention import Watch
from .measure import measure
from .progress import progress_bar
from .report import format_notes, format_table, write_json
from .timing import Policy


def _policy(args) -> Policy:
    if args.quick:
        return Policy.quick(args.rounds)
    return Policy(budget=args.budget, rounds=args.rounds)


def _header(
    n_layers: int,
    dtype: str,
    threads: int,
    machine: dict,
    versions: dict,
    date: str,
    spinners: int = 0,
) -> str:
    peers = []
    if "tensorflow" in versions:
        peers.append(f"TensorFlow {versions['tensorflow']} (tf.function and eager)")
    if "torch" in versions:
        peers.append(f"PyTorch {versions['torch']}")
    against = " and ".join(peers) if peers else "no peer (fastconv alone)"
    lines = [
        f"fastconv {versions['fastconv']} bench: {n_layers} layer(s), {dtype}, "
        f"{threads} thread(s), against {against}",
        f"CPU: {machine['cpu']} ({' '.join(machine['cpu_features'])}), {date}",
    ]
    if L.TF_FN in L.MISSING:
        lines.append(
            f"TensorFlow is missing: {INSTALL_HINT} to compare with it; "
            "errors are checked against fastconv.reference instead"
        )
    if L.TORCH in L.MISSING:
        lines.append("PyTorch is missing (optional): install a CPU build of torch to add it")
    if spinners:
        lines.append(
            f"--busy {spinners}: {spinners} spinner process(es) keep a core busy each "
            f"for the whole run"
        )
    return "\n".join(lines)


def run_suite(layers, args) -> int:
    from .._info import info
    from ..conv import ALGORITHMS

    threads, dtype = args.threads, args.dtype
    algorithms = ALGORITHMS if args.algorithms else ("auto",)
    policy = _policy(args)
    # Threads first: TF fixes its pools when it initializes, torch and fastconv per call.
    L.set_fastconv_threads(threads)
    L.load_tensorflow(threads, quiet=not getattr(args, "verbose", False))
    L.load_torch(threads)
    machine, versions = info(), L.versions()
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    print(_header(len(layers), dtype, threads, machine, versions, date, args.busy), flush=True)

    with Spinners(args.busy) as spinners:
        watch, results = Watch(), []
        with progress_bar(len(layers)) as bar:
            for layer in layers:
                bar.status(layer.name)
                tick = lambda done, total, name=layer.name: bar.status(
                    f"{name} round {done}/{total}"
                )
                layer_watch = Watch()
                res = measure(layer, dtype, policy, algorithms, threads=threads, tick=tick)
                res.others_cpus, res.spinners = layer_watch.others_cpus(), args.busy
                results.append(res)
                bar.advance()
        wall = time.perf_counter() - watch.wall
        # Read while the spinners still run, so that the time after them does not dilute it.
        busy, load = watch.warning(args.busy), watch.deliberate(args.busy)
        ended = args.busy - spinners.alive()

    # One table per kind of row (forward, or each gradient), each with its own geomean.
    for gradient in dict.fromkeys(r.layer.gradient for r in results):
        print()
        if gradient:
            print(f"{gradient} gradient (rows <layer>/{suite.GRADIENTS[gradient]}):")
        print(format_table([r for r in results if r.layer.gradient == gradient], algorithms))
    print()
    print(format_notes(results, L.MISSING))
    warnings = L.notes() + ([busy] if busy else [])
    if ended:
        warnings.append(
            f"{ended} spinner(s) reached their time limit before the run ended: "
            f"the last layers ran with less load than --busy {args.busy}"
        )
    if args.busy:
        print(f"note: {load}")
    for warning in warnings:
        print(f"warning: {warning}")
    print(f"wall time: {wall:.1f} s")
    if args.json:
        meta = {
            "tool": "fastconv bench",
            "date": date,
            "command": shlex.join(["fastconv", *sys.argv[1:]]),
            "dtype": dtype,
            "threads": threads,
            "busy": args.busy,  # spinner processes run on purpose (--busy)
            "threads_in_use": L.threads_in_use(),
            "environment": L.environment(),
            "machine": machine,
            "versions": versions,
            "missing": L.MISSING,
            "timing_policy": asdict(policy),
            "algorithms": list(algorithms),
            "wall_seconds": wall,
            "contention": watch.report(),
            "warnings": warnings,
            "deliberate_load": load if args.busy else None,
        }
        write_json(args.json, results, meta)
        print(f"wrote {args.json}")
    if args.plot:
        from .plot import plot_speedups

        loaded = f", --busy {args.busy}" if args.busy else ""
        title = (
            f"fastconv {versions['fastconv']} speedup, {dtype}, {threads} thread(s){loaded}, "
            f"{date[:10]}\n{machine['cpu']}"
        )
        plot_speedups(args.plot, results, title, " ".join(warnings))
        print(f"wrote {args.plot}")
    return 0
