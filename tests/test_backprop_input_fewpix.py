"""The input gradient's few-pixel path (stride 1, one group, at most 128 input pixels and
16 channels each way: csrc/operators/conv2d_backprop_input_fewpix_tmpl.h), which reads the
filter in place instead of copying it flipped: against the reference on padding, dilation,
batches, NCHW, partial pixel panels and several channel blocks, on every ISA and dtype,
and bit-identical for any thread count."""

from __future__ import annotations

import numpy as np
import pytest

import fastconv
from fastconv import reference
from tolerance import assert_close

# (input_sizes NHWC, filter HWIO, padding, dilations): 7x7 and 1-pixel images, a batch
# whose pixels span two panels, explicit and asymmetric padding, dilation, a 5x2 window,
# and 130 out_backprop channels (two channel blocks of a 3x3 window's B panel).
CASES = [
    ((1, 7, 7, 32), (3, 3, 32, 48), "SAME", 1),
    ((2, 8, 8, 20), (3, 3, 20, 130), "SAME", 1),
    ((3, 5, 6, 17), (5, 2, 17, 16), [[2, 1], [0, 3]], 1),
    ((1, 9, 11, 24), (3, 3, 24, 16), "VALID", 2),
    ((4, 1, 1, 16), (1, 1, 16, 40), "VALID", 1),
    ((2, 6, 5, 18), (4, 4, 18, 33), "SAME", (2, 1)),
]


def _problem(rng, sizes, window, padding, dilations, dtype):
    f = rng.standard_normal(window).astype(dtype)
    y = reference.conv2d(np.zeros(sizes), f, 1, padding, dilations=dilations)
    dy = rng.standard_normal(y.shape).astype(dtype)
    return f, dy


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_matches_reference(rng, case, dtype):
    sizes, window, padding, dil = case
    f, dy = _problem(rng, sizes, window, padding, dil, dtype)
    got = fastconv.conv2d_backprop_input(sizes, f, dy, 1, padding, dilations=dil)
    want = reference.conv2d_backprop_input(
        sizes, f.astype(np.float64), dy.astype(np.float64), 1, padding, dilations=dil
    )
    assert_close(got, want, window[0] * window[1] * window[3], dtype, str(case))


def test_nchw(rng):
    sizes, window = (2, 7, 6, 24), (3, 3, 24, 32)
    f, dy = _problem(rng, sizes, window, "SAME", 1, np.float32)
    nchw = (sizes[0], sizes[3], sizes[1], sizes[2])
    got = fastconv.conv2d_backprop_input(
        nchw, f, np.ascontiguousarray(dy.transpose(0, 3, 1, 2)), 1, "SAME", data_format="NCHW"
    )
    want = reference.conv2d_backprop_input(sizes, f, dy, 1, "SAME")
    assert_close(got, want.transpose(0, 3, 1, 2), 9 * 32, np.float32)


def test_every_isa(rng, isa):
    for sizes, window, padding, dil in CASES[:3]:
        f, dy = _problem(rng, sizes, window, padding, dil, np.float32)
        assert_close(
            fastconv.conv2d_backprop_input(sizes, f, dy, 1, padding, dilations=dil),
            reference.conv2d_backprop_input(sizes, f, dy, 1, padding, dilations=dil),
            window[0] * window[1] * window[3],
            np.float32,
            isa,
        )


def test_bit_identical_for_any_thread_count(rng, restore_threads):
    """Large enough to run on several threads (each owns a block of input channels)."""
    sizes, window = (1, 7, 7, 200), (3, 3, 200, 260)
    f, dy = _problem(rng, sizes, window, "SAME", 1, np.float32)
    results = []
    for threads in (1, 2, 3):
        fastconv.set_num_threads(threads)
        results.append(fastconv.conv2d_backprop_input(sizes, f, dy, 1, "SAME"))
    for other in results[1:]:
        np.testing.assert_array_equal(results[0], other)
