"""fastconv's threads on a busy machine: 1 thread and the default count, next to TensorFlow
and PyTorch, idle and with 1 and 2 spinner processes, side by side in one run.

    python benchmarks/threads_under_load.py                     # the four target layers, busy 0,1,2
    python benchmarks/threads_under_load.py --markdown          # the table for a README
    python benchmarks/threads_under_load.py --layers tiny --rounds 3 --busy 0,1

Per load level (spinners from fastconv.bench.busy started before it and stopped after it,
then a settle time) and per layer of the suite, timed interleaved round by round: fastconv at
1 thread, fastconv at its default thread count, TensorFlow (the faster of tf.function and
eager; its intra-op pool keeps all cores, as TF fixes it at start-up) and PyTorch. The table
(fastconv.bench.load_table) gives the medians and fastconv's default / 1-thread ratio, which
the targets below bound. `fastconv bench --busy N` runs the whole suite under such a load.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import sys
import time
from dataclasses import asdict

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

LAYERS = ("b8-3x3-56", "r50-3x3-28", "lenet-c2", "r50-1x1-56")
# Targets: the most fastconv's default-thread time may be over its 1-thread time, by
# (spinners, layer): no slower than 1.3x one thread under load, 0.7x or better idle.
TARGETS = {(busy, name): 1.3 for busy in (1, 2) for name in LAYERS}
TARGETS.update({(0, "b8-3x3-56"): 0.7, (0, "lenet-c2"): 0.7})


def _levels(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 0,1,2, got {text!r}") from None
    if not levels or min(levels) < 0:
        raise argparse.ArgumentTypeError(f"expected numbers >= 0 like 0,1,2, got {text!r}")
    return levels


def _peers(text: str) -> tuple[str, ...]:
    from fastconv.bench.libraries import PEERS

    peers = tuple(p.strip() for p in text.split(",") if p.strip() and p.strip() != "none")
    unknown = set(peers) - set(PEERS)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown peer(s) {sorted(unknown)}; known: {PEERS}")
    return peers


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--layers",
        default=",".join(LAYERS),
        help="suite layer patterns, comma-separated (default: %(default)s)",
    )
    parser.add_argument(
        "--busy",
        type=_levels,
        default=[0, 1, 2],
        metavar="0,1,2",
        help="spinner processes per load level (default: 0,1,2)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        metavar="N",
        help="interleaved rounds per layer and level (default: what fits --budget, 7 to 40)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="timed seconds per layer and level (default: %(default)s)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="wait after starting a level's spinners (default: %(default)s)",
    )
    parser.add_argument(
        "--peers",
        type=_peers,
        default="tf-fn,tf-eager,torch",
        help="peers to time, comma-separated, or 'none' (default: %(default)s)",
    )
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--json", metavar="FILE", help="write every figure and the machine info")
    return parser


def _header(layers, levels, versions: dict, threads: dict, cpu: str) -> str:
    peers = []
    if "tensorflow" in versions:
        peers.append(
            f"TensorFlow {versions['tensorflow']} ({threads['tensorflow_intra_op']} "
            f"intra-op threads, fixed at TF start-up)"
        )
    if "torch" in versions:
        peers.append(f"PyTorch {versions['torch']} ({threads['torch']} threads)")
    return (
        f"fastconv {versions['fastconv']} threads under load: {len(layers)} layer(s), "
        f"busy {','.join(map(str, levels))}, fastconv at 1 and {threads['fastconv']} "
        f"thread(s), against {' and '.join(peers) or 'no peer'}\nCPU: {cpu}, "
        f"{os.cpu_count()} CPUs"
    )


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from fastconv._info import info
    from fastconv.bench import libraries as L
    from fastconv.bench.load_table import format_load_notes, format_load_table, load_records
    from fastconv.bench.suite import select
    from fastconv.bench.timing import Policy
    from fastconv.bench.under_load import load_peers, run_levels

    layers = select(args.layers)
    if not layers:
        parser.error(f"--layers {args.layers!r} matches no layer of the suite")
    policy = Policy(budget=args.budget, min_rounds=7, max_rounds=40, rounds=args.rounds)
    load_peers(args.peers)
    machine, versions = info(), L.versions()
    in_use = L.threads_in_use()  # fastconv's default: the count the run begins with
    print(_header(layers, args.busy, versions, in_use, machine["cpu"]), flush=True)
    start = time.perf_counter()
    rows = run_levels(layers, args.busy, policy, args.dtype, args.peers, args.settle)
    wall = time.perf_counter() - start
    print()
    print(format_load_table(rows, TARGETS, args.markdown))
    print()
    print(format_load_notes(rows, TARGETS))
    print(f"wall time: {wall:.1f} s")
    if args.json:
        doc = {
            "tool": "benchmarks/threads_under_load.py",
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": shlex.join([sys.executable, *sys.argv]),
            "dtype": args.dtype,
            "busy_levels": args.busy,
            "settle_seconds": args.settle,
            "threads_in_use": in_use,
            "environment": L.environment(),
            "machine": machine,
            "versions": versions,
            "missing": L.MISSING,
            "timing_policy": asdict(policy),
            "wall_seconds": wall,
            "rows": load_records(rows, TARGETS),
        }
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
