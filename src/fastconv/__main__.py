"""The `fastconv` command line: `fastconv info`."""

from __future__ import annotations

import argparse
import json
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="fastconv", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    info_cmd = commands.add_parser("info", help="version, CPU features, threads and kernels")
    info_cmd.add_argument("--json", action="store_true", help="print as JSON")
    args = parser.parse_args(argv)

    if args.command == "info":
        from ._info import format_info, info

        data = info()
        print(json.dumps(data, indent=2) if args.json else format_info(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
