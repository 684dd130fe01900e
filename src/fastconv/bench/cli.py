"""`fastconv bench`: run the layer suite against TensorFlow (and PyTorch), print the table.

Only argparse is imported at module level: `fastconv info` builds this parser too, and must
not pay for NumPy-heavy modules, TensorFlow, PyTorch or matplotlib.
"""

from __future__ import annotations

import argparse
import os

DESCRIPTION = """\
Time fastconv against TensorFlow (tf.function on tensors, and eager on NumPy arrays) and
PyTorch where installed, on a named suite of real layers. Libraries run interleaved, round
by round, and the median is reported. TensorFlow, matplotlib and rich come with
`pip install "fastconv[bench]"`; PyTorch is optional (install a CPU build yourself) and is
left out of the comparison when missing."""


def default_threads() -> int:
    """All cores this process may run on (respects taskset / cgroup CPU sets)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _positive(kind, zero_ok: bool = False):
    expected = "a number >= 0" if zero_ok else "a positive number"

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < 0 or (value == 0 and not zero_ok):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--only", metavar="PATTERN",
                        help="layers to run: comma-separated substrings or globs "
                             "(e.g. 'tiny', 'r50-3x3-*,pool'); default: the whole suite")
    parser.add_argument("--list", action="store_true", help="list the suite's layers and exit")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--threads", type=_positive(int), metavar="N",
                        help=f"threads for every library (default: all cores, "
                             f"{default_threads()} here)")
    parser.add_argument("--algorithms", action="store_true",
                        help="also time each explicit conv2d algorithm (direct, im2col)")
    parser.add_argument("--rounds", type=_positive(int), metavar="N",
                        help="fixed number of interleaved rounds (default: what fits --budget, "
                             "3 to 15)")
    parser.add_argument("--budget", type=_positive(float), default=4.0, metavar="SECONDS",
                        help="timed seconds per layer, all libraries together (default: 4)")
    parser.add_argument("--quick", action="store_true",
                        help="a few short rounds: checks that it all runs, figures are rough")
    parser.add_argument("--busy", type=_positive(int, zero_ok=True), default=0, metavar="N",
                        help="run N spinner processes, each keeping a core busy, for the whole "
                             "run: the figures on a shared machine (default: 0)")
    parser.add_argument("--json", metavar="PATH", help="write every figure and the machine info")
    parser.add_argument("--plot", metavar="PATH.png",
                        help="draw the speedups per layer as a bar chart (needs matplotlib)")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import suite

    layers = suite.select(args.only)
    if args.list:
        for layer in layers:
            print(f"{layer.name:22} {layer.op:9} in {layer.input} window {layer.window} "
                  f"stride {layer.stride} {layer.padding}  ({layer.source})")
        return 0
    if not layers:
        names = ", ".join(layer.name for layer in suite.LAYERS)
        parser.error(f"--only {args.only!r} matches no layer; the layers are: {names}")
    if args.plot:
        from .plot import have_matplotlib

        if not have_matplotlib():  # say so now, not after minutes of timing
            parser.error("--plot needs matplotlib: pip install 'fastconv[bench]'")

    from .session import run_suite

    args.threads = args.threads or default_threads()
    return run_suite(layers, args)
