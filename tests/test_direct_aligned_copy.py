"""The direct kernels' aligned copy of filters that do not start on a cache line
(csrc/operators/conv2d_tmpl.h, direct_plan: the register-blocked and five-vector 1x1
kernels, in 256 KiB copy tasks, on CPUs where it pays: runtime/cpu.c, fc_align_filters):
the same bits as the call on 64-byte-aligned filters (read in place), for filters within
half of L2, larger ones over many pixels (copied) and over few (read in place), each offset
a vector load can be off by; and the reference's values. The CPU's rule in this process,
and both choices forced (FASTCONV_ALIGNED_FILTERS) in child processes on 1 and 2 threads."""

import numpy as np
import pytest

import fastconv
from fastconv import reference

from kernel_checks import at_offset
from run_script import run_python
from tolerance import assert_close

CASES = [
    ((1, 6, 7, 1200), (1, 1, 400, 240), "VALID"),  # 1x1, 3 groups of 80: 2 copy tasks
    ((1, 27, 27, 96), (5, 5, 48, 256), "SAME"),  # alexnet-c2-g2: 1.2 MB, 729 pixels
    ((1, 2, 2, 512), (3, 3, 512, 512), "SAME"),  # 9.4 MB over 4 pixels: read in place
]


@pytest.mark.parametrize("x_shape,w_shape,padding", CASES)
@pytest.mark.parametrize("offset", [16, 32, 48])
def test_same_bits_as_aligned_filters(x_shape, w_shape, padding, offset, rng):
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    run = lambda f: fastconv.conv2d(x, f, 1, padding, algorithm="direct")
    want = run(at_offset(w, 0))
    np.testing.assert_array_equal(run(at_offset(w, offset)), want)
    if offset == 16:
        taps = w_shape[0] * w_shape[1] * w_shape[2]
        assert_close(want, reference.conv2d(x, w, 1, padding), taps, np.float32)


@pytest.mark.parametrize("aligned", ["0", "1"])
def test_copy_forced_either_way(aligned):
    """FASTCONV_ALIGNED_FILTERS=1 copies misaligned filters on any CPU, 0 never: the same
    bits as aligned filters read in place, on 1 and 2 threads."""
    script = f"""
import numpy as np, fastconv
from kernel_checks import at_offset
rng = np.random.default_rng(3)
for x_shape, w_shape, padding in {CASES!r}:
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    for threads in (1, 2):
        fastconv.set_num_threads(threads)
        run = lambda f: fastconv.conv2d(x, f, 1, padding, algorithm="direct")
        want = run(at_offset(w, 0))
        for offset in (16, 48):
            np.testing.assert_array_equal(run(at_offset(w, offset)), want)
print("ok")
"""
    done = run_python(script, timeout=120, env={"FASTCONV_ALIGNED_FILTERS": aligned})
    assert done.stdout.strip().endswith("ok")
