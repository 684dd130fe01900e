"""The direct kernels' aligned copy of filters that do not start on a cache line
(csrc/operators/conv2d_tmpl.h, direct_plan: the register-blocked and five-vector 1x1
kernels, in 256 KiB copy tasks): the same bits as the call on 64-byte-aligned filters (read
in place), for filters within half of L2, larger ones over many pixels (copied) and over
few (read in place), each offset a vector load can be off by; and the reference's values."""

import numpy as np
import pytest

import fastconv
from fastconv import reference

from kernel_checks import at_offset
from tolerance import assert_close


@pytest.mark.parametrize(
    "x_shape,w_shape,padding",
    [
        ((1, 6, 7, 1200), (1, 1, 400, 240), "VALID"),  # 1x1, 3 groups of 80: 2 copy tasks
        ((1, 27, 27, 96), (5, 5, 48, 256), "SAME"),  # alexnet-c2-g2: 1.2 MB, 729 pixels
        ((1, 2, 2, 512), (3, 3, 512, 512), "SAME"),  # 9.4 MB over 4 pixels: read in place
    ],
)
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
