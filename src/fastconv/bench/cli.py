"""`fastconv bench`: run the layer suite against TensorFlow (and PyTorch), print the table.

Only argparse is imported at module level: `fastconv info` builds this parser too, and must
not pay for NumPy-heavy modules, TensorFlow, PyTorch or matplotlib.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .timing import Policy  # a dataclass, no heavy imports: the help quotes its defaults

# The bench extra, from a package index or from a source checkout (its root folder).
INSTALL_HINT = """pip install "fastconv[bench]" (or pip install ".[bench]" in a source checkout)"""

DESCRIPTION = f"""\
Time fastconv against TensorFlow (tf.function on tensors, and eager on NumPy arrays) and
PyTorch where installed, on a named suite of real layers. Libraries run interleaved, round
by round, and the median is reported. TensorFlow, matplotlib and rich come with
{INSTALL_HINT};
PyTorch is optional (install a CPU build yourself) and is left out of the comparison when
missing. TensorFlow's log lines are kept off stderr unless --verbose is given."""


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
    parser.add_argument(
        "--only",
        metavar="PATTERN",
        help="layers to run: comma-separated substrings or globs "
        "(e.g. 'tiny', 'r50-3x3-*,pool'); default: the whole suite",
    )
    parser.add_argument("--list", action="store_true", help="list the suite's layers and exit")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument(
        "--threads",
        type=_positive(int),
        metavar="N",
        help=f"threads for every library (default: all cores, {default_threads()} here)",
    )
    parser.add_argument(
        "--backward",
        action="store_true",
        help="time the gradients of the convolution layers instead (input and "
        "filter gradient: one table each) against TF's raw gradient ops "
        "and torch.nn.grad; --only picks among them",
    )
    parser.add_argument(
        "--algorithms",
        action="store_true",
        help="also time each explicit conv2d algorithm: direct, im2col and "
        "winograd (winograd where it applies: 3x3, stride 1, no dilation, "
        "one group)",
    )
    default, quick = Policy(), Policy.quick()
    parser.add_argument(
        "--rounds",
        type=_positive(int),
        metavar="N",
        help=f"fixed number of interleaved rounds (default: what fits --budget, "
        f"{default.min_rounds} to {default.max_rounds}; with --quick "
        f"{quick.min_rounds} to {quick.max_rounds})",
    )
    parser.add_argument(
        "--budget",
        type=_positive(float),
        default=4.0,
        metavar="SECONDS",
        help="timed seconds per layer, all libraries together (default: 4)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a few short rounds: checks that it all runs, figures are rough",
    )
    parser.add_argument(
        "--busy",
        type=_positive(int, zero_ok=True),
        default=0,
        metavar="N",
        help="run N spinner processes, each keeping a core busy, for the whole "
        "run: the figures on a shared machine (default: 0)",
    )
    parser.add_argument("--json", metavar="PATH", help="write every figure and the machine info")
    parser.add_argument(
        "--plot",
        metavar="PATH.png",
        help="draw the speedups per layer as a bar chart, a PNG file (needs matplotlib)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="leave TensorFlow's log lines on stderr (by default they are "
        "silenced while it loads and runs)",
    )


def check_output_path(path: str, option: str, suffix: str | None = None) -> str | None:
    """Why `path` cannot be written by `option` at the end of the run, or None if it can:
    checked before any timing, so a typo does not cost minutes of it."""
    target = Path(path)
    if suffix is not None and target.suffix.lower() != suffix:
        return f"{option} writes a {suffix[1:].upper()} file: its name must end in {suffix}, got {path!r}"
    if target.is_dir():
        return f"{option} {path!r} is a folder; give a file name"
    folder = target.parent
    if not folder.is_dir():
        return f"{option} {path!r}: the folder {str(folder)!r} does not exist"
    if not os.access(folder, os.W_OK):
        return f"{option} {path!r}: the folder {str(folder)!r} is not writable"
    return None


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import suite

    layers = suite.select(args.only)
    if args.backward:
        import fastconv

        from .runners_backward import available

        layers = [layer for layer in suite.backward(layers) if available(fastconv, layer)]
    if args.list:
        for layer in layers:
            print(
                f"{layer.name:22} {layer.op:9} in {layer.input} window {layer.window} "
                f"stride {layer.stride} {layer.padding}  ({layer.source})"
            )
        return 0
    if not layers:
        names = ", ".join(
            suite.BACKWARD if args.backward else (layer.name for layer in suite.LAYERS)
        )
        parser.error(f"--only {args.only!r} matches no layer; the layers are: {names}")
    # Say what is wrong with the output files now, not after minutes of timing.
    for option, path, suffix in (("--json", args.json, None), ("--plot", args.plot, ".png")):
        problem = path and check_output_path(path, option, suffix)
        if problem:
            parser.error(problem)
    if args.plot:
        from .plot import have_matplotlib

        if not have_matplotlib():
            parser.error(f"--plot needs matplotlib: {INSTALL_HINT}")

    from .session import run_suite

    args.threads = args.threads or default_threads()
    return run_suite(layers, args)
