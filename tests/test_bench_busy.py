"""The deliberate load of the benchmarks: spinner processes (fastconv.bench.busy), `fastconv
bench --busy N`, and the threads-under-load table, in tiny configurations (a few seconds).

No figure is checked, only that the spinners burn CPU and always go away, and that the
commands run and print what they should.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fastconv.bench.busy import Spinners
from fastconv.bench.load_table import format_load_notes, format_load_table, load_records
from fastconv.bench.suite import BY_NAME
from fastconv.bench.timing import Policy, Timing
from fastconv.bench.under_load import FC_DEFAULT, FC_ONE, LoadRow, run_levels
from test_bench_cli import _WITHOUT_PEERS, _run

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc (Linux)")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "threads_under_load.py"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _gone(pid: int, within: float) -> bool:
    """The process has exited (a zombie its new parent has not reaped yet counts) in time."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.02)
    return False


def test_spinners_burn_cpu_and_are_gone_after_the_block():
    with Spinners(2, limit=30) as spinners:
        pids = spinners.pids
        assert len(pids) == 2 and spinners.alive() == 2
        # each burns CPU: a tenth of a second within 10 s (a fixed 0.4 s wait failed when
        # the test shared the 2 cores with another xdist worker and a compiler)
        deadline = time.monotonic() + 10
        while min(map(_cpu_seconds, pids)) <= 0.1 and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in pids:
            assert _cpu_seconds(pid) > 0.1
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists()  # terminated and reaped


def test_spinner_stops_at_its_time_limit():
    with Spinners(1, limit=0.2) as spinners:
        [proc] = spinners.procs
        assert proc.wait(timeout=5) == 0
        assert spinners.alive() == 0


def test_spinner_stops_when_its_parent_dies():
    # A parent that starts a spinner, then dies without a chance to stop it.
    code = (
        "import os, signal; from fastconv.bench.busy import Spinners; "
        "print(Spinners(1, limit=30).start().pids[0], flush=True); "
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    parent = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
    )
    assert _gone(int(parent.stdout), within=5)


def test_no_spinners_and_bad_counts():
    with Spinners(0) as spinners:
        assert spinners.pids == []
    with pytest.raises(ValueError):
        Spinners(-1)


def test_bench_busy_says_the_load_is_deliberate(tmp_path):
    report = tmp_path / "bench.json"
    done = _run(
        "bench",
        "--busy",
        "1",
        "--quick",
        "--only",
        "tiny",
        "--json",
        str(report),
        code=_WITHOUT_PEERS,
    )
    assert done.returncode == 0, done.stderr
    assert "--busy 1: 1 spinner process(es)" in done.stdout
    assert "note: deliberate load: 1 spinner process(es)" in done.stdout
    assert "rerun on an idle machine" not in done.stdout
    doc = json.loads(report.read_text())
    assert doc["busy"] == 1 and doc["deliberate_load"].startswith("deliberate load")


def _row(busy, fc_one, fc_default, **peers):
    timings = {FC_ONE: Timing([fc_one], 1), FC_DEFAULT: Timing([fc_default], 1)}
    timings.update({label.replace("_", "-"): Timing([s], 1) for label, s in peers.items()})
    return LoadRow(busy, BY_NAME["lenet-c2"], 2, timings, others_cpus=1.0)


def test_load_table_columns_and_targets():
    rows = [_row(0, 0.010, 0.006, tf_fn=0.02, tf_eager=0.015, torch=0.03), _row(1, 0.010, 0.012)]
    targets = {(0, "lenet-c2"): 0.7, (1, "lenet-c2"): 1.1}
    head, rule, idle, busy = format_load_table(rows, targets).splitlines()
    assert head.split("  ")[0] == "busy" and "2t / 1t" in head and "vs best peer" in head
    assert idle.split() == [
        "0",
        "lenet-c2",
        "1.0",
        "10.000",
        "6.000",
        "0.60x",
        "<=",
        "0.70",
        "ok",
        "15.000",
        "eager",
        "30.000",
        "2.50x",
    ]
    assert busy.split()[-7:] == ["1.20x", "<=", "1.10", "MISS", "-", "-", "-"]
    markdown = format_load_table(rows, targets, markdown=True).splitlines()
    assert len(markdown) == 4 and all(line.count("|") == 11 for line in markdown)
    assert "targets met: 1 of 2" in format_load_notes(rows, targets)
    record = load_records(rows, targets)[0]
    assert record["best_peer"] == "tf-eager" and record["target_met"] is True


def test_load_levels_run_tiny(restore_threads):
    rows = run_levels(
        [BY_NAME["tiny-8x8"]], levels=(0, 1), policy=Policy(rounds=1), peers=(), settle=0
    )
    assert [(r.busy, r.layer.name) for r in rows] == [(0, "tiny-8x8"), (1, "tiny-8x8")]
    assert all(set(r.timings) == {FC_ONE, FC_DEFAULT} and r.ratio > 0 for r in rows)
    text = format_load_table(rows).splitlines()
    assert len(text) == 4 and text[2].split()[:2] == ["0", "tiny-8x8"]


def test_threads_under_load_script(tmp_path):
    report = tmp_path / "load.json"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--layers",
            "tiny",
            "--rounds",
            "1",
            "--busy",
            "0,1",
            "--settle",
            "0",
            "--peers",
            "none",
            "--markdown",
            "--json",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sum(line.startswith("| ") for line in done.stdout.splitlines()) == 4
    doc = json.loads(report.read_text())
    assert [r["busy"] for r in doc["rows"]] == [0, 1] and doc["busy_levels"] == [0, 1]
