"""The Clang job: build the extension with Clang instead of GCC and run the kernel tests on it.

    python tests/clang_run.py [--build-root DIR]

The kernels are written with the GCC vector extensions that Clang shares; this job keeps them
that way (no GCC-only builtin, no GCC-only flag). It builds with -Werror, so a warning Clang
gives and GCC does not fails here too. Needs clang and, for OpenMP, LLVM's libomp (Debian:
`apt-get install clang libomp-dev`; without libomp the build is serial and says so).
The tests are the kernels' own files among tests/sanitize_run.py's KERNEL_TESTS, run the
same way (a child process that imports the Clang build first; no TensorFlow).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

from sanitize_run import KERNEL_TESTS, PYTEST_CHILD, TESTS, WITHOUT_TF, run_child

import asan_build

# The kernels' own test files (every kernel, ISA, dtype and tile edge; about a minute and a
# half on 2 cores): what a compiler can get wrong. The rest of KERNEL_TESTS exercises the
# Python layer, which the compiler does not change.
CLANG_TESTS = [
    name
    for name in KERNEL_TESTS
    if name.startswith("test_")
    and name.endswith(("_kernel.py", "_kernels.py", "gemm.py", "winograd.py"))
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-root", default=asan_build.ROOT / "build")
    parser.add_argument(
        "--tests",
        nargs="+",
        default=CLANG_TESTS,
        help="test files (in tests/) to run; default: the kernels' own",
    )
    opts = parser.parse_args(argv)
    if not shutil.which("clang"):
        print("clang is not installed (Debian: apt-get install clang libomp-dev)")
        return 1

    start = time.monotonic()
    pkg = asan_build.build_variant(opts.build_root, "clang", "clang", "Release", "-Werror")
    print(f"--- Clang build: {pkg} ({time.monotonic() - start:.0f} s)", flush=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    env["OPENBLAS_NUM_THREADS"] = "1"
    tests = [str(TESTS / name) for name in opts.tests]
    ok = run_child(
        [
            "-c",
            PYTEST_CHILD,
            pkg,
            "-q",
            "-p",
            "no:cacheprovider",
            "--noconftest",
            "-k",
            WITHOUT_TF,
            *tests,
        ],
        env,
        900,
        "kernel tests (Clang build)",
    )
    print(
        f"--- Clang job: {'passed' if ok else 'FAILED'} in {time.monotonic() - start:.0f} s",
        flush=True,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
