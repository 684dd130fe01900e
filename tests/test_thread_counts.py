"""set_num_threads(n): integers 1..cpus (the CPUs this process may use), larger ones clamped
to cpus, never an OverflowError; 0 and negatives are ValueError, other types TypeError; a
rejected value changes nothing. OMP_NUM_THREADS beyond the CPUs is clamped the same way."""

from __future__ import annotations

import os

import numpy as np
import pytest

import fastconv
from run_script import run_python

CPUS = len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    "n", [*range(1, CPUS + 1), np.int64(1), np.int32(CPUS), np.uint8(1)], ids=repr
)
def test_accepts_one_to_cpus(n, restore_threads):
    fastconv.set_num_threads(n)
    got = fastconv.get_num_threads()
    assert got == int(n) and type(got) is int


@pytest.mark.parametrize(
    "n",
    [
        CPUS + 1,
        CPUS + 7,
        10_000,
        2**31 - 1,
        2**31,
        2**63,
        2**100,
        np.int64(10_000),
        np.uint64(2**64 - 1),
    ],
    ids=repr,
)
def test_larger_requests_are_clamped_to_cpus(n, restore_threads):
    fastconv.set_num_threads(n)
    assert fastconv.get_num_threads() == min(int(n), CPUS) == CPUS


def _rejected(bad, error):
    fastconv.set_num_threads(1)  # not the default, so that a change would show
    with pytest.raises(error):
        fastconv.set_num_threads(bad)
    assert fastconv.get_num_threads() == 1  # a rejected value changes nothing


@pytest.mark.parametrize("bad", [0, -1, -(2**100), np.int64(0), np.int8(-3)], ids=repr)
def test_zero_and_negatives_are_value_errors(bad, restore_threads):
    _rejected(bad, ValueError)


@pytest.mark.parametrize(
    "bad", [True, False, np.bool_(True), 1.5, 2.0, np.float64(2.0), "2", None, [2], (2,)], ids=repr
)
def test_other_types_are_type_errors(bad, restore_threads):
    _rejected(bad, TypeError)


# A conv2d far above the serial cut-off, checked against the reference.
CONV = """
import os
import numpy as np
import fastconv
from fastconv import reference
from tolerance import assert_close

cpus = len(os.sched_getaffinity(0))
x = np.random.default_rng(0).standard_normal((4, 32, 32, 32)).astype(np.float32)
w = np.random.default_rng(1).standard_normal((3, 3, 32, 32)).astype(np.float32)

def conv_works():
    assert_close(fastconv.conv2d(x, w, 1, "SAME"), reference.conv2d(x, w, 1, "SAME"),
                 9 * 32, np.float32)
"""


def test_omp_num_threads_beyond_the_cpus():
    run_python(
        CONV
        + """
n = fastconv.get_num_threads()
assert 1 <= n <= cpus, f"OMP_NUM_THREADS=10000 gives get_num_threads() = {n}, cpus = {cpus}"
conv_works()
""",
        env={"OMP_NUM_THREADS": "10000"},
        timeout=30,
    )


def test_cpus_means_the_affinity_mask_not_the_machine():
    """Pinned to one CPU (before fastconv loads), a process gets one thread whatever it asks."""
    run_python(
        """
import os
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
"""
        + CONV
        + """
assert cpus == 1
for n in (2, 10_000):
    fastconv.set_num_threads(n)
    assert fastconv.get_num_threads() == 1, (n, fastconv.get_num_threads())
    conv_works()
""",
        env={"OMP_NUM_THREADS": None},
        timeout=30,
    )
