"""A call's large per-thread workspace is given back when the call ends.

Every thread of a call takes its task workspace (FC_SCRATCH_TASK) from a per-thread buffer
kept across calls; one kept at the size of a big call held its memory for the life of the
thread (a Winograd layer with many channels left hundreds of MiB resident in the calling
thread, and in each OpenMP worker). The parallel layer now releases buffers over 16 MiB at
the end of each thread's share of a call.

Resident memory is read from /proc/self/status (VmRSS: ru_maxrss only ever grows) in a
fresh interpreter, so that nothing else the test session did is in the numbers.
"""

from __future__ import annotations

import sys

import pytest

from run_script import run_python

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads VmRSS from /proc/self/status"
)

# Winograd on 1x14x14xC -> 16 channels: per thread a V block of 16 x 48 tiles x C floats
# (C = 32768: 96 MiB, all of it written on one thread, a quarter on two), well above both
# the 16 MiB the scratch layer keeps and glibc's largest mmap threshold (32 MiB), so a freed
# buffer goes back to the kernel at once.
SCRIPT = r"""
import numpy as np
import fastconv

def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024

C, O = 32768, 16
rng = np.random.default_rng(0)
x = rng.standard_normal((1, 14, 14, C), dtype=np.float32)
w = rng.standard_normal((3, 3, C, O), dtype=np.float32)
small_x, small_w = x[:, :, :, :32].copy(), w[:, :, :32, :].copy()
MiB = 1 << 20
for threads in (1, 2):
    fastconv.set_num_threads(threads)
    # a small call first: the OpenMP team and the small buffers exist before the baseline
    fastconv.conv2d(small_x, small_w, 1, "SAME", algorithm="winograd")
    before = rss()
    y = fastconv.conv2d(x, w, 1, "SAME", algorithm="winograd")
    after = rss()
    print(f"threads={fastconv.get_num_threads()} VmRSS before {before / MiB:.1f} MiB, "
          f"after {after / MiB:.1f} MiB: {(after - before) / MiB:+.1f} MiB")
    assert y.shape == (1, 14, 14, O) and np.isfinite(y).all()
    assert after - before < 8 * MiB, "the call's workspace stayed resident"
"""


def test_large_task_workspace_is_released_after_the_call():
    result = run_python(SCRIPT, timeout=120, check=False)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr[-3000:]}"
