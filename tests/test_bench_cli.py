"""Smoke tests of `fastconv bench`, end to end in a subprocess, on the tiny layer only.

The figures are not checked (speed belongs to benchmarks, not to unit tests); what is checked
is that the command runs, prints the table, writes its files and fails cleanly.
"""

import importlib.util
import json
import re
import subprocess
import sys

import pytest

from run_script import run_python

# Blocks TensorFlow and PyTorch from importing in the child, as if they were not installed.
_WITHOUT_PEERS = (
    "import sys; sys.modules['tensorflow'] = sys.modules['torch'] = None; "
    "from fastconv.__main__ import main; sys.exit(main(sys.argv[1:]))"
)


def _run(*args, code=None):
    command = (
        [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "fastconv", *args]
    )
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
    # TensorFlow's log lines (oneDNN's notice, absl's pre-init warning) stay off stderr
    for noise in ("oneDNN", "absl::InitializeLog", "I0000", "cpu_feature_guard"):
        assert noise not in done.stderr, done.stderr
    assert "vs TF fn" in done.stdout and "geomean" in done.stdout
    assert "against each row's fastest peer: " in done.stdout
    assert _row(done.stdout, "tiny-8x8")[0] == "tiny-8x8"

    doc = json.loads(report.read_text())
    for key in (
        "date",
        "dtype",
        "threads",
        "machine",
        "versions",
        "missing",
        "layers",
        "geomean_speedups",
        "geomean_speedups_fastest",
        "timing_policy",
        "wall_seconds",
    ):
        assert key in doc
    assert doc["dtype"] == "float32" and doc["machine"]["cpu"]
    [layer] = doc["layers"]
    assert layer["name"] == "tiny-8x8" and layer["flops"] == 2 * 8 * 8 * 9
    assert layer["timings"]["fastconv"]["median_ms"] > 0
    assert layer["error_baseline"] == "tf-fn" and layer["errors"]["fastconv"] < 1e-5
    # the fastest peer per row: no better than any peer's own column
    fastest, columns = doc["geomean_speedups_fastest"], doc["geomean_speedups"]
    assert fastest["all"] == min(columns.values())  # one layer: the smallest speedup
    assert fastest["tf"] == min(columns["tf-fn"], columns["tf-eager"])
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
        (
            ["--json", "/no/such/folder/bench.json"],
            "--json .*folder '/no/such/folder' does not exist",
        ),
        (
            ["--plot", "/no/such/folder/bench.png"],
            "--plot .*folder '/no/such/folder' does not exist",
        ),
        (["--plot", "bench.svg"], "--plot writes a PNG file: its name must end in .png"),
        (["--plot", "bench"], "must end in .png"),
        (["--json", "."], "--json '.' is a folder"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(args, message):
    """Refused at once, before any library is loaded or timed (nothing on stdout)."""
    done = _run("bench", "--only", "tiny", *args)
    assert done.returncode == 2
    assert re.search(message, done.stderr), done.stderr
    assert "usage:" in done.stderr and done.stdout == ""


def test_help_is_true():
    """The help names every algorithm --algorithms times, the --rounds range timing.Policy
    really uses, and install hints that work from a source checkout and from an index."""
    from fastconv.bench.timing import Policy
    from fastconv.conv import ALGORITHMS

    done = _run("bench", "--help")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())  # argparse wraps lines
    explicit = [a for a in ALGORITHMS if a != "auto"]
    assert "winograd" in explicit
    algorithms_help = text[text.index("--algorithms ") : text.index("--rounds N ")]
    for algorithm in explicit:
        assert algorithm in algorithms_help, algorithms_help
    default, quick = Policy(), Policy.quick()
    assert f"{default.min_rounds} to {default.max_rounds}" in text
    assert f"{quick.min_rounds} to {quick.max_rounds}" in text
    assert 'pip install ".[bench]"' in text and 'pip install "fastconv[bench]"' in text
    assert "--verbose" in text


def test_readme_names_every_algorithm():
    from pathlib import Path

    from fastconv.conv import ALGORITHMS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    api = readme[readme.index("## API") : readme.index("### Threads")]
    line = next(s for s in api.splitlines() if s.startswith("- `algorithm`"))
    block = api[api.index(line) :].split("\n- ")[0]
    for algorithm in ALGORITHMS:
        assert f'"{algorithm}"' in block, (algorithm, block)


def test_stderr_held_while_tensorflow_loads():
    """The quiet TF import holds file descriptor 2 (C++ log lines ignore Python's logging and,
    before absl::InitializeLog, TF_CPP_MIN_LOG_LEVEL); --verbose leaves it alone; a failed
    import still shows what was written."""
    code = (
        "import os, sys\n"
        "from fastconv.bench.libraries import _stderr_held\n"
        "with _stderr_held(True):\n"
        "    os.write(2, b'held-noise\\n')\n"
        "with _stderr_held(False):\n"
        "    os.write(2, b'verbose-noise\\n')\n"
        "try:\n"
        "    with _stderr_held(True):\n"
        "        os.write(2, b'failure-detail\\n')\n"
        "        raise ImportError('x')\n"
        "except ImportError:\n"
        "    pass\n"
        "os.write(2, b'after\\n')\n"
    )
    done = run_python(code, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.split() == ["verbose-noise", "failure-detail", "after"], done.stderr


def test_verbose_flag_is_passed_to_the_tensorflow_loader(monkeypatch):
    """--verbose reaches load_tensorflow as quiet=False (the default run passes quiet=True)."""
    import argparse

    from fastconv.bench import cli, libraries, session

    seen = []
    monkeypatch.setattr(
        libraries, "load_tensorflow", lambda threads, quiet=True: seen.append(quiet)
    )
    monkeypatch.setattr(libraries, "load_torch", lambda threads: None)
    monkeypatch.setattr(session, "measure", lambda *a, **k: (_ for _ in ()).throw(SystemExit(7)))
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    for argv, want in ((["--only", "tiny", "--verbose"], False), (["--only", "tiny"], True)):
        args = parser.parse_args(argv)
        with pytest.raises(SystemExit):
            cli.run(args, parser)
        assert seen.pop() is want


def test_info_imports_no_peer():
    code = (
        "import sys; from fastconv.__main__ import main; main(['info']); "
        "heavy = {'tensorflow', 'torch', 'matplotlib'} & set(sys.modules); "
        "sys.exit(f'imported {heavy}' if heavy else 0)"
    )
    done = run_python(code, timeout=60, check=False)
    assert done.returncode == 0, done.stderr + done.stdout
