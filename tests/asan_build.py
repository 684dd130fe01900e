"""Build fastconv's extension with AddressSanitizer (UBSan too on request), for stress tests.

    python tests/asan_build.py [BUILD_ROOT]     # prints the package folder to put on sys.path

The repository's own CMake project (CMakeLists.txt, csrc/) is configured with the sanitizer
flags into BUILD_ROOT/asan-<hash> (default build/, which git ignores; <hash> of the flags and
this Python) and built there: the first time in full (about 30 s on 2 idle cores), later
only what changed since (ninja's dependency tracking; nothing: a fraction of a second). The
built _core module and a fresh copy of src/fastconv's Python files go to <that>/pkg/fastconv.

A process that imports the result must load the sanitizer runtimes first (Python itself is
not instrumented): `sanitizer_vars()` gives LD_PRELOAD and the options. Needs GCC with its
libasan (libubsan too with FASTCONV_UBSAN=1), and CMake, Ninja and Cython in this Python
(the `test` extra installs them).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "fastconv"
# UBSan doubles the compile time: opt in with FASTCONV_UBSAN=1 or build(ubsan=True). The
# sanitizer builds are compiled at -O1 (kernels and binding alike), the level the sanitizers'
# docs advise: instrumented kernels at -O3 took 9x the compile time (143 s of CPU against 15
# for blocked_avx512.c), and the CI job's 11-minute build was its longest step. The kernels
# add -fexpensive-optimizations, which lets GCC fuse a * b + c into one FMA as at -O2 and -O3:
# without it the kernels that rely on that fusion lost the bits of those that use FMA
# intrinsics (the same-bits tests of the NCHW planes kernels failed).
KERNEL_OPT = (
    "-O1;-fexpensive-optimizations"  # a CMake list UBSan here includes float-cast-overflow (a float
)
# to integer conversion out of range: not in GCC's "undefined" group) and stops at the
# first report. -g1 (line tables) gives the reports file:line at a third of -g's cost.
UBSAN = os.environ.get("FASTCONV_UBSAN") == "1"


def flags(ubsan: bool = UBSAN) -> tuple[str, str]:
    """(compile flags, link flags) of the ASan build, with UBSan or without."""
    sanitize = (
        "-fsanitize=address,undefined -fsanitize=float-cast-overflow"
        if ubsan
        else "-fsanitize=address"
    )
    recover = " -fno-sanitize-recover=undefined,float-cast-overflow" if ubsan else ""
    return sanitize + recover + " -fno-omit-frame-pointer -g1", sanitize


C_FLAGS, LINK_FLAGS = flags()


def _config_key(c_flags: str = C_FLAGS, link_flags: str = LINK_FLAGS) -> str:
    """What the build folder depends on besides the sources (ninja tracks those)."""
    key = f"{c_flags}|{link_flags}|{sys.executable}|{sys.version}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def build(build_root: Path | str = ROOT / "build", ubsan: bool = UBSAN) -> Path:
    """Build the ASan extension (with UBSan too if `ubsan`), or bring it up to date; the
    folder that holds the `fastconv` package (the built module with a fresh copy of the
    Python files)."""
    c_flags, link_flags = flags(ubsan)
    return build_variant(
        build_root, "asan", "gcc", "Debug", c_flags + " -O1", link_flags, kernel_opt=KERNEL_OPT
    )


def build_variant(
    build_root: Path | str,
    name: str,
    compiler: str,
    build_type: str,
    c_flags: str = "",
    link_flags: str = "",
    kernel_opt: str = "-O3",
) -> Path:
    """Build the extension with this compiler and flags into build_root/<name>-<hash> (the
    sanitizer builds, tests/clang_run.py's Clang build), or bring it up to date; the folder
    that holds the `fastconv` package."""
    build_dir = (
        Path(build_root) / f"{name}-{_config_key(compiler + c_flags + kernel_opt, link_flags)}"
    )
    cmake_dir = build_dir / "cmake"
    build_dir.mkdir(parents=True, exist_ok=True)
    steps = []
    if not (cmake_dir / "CMakeCache.txt").exists():
        configure = [
            "cmake",
            "-S",
            ROOT,
            "-B",
            cmake_dir,
            f"-DCMAKE_C_COMPILER={compiler}",
            f"-DCMAKE_BUILD_TYPE={build_type}",
            f"-DCMAKE_C_FLAGS={c_flags}",
            f"-DCMAKE_MODULE_LINKER_FLAGS={link_flags}",
            f"-DPython_EXECUTABLE={sys.executable}",
            f"-DFC_KERNEL_OPT={kernel_opt}",
        ]
        steps.append(configure + (["-G", "Ninja"] if shutil.which("ninja") else []))
    steps.append(["cmake", "--build", cmake_dir, "--parallel", str(os.cpu_count() or 1)])
    with open(build_dir / "build.log", "w") as log:
        for cmd in steps:
            log.write(f"$ {' '.join(map(str, cmd))}\n")
            log.flush()
            done = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT)
            if done.returncode != 0:
                if cmd is not steps[-1]:  # a failed configure is redone next time
                    shutil.rmtree(cmake_dir, ignore_errors=True)
                tail = (build_dir / "build.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} build failed ({build_dir / 'build.log'}):\n{tail}")
    module = cmake_dir / f"_core{sysconfig.get_config_var('EXT_SUFFIX')}"
    pkg = build_dir / "pkg"
    shutil.rmtree(pkg, ignore_errors=True)
    shutil.copytree(
        PACKAGE,
        pkg / "fastconv",
        ignore=shutil.ignore_patterns("*.so", "*.c", "*.pyx", "__pycache__"),
    )
    shutil.copy2(module, pkg / "fastconv" / module.name)
    return pkg


def _runtime(name: str) -> str:
    out = subprocess.run(["gcc", f"-print-file-name={name}"], capture_output=True, text=True)
    path = out.stdout.strip()
    if out.returncode != 0 or not os.path.isabs(path):
        raise RuntimeError(f"gcc has no {name}")
    return path


def sanitizer_vars(ubsan: bool = UBSAN) -> dict:
    """Environment variables for a Python process that imports the ASan build."""
    runtimes = ["libasan.so", "libubsan.so"] if ubsan else ["libasan.so"]
    return {
        "LD_PRELOAD": " ".join(_runtime(name) for name in runtimes),
        # Python's own allocations outlive the interpreter: leak reports would be noise.
        "ASAN_OPTIONS": "detect_leaks=0:exitcode=66",
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=67",
    }


if __name__ == "__main__":
    print(build(*sys.argv[1:2]))
