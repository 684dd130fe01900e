"""The command line (`python -m fastconv info`) and the package metadata."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import version

import fastconv


def run_cli(*args):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "fastconv", *args], capture_output=True,
                          text=True, timeout=120, env=env)


def test_version_attribute():
    assert isinstance(fastconv.__version__, str)
    assert re.match(r"^\d+\.\d+", fastconv.__version__), fastconv.__version__
    assert fastconv.__version__ == version("fastconv")
    assert "__version__" in fastconv.__all__


def test_public_api():
    for name in ("conv2d", "depthwise_conv2d", "max_pool2d", "avg_pool2d", "set_num_threads",
                 "get_num_threads"):
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
    assert proc.returncode != 0
    assert "usage" in proc.stderr.lower()
    proc = run_cli()
    assert proc.returncode != 0


def test_console_script():
    """`pip install` puts a `fastconv` command next to the interpreter."""
    from pathlib import Path

    script = Path(sys.executable).parent / "fastconv"
    assert script.exists(), f"no console script at {script}"
    proc = subprocess.run([str(script), "info"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert fastconv.__version__ in proc.stdout
