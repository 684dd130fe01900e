"""The command line (`python -m fastconv info`) and the package metadata."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import version

import pytest

import fastconv
from run_script import run_python


def run_cli(*args, **env_vars):
    env = dict(os.environ, OMP_NUM_THREADS="1", **env_vars)
    if "FASTCONV_ISA" not in env_vars:
        env.pop("FASTCONV_ISA", None)
    return subprocess.run(
        [sys.executable, "-m", "fastconv", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_version_attribute():
    assert isinstance(fastconv.__version__, str)
    assert re.match(r"^\d+\.\d+", fastconv.__version__), fastconv.__version__
    assert fastconv.__version__ == version("fastconv")
    assert "__version__" in fastconv.__all__


def test_public_api():
    for name in (
        "conv2d",
        "depthwise_conv2d",
        "max_pool2d",
        "avg_pool2d",
        "set_num_threads",
        "get_num_threads",
    ):
        assert name in fastconv.__all__ and callable(getattr(fastconv, name))
    from fastconv import reference

    for name in ("conv2d", "depthwise_conv2d", "max_pool2d", "avg_pool2d"):
        assert callable(getattr(reference, name))


def test_info_prints_version_threads_and_kernels():
    proc = run_cli("info")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert fastconv.__version__ in out
    assert re.search(r"OpenMP:.*1 thread", out), out  # OMP_NUM_THREADS=1 is reported
    for kernel in ("conv2d direct", "conv2d im2col", "max_pool2d"):
        assert kernel in out


def test_info_json():
    proc = run_cli("info", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["version"] == fastconv.__version__
    assert data["threads"] == 1
    assert isinstance(data["cpu_features"], list) and isinstance(data["openmp"], bool)


def test_unknown_command_fails_cleanly():
    proc = run_cli("frobnicate")
    assert proc.returncode == 2
    assert "usage" in proc.stderr.lower()


def test_bare_command_prints_help():
    """`python -m fastconv` and `fastconv` alone print the help (the commands), exit 0; not
    "error: the following arguments are required: command"."""
    from pathlib import Path

    script = Path(sys.executable).parent / "fastconv"
    for proc in (
        run_cli(),
        subprocess.run([str(script)], capture_output=True, text=True, timeout=120),
    ):
        assert proc.returncode == 0, proc.stderr
        assert "usage: fastconv" in proc.stdout
        assert "info" in proc.stdout and "bench" in proc.stdout and "--version" in proc.stdout
        assert "error" not in proc.stderr


def test_version_flag():
    proc = run_cli("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"fastconv {fastconv.__version__}"


# ------------------------------------------------------------ FASTCONV_ISA


def test_isa_request_in_any_case():
    """FASTCONV_ISA=BASELINE (or AVX2) is honoured like baseline, and `fastconv info` says
    which level was requested and which runs; no warning. "scalar", the baseline's old name,
    is still accepted."""
    names = {
        "BASELINE": "baseline",
        "Baseline": "baseline",
        "SCALAR": "baseline",
        "scalar": "baseline",
    }
    if "avx2" in fastconv._core.isa_names():
        names["AVX2"] = "avx2"
    for value, runs in names.items():
        proc = run_cli("info", "--json", FASTCONV_ISA=value)
        assert proc.returncode == 0, proc.stderr
        assert "Warning" not in proc.stderr, proc.stderr
        data = json.loads(proc.stdout)
        assert data["isa"] == runs
        assert data["isa_requested"] == {"value": value, "honoured": True, "note": None}
    proc = run_cli("info", FASTCONV_ISA="SCALAR")
    assert re.search(r"ISA: +baseline runs \(FASTCONV_ISA=SCALAR requested", proc.stdout), (
        proc.stdout
    )


def test_set_isa_accepts_the_old_name():
    """set_isa("scalar") runs the baseline kernels, as set_isa("baseline") does."""
    before = fastconv._core.get_isa()
    try:
        fastconv._core.set_isa("scalar")
        assert fastconv._core.get_isa() == "baseline"
        fastconv._core.set_isa(before)
        fastconv._core.set_isa("baseline")
        assert fastconv._core.get_isa() == "baseline"
        assert fastconv._core.isa_names()[0] == "baseline"
        with pytest.raises(ValueError, match="ISA must be one of"):
            fastconv._core.set_isa("sse2")
    finally:
        fastconv._core.set_isa(before)


@pytest.mark.parametrize("value", ["foo", "avx3", "avx 2", "sse"])
def test_unknown_isa_request_warns(value):
    """An unknown FASTCONV_ISA was ignored silently: now a RuntimeWarning at import, and
    `fastconv info` says it was ignored and what runs instead (the best level)."""
    best = fastconv._core.isa_names()[-1]
    proc = run_cli("info", FASTCONV_ISA=value)
    assert proc.returncode == 0, proc.stderr
    assert "RuntimeWarning" in proc.stderr and repr(value) in proc.stderr, proc.stderr
    assert f"runs its {best} kernels" in proc.stderr
    assert re.search(
        rf"ISA: +{best} runs \(FASTCONV_ISA={re.escape(repr(value))} is not an ISA", proc.stdout
    ), proc.stdout
    code = "import warnings, sys; warnings.simplefilter('error'); import fastconv"
    done = run_python(code, timeout=120, env={"FASTCONV_ISA": value}, check=False)
    assert done.returncode != 0 and "FASTCONV_ISA" in done.stderr  # a real warning


def test_isa_request_above_the_cpu(monkeypatch):
    """A known level the CPU lacks (avx512 on an AVX2 machine) is ignored, and said so. The
    CPU is faked here: the rule is _isa.requested's, the C side follows the same one."""
    from fastconv import _isa

    monkeypatch.setattr(_isa, "REQUESTED", "AVX512")
    monkeypatch.setattr(_isa._core, "isa_names", lambda: ["baseline", "avx2"])
    req = _isa.requested()
    assert not req["honoured"] and "above what this CPU supports (baseline, avx2)" in req["note"]
    with pytest.warns(RuntimeWarning, match="AVX512"):
        _isa._warn_if_ignored()
    monkeypatch.setattr(_isa, "REQUESTED", None)
    assert _isa.requested() == {"value": None, "honoured": False, "note": None}


def test_console_script():
    """`pip install` puts a `fastconv` command next to the interpreter."""
    from pathlib import Path

    script = Path(sys.executable).parent / "fastconv"
    assert script.exists(), f"no console script at {script}"
    proc = subprocess.run([str(script), "info"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert fastconv.__version__ in proc.stdout
