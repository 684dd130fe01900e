"""`fastconv bench --backward`: the gradient rows (suite.backward) end to end in a
subprocess, on the two smallest layers. The figures are not checked (speed belongs to
benchmarks); the rows, the peers' ops and the error column are."""

from __future__ import annotations

import importlib.util
import json

from fastconv.bench import suite
from test_bench_cli import _WITHOUT_PEERS, _row, _run


def test_backward_rows_against_tf_and_torch(tmp_path):
    report = tmp_path / "bench.json"
    done = _run(
        "bench",
        "--backward",
        "--only",
        "keras-mnist-c1,mbv1-dw",
        "--quick",
        "--threads",
        "1",
        "--json",
        str(report),
    )
    assert done.returncode == 0, done.stderr
    assert "input gradient (rows <layer>/dx)" in done.stdout
    # PyTorch is optional (not in the test extra): without it its column shows "-"
    torch = importlib.util.find_spec("torch") is not None
    for name in ("keras-mnist-c1/dx", "mbv1-dw-112/dx"):
        tf_fn, tf_eager, vs_torch = _row(done.stdout, name)[-4:-1]
        assert tf_fn.endswith("x") and tf_eager.endswith("x"), (tf_fn, tf_eager)
        assert vs_torch.endswith("x") if torch else vs_torch == "-", vs_torch
    doc = json.loads(report.read_text())
    rows = {layer["name"]: layer for layer in doc["layers"]}
    assert rows["keras-mnist-c1/dx"]["gradient"] == "input"
    for name, layer in rows.items():
        assert layer["error_baseline"] == "tf-fn", name
        assert layer["errors"]["fastconv"] < 1e-5, name
        assert not torch or layer["errors"]["torch"] < 1e-5, name
        assert not layer["failures"], layer["failures"]


def test_backward_list_names_the_gradient_rows():
    done = _run("bench", "--backward", "--list")
    assert done.returncode == 0, done.stderr
    listed = [line.split()[0] for line in done.stdout.splitlines()]
    assert {f"{name}/dx" for name in suite.BACKWARD} <= set(listed)
    assert all(name.split("/")[0] in suite.BACKWARD for name in listed)


def test_backward_without_peers_checks_against_the_reference():
    done = _run("bench", "--backward", "--only", "mbv1-dw", "--quick", code=_WITHOUT_PEERS)
    assert done.returncode == 0, done.stderr
    assert "baseline: reference" in done.stdout
    assert _row(done.stdout, "mbv1-dw-112/dx")[-4:-1] == ["-", "-", "-"]


def test_backward_only_a_layer_without_gradient_rows():
    done = _run("bench", "--backward", "--only", "tiny")
    assert done.returncode == 2 and "matches no layer" in done.stderr
    assert "r50-conv1" in done.stderr  # names the layers that have gradient rows
