"""The ISA-switching stress (tests/isa_stress.py) on an AddressSanitizer build of the
extension: a call that packs for one ISA's micro-kernel tile and computes with another's
reads or writes past its buffers even when the process happens not to crash.

The build is the sanitizer job's own (tests/asan_build.py with UBSan: CMake with
-fsanitize=address,undefined into build/asan-<hash>), so that CI compiles the instrumented
kernels once for both (about 4 CPU-minutes with UBSan; CI used to compile an ASan-only build
too, half that); later runs rebuild only what changed. It needs GCC's libasan and libubsan,
and CMake, Ninja and Cython (the test extra installs them)."""

from __future__ import annotations

import subprocess

import pytest

import asan_build
from run_script import run_python
from test_isa_switch import STRESS


@pytest.fixture(scope="session")
def asan_package():
    try:
        return asan_build.build(ubsan=True)
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:  # a test failure
        pytest.fail(f"could not build the ASan extension: {e}")


def test_isa_switching_under_asan(asan_package):
    env = asan_build.sanitizer_vars(ubsan=True)
    result = run_python(
        STRESS, args=["--pkg", asan_package, "--seconds", 10], env=env, timeout=120, check=False
    )
    report = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr[-6000:]}"
    assert "ERROR: AddressSanitizer" not in result.stderr, report
    assert "runtime error:" not in result.stderr, report  # UBSan
    assert result.returncode == 0, report
    assert "0 wrong results" in result.stdout, report
