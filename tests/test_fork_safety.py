"""Fork safety: a child forked after the parent ran threaded calls never enters the parent's
OpenMP thread team (its threads do not exist in the child: libgomp would wait for them
forever). It runs serially, gets the right result, within a second.

Each test runs in its own interpreter (run_script.py) so that a hang fails the test after a
bounded time instead of hanging pytest; the fork happens inside that interpreter."""

from __future__ import annotations

import json

from run_script import run_python

# The parent: 2 threads, a conv2d far above the serial cut-off (~75 MFLOP), run threaded
# (its OpenMP team now exists, idle), and child_calls() for the child to run.
PARENT = """
import json, os, sys, time
import numpy as np
import fastconv
from fastconv import reference
from tolerance import assert_close

rng = np.random.default_rng(0)
x = rng.standard_normal((4, 32, 32, 32)).astype(np.float32)
w = rng.standard_normal((3, 3, 32, 32)).astype(np.float32)
want = reference.conv2d(x, w, 1, "SAME")
ALGORITHMS = ("auto", "im2col")  # auto: Winograd on this shape
fastconv.set_num_threads(2)

def check_all(who):
    '''Each algorithm once, each result checked; {algorithm: seconds it took}.'''
    seconds = {}
    for algorithm in ALGORITHMS:
        t0 = time.perf_counter()
        y = fastconv.conv2d(x, w, 1, "SAME", algorithm=algorithm)
        seconds[algorithm] = time.perf_counter() - t0
        assert_close(y, want, 9 * 32, np.float32, err_msg=f"{who}, {algorithm}")
    return seconds

def child_calls():
    '''What a forked child reports: its call times and how many threads it has after them.'''
    return {"seconds": check_all("forked child"),
            "threads": len(os.listdir("/proc/self/task"))}

check_all("parent before the fork")
"""

# A single child with os.fork; the parent waits at most CHILD_WAIT seconds for it.
OS_FORK = (
    PARENT
    + """
CHILD_WAIT = 10
pid = os.fork()
if pid == 0:
    code = 1
    try:
        print(json.dumps(child_calls()), flush=True)
        code = 0
    finally:
        os._exit(code)
deadline = time.monotonic() + CHILD_WAIT
while os.waitpid(pid, os.WNOHANG) == (0, 0):
    if time.monotonic() > deadline:
        os.kill(pid, 9)
        sys.exit(f"the forked child hung: killed after {CHILD_WAIT} s")
    time.sleep(0.01)
check_all("parent after the fork")  # the parent's own team still works
"""
)

# A fork-context multiprocessing pool of 2 workers, 4 tasks; the results come back by pipe.
POOL = (
    PARENT
    + """
import multiprocessing

def task(i):
    return child_calls()

with multiprocessing.get_context("fork").Pool(2) as pool:
    for result in pool.map_async(task, range(4)).get(timeout=10):
        print(json.dumps(result), flush=True)
check_all("parent after the pool")
"""
)


def _check_children(stdout: str, expected: int):
    reports = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert len(reports) == expected, stdout
    for report in reports:
        # within a second (the bound on a hang is the subprocess timeout, not this)
        assert max(report["seconds"].values()) < 1.0, report
        # serially: the child starts no thread team of its own
        assert report["threads"] == 1, report


def test_os_fork_child_runs_serially_after_threaded_parent():
    _check_children(run_python(OS_FORK, timeout=20).stdout, expected=1)


def test_multiprocessing_fork_pool_after_threaded_parent():
    _check_children(run_python(POOL, timeout=20).stdout, expected=4)
