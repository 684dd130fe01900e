"""Smoke tests of `fastconv bench`, end to end in a subprocess, on the tiny layer only.

The figures are not checked (speed belongs to benchmarks, not to unit tests); what is checked
is that the command runs, prints the table, writes its files and fails cleanly.
"""

import importlib.util
import json
import subprocess
import sys

import pytest

# Blocks TensorFlow and PyTorch from importing in the child, as if they were not installed.
_WITHOUT_PEERS = (
    "import sys; sys.modules['tensorflow'] = sys.modules['torch'] = None; "
    "from fastconv.__main__ import main; sys.exit(main(sys.argv[1:]))"
)


def _run(*args, code=None):
    command = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "fastconv", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def _row(stdout: str, name: str) -> list[str]:
    rows = [line.split() for line in stdout.splitlines() if line.startswith(name + " ")]
    assert len(rows) == 1, stdout
    return rows[0]


def test_quick_run_prints_the_table_and_writes_json(tmp_path):
    report = tmp_path / "bench.json"
    extra = []
    if importlib.util.find_spec("matplotlib") is not None:
        extra = ["--plot", str(tmp_path / "bench.png")]
    done = _run("bench", "--only", "tiny", "--quick", "--json", str(report), *extra)
    assert done.returncode == 0, done.stderr
    assert "vs TF fn" in done.stdout and "geomean" in done.stdout
    assert _row(done.stdout, "tiny-8x8")[0] == "tiny-8x8"

    doc = json.loads(report.read_text())
    for key in ("date", "dtype", "threads", "machine", "versions", "missing", "layers",
                "geomean_speedups", "timing_policy", "wall_seconds"):
        assert key in doc
    assert doc["dtype"] == "float32" and doc["machine"]["cpu"]
    [layer] = doc["layers"]
    assert layer["name"] == "tiny-8x8" and layer["flops"] == 2 * 8 * 8 * 9
    assert layer["timings"]["fastconv"]["median_ms"] > 0
    assert layer["error_baseline"] == "tf-fn" and layer["errors"]["fastconv"] < 1e-5
    if extra:
        assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_runs_without_tensorflow_and_torch():
    done = _run("bench", "--only", "tiny", "--quick", code=_WITHOUT_PEERS)
    assert done.returncode == 0, done.stderr
    assert "TensorFlow is missing" in done.stdout and "PyTorch is missing" in done.stdout
    assert "baseline: reference" in done.stdout  # errors checked against the NumPy oracle
    row = _row(done.stdout, "tiny-8x8")
    assert row[-4:-1] == ["-", "-", "-"]  # no peer speedups


@pytest.mark.parametrize(
    "args, message",
    [
        (["--only", "no-such-layer"], "matches no layer"),
        (["--no-such-option"], "unrecognized arguments"),
        (["--threads", "0"], "--threads"),
        (["--dtype", "float16"], "--dtype"),
        (["--busy", "-1"], "--busy"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(args, message):
    done = _run("bench", *args)
    assert done.returncode == 2
    assert message in done.stderr


def test_info_imports_no_peer():
    code = (
        "import sys; from fastconv.__main__ import main; main(['info']); "
        "heavy = {'tensorflow', 'torch', 'matplotlib'} & set(sys.modules); "
        "sys.exit(f'imported {heavy}' if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr + done.stdout
