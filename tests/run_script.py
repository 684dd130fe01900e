"""Run a Python script in a child process, bounded in time, for tests that may hang or kill
the interpreter (fork, resource limits, sanitizers): a hang fails the test instead of
hanging pytest, and nothing the script started outlives it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def run_python(
    script: str,
    *,
    timeout: float,
    env: dict | None = None,
    args=(),
    preexec_fn=None,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run `python -c script` with the tests folder importable (tolerance.py) and OpenBLAS on
    one thread (it starts threads at import otherwise); env entries are added to this
    process's environment (None removes one). The whole process group is killed at the
    timeout, forked grandchildren included, and the test fails. check: fail unless the exit
    status is 0. Returns the CompletedProcess, stdout and stderr as text."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), full_env.get("PYTHONPATH")]))
    full_env["OPENBLAS_NUM_THREADS"] = "1"
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    cmd = [sys.executable, "-c", textwrap.dedent(script), *map(str, args)]
    proc = subprocess.Popen(
        cmd,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=preexec_fn,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(
            f"the script hung: killed after {timeout} s\n--- stdout\n{out}\n"
            f"--- stderr\n{err[-4000:]}"
        )
    finally:
        try:  # anything it forked and left behind
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    result = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    if check and proc.returncode != 0:
        pytest.fail(
            f"the script exited with status {proc.returncode}\n--- stdout\n{out}\n"
            f"--- stderr\n{err[-4000:]}"
        )
    return result
