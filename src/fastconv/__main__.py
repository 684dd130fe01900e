"""The `fastconv` command line: `fastconv info`, `fastconv bench`."""

from __future__ import annotations

import argparse
import json
import sys


def main(argv=None) -> int:
    # Only the bench *parser* is built here; what it runs (NumPy work, TensorFlow, PyTorch,
    # matplotlib) is imported inside `run`, so `fastconv info` stays fast.
    from . import __version__
    from .bench import cli as bench_cli

    parser = argparse.ArgumentParser(prog="fastconv", description=__doc__)
    parser.add_argument("--version", action="version", version=f"fastconv {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{info,bench}")
    info_cmd = commands.add_parser("info", help="version, CPU features, threads and kernels")
    info_cmd.add_argument("--json", action="store_true", help="print as JSON")
    bench_cmd = commands.add_parser("bench", help="time fastconv against TensorFlow and PyTorch")
    bench_cli.add_arguments(bench_cmd)
    args = parser.parse_args(argv)

    if args.command is None:  # bare `fastconv`: what it can do, not an error
        parser.print_help()
        return 0
    if args.command == "info":
        from ._info import format_info, info

        data = info()
        print(json.dumps(data, indent=2) if args.json else format_info(data))
    elif args.command == "bench":
        return bench_cli.run(args, bench_cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
