"""The sanitizer job: the kernel tests and a random-argument fuzz of the public API on an
AddressSanitizer + UndefinedBehaviorSanitizer build, failing on any sanitizer report.

    python tests/sanitize_run.py [--seed N] [--fuzz-seconds S] [--build-root DIR]

1. tests/asan_build.py builds the extension with -fsanitize=address,undefined and
   -fsanitize=float-cast-overflow, -fno-sanitize-recover (the first report ends the
   process) into build/asan-<hash> (first time about a minute on 2 idle cores; later only
   what changed).
2. pytest runs the tests that exercise the kernels (KERNEL_TESTS) in a child process that
   preloads the sanitizer runtimes and imports the instrumented package first. TensorFlow
   is not imported there (conftest.py imports it; the child loads
   tests/common_fixtures.py instead, and tests that need TensorFlow are skipped or
   deselected): the suite checks
   fastconv against TF elsewhere, and TF under a preloaded ASan runtime only adds minutes
   and its own reports.
3. tests/sanitize_fuzz.py runs seeded random calls against fastconv.reference in another
   such child for --fuzz-seconds.

Exit status 0 when both children exit 0 without a sanitizer report in their output.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

import asan_build  # noqa: E402

# Tests whose every call goes through the kernels (ISAs, tiles, layouts, dtypes, out=,
# argument errors, the binding's own checks) and that need no TensorFlow.
KERNEL_TESTS = [
    "test_gemm.py",
    "test_winograd.py",
    "test_winograd_planes_kernel.py",
    "test_depthwise_kernel.py",
    "test_pool_kernels.py",
    "test_filter_kernel.py",
    "test_blocked_kernel.py",
    "test_pointwise_planes_kernel.py",
    "test_pointwise_groups_kernel.py",
    "test_direct_aligned_copy.py",
    "test_grouped_kernel.py",
    "test_fewout_kernel.py",
    "test_fewin_planes_kernel.py",
    "test_backprop_filter_kernel.py",
    "test_backprop_filter_direct.py",
    "test_dtypes_layouts.py",
    "test_errors.py",
    "test_core_binding.py",
    # Inf / NaN / near-max data down every algorithm's re-run paths
    "test_nonfinite.py",
    "test_nonfinite_grad.py",
    # filters packed once (fastconv.Conv2D) down every algorithm
    "test_conv2d_layer.py",
    "test_pool_grad_kernel.py",
    "test_transpose_kernel.py",
    "test_depthwise_planes_kernel.py",
    "test_grouped_planes_kernel.py",
    "test_backprop_input_fewpix.py",
    # outputs in memory not mapped yet: mapped in pieces before the kernels write them
    "test_fresh_output.py",
    # the pooling sweeps (the file's memory and time limits do not hold under ASan)
    "test_pool_limits.py::test_clipped_windows_sweep",
    "test_pool_limits.py::test_far_apart_windows_sweep",
]
# Tests in those files that need TensorFlow (pytest -k expression).
WITHOUT_TF = "not tensorflow"
REPORTS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")

# The child that runs pytest: the instrumented package first, common_fixtures.py instead
# of conftest.py (which imports TensorFlow), and a tf_nn fixture that skips.  In one process
# (-n 0 overrides pyproject.toml's -n auto): xdist's workers would import the installed
# fastconv, not the instrumented one, and would not get these plugins.
PYTEST_CHILD = """
import sys
import pytest
from isa_stress import import_fastconv

fastconv = import_fastconv(sys.argv[1])
import common_fixtures


class NoTensorFlow:
    @pytest.fixture
    def tf_nn(self):
        pytest.skip("TensorFlow is not loaded under the sanitizers")


sys.exit(pytest.main(["-n", "0", *sys.argv[2:]], plugins=[common_fixtures, NoTensorFlow()]))
"""


def run_child(args: list, env: dict, timeout: float, label: str) -> bool:
    """Run a child Python; print its output; whether it passed without reports."""
    start = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, *map(str, args)],
            env=env,
            cwd=TESTS.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        output, status = done.stdout, done.returncode
    except subprocess.TimeoutExpired as e:
        output, status = (e.stdout or b"").decode(errors="replace"), "timeout"
    reports = [r for r in REPORTS if r in output]
    ok = status == 0 and not reports
    print(output[-20000:] if not ok else output[-3000:])
    print(
        f"--- {label}: exit status {status}, sanitizer reports: {reports or 'none'}, "
        f"{time.monotonic() - start:.0f} s: {'ok' if ok else 'FAILED'}",
        flush=True,
    )
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="the fuzz's seed")
    parser.add_argument("--fuzz-seconds", type=float, default=45.0)
    parser.add_argument("--build-root", default=asan_build.ROOT / "build")
    parser.add_argument("--skip-tests", action="store_true", help="the fuzz only")
    opts = parser.parse_args(argv)

    start = time.monotonic()
    pkg = asan_build.build(opts.build_root, ubsan=True)
    print(f"--- sanitizer build: {pkg} ({time.monotonic() - start:.0f} s)", flush=True)
    env = dict(os.environ)
    env.update(asan_build.sanitizer_vars(ubsan=True))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["PYTHONFAULTHANDLER"] = "1"

    ok = True
    if not opts.skip_tests:
        tests = [str(TESTS / name) for name in KERNEL_TESTS]
        # -s: a sanitizer ends the process at its first report, which pytest's captured
        # output of the test would lose
        ok &= run_child(
            [
                "-c",
                PYTEST_CHILD,
                pkg,
                "-q",
                "-s",
                "-p",
                "no:cacheprovider",
                "--noconftest",
                "-k",
                WITHOUT_TF,
                *tests,
            ],
            env,
            1200,
            "kernel tests",
        )
    ok &= run_child(
        [
            TESTS / "sanitize_fuzz.py",
            "--pkg",
            pkg,
            "--seed",
            opts.seed,
            "--seconds",
            opts.fuzz_seconds,
        ],
        env,
        opts.fuzz_seconds + 300,
        "fuzz",
    )
    print(
        f"--- sanitizer job: {'passed' if ok else 'FAILED'} in {time.monotonic() - start:.0f} s",
        flush=True,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
