"""The few-output-channel direct kernel (csrc/conv/fewout_tmpl.h): many input channels into
1-4 output channels, the shape of a first layer's input gradient. Checked against the
reference on every ISA, around its 64-byte channel groups (tails), at the row edges and
with stride, dilation, padding, bias and activation; AVX2 and AVX-512 sum in one order."""

from __future__ import annotations

import numpy as np
import pytest

import fastconv
from fastconv import reference
from _cases import covering
from tolerance import assert_close

CASES = covering(
    24,
    seed=41,
    channels=[16, 17, 31, 32, 33, 64, 70],  # around float32's group of 16 (float64: 8)
    out=[1, 2, 3, 4],
    kernel=[(1, 1), (3, 3), (5, 5), (7, 4)],
    stride=[(1, 1), (2, 2), (1, 3)],
    dilation=[(1, 1), (2, 2)],
    padding=["SAME", "VALID", [[3, 0], [1, 4]]],
    width=[5, 13, 30],  # fewer pixels than one register block, and several blocks
    activation=[None, "relu", "tanh"],
    dtype=["float32", "float64"],
)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_fewout_matches_reference(rng, isa, case):
    (kh, kw), (dh, dw) = case["kernel"], case["dilation"]
    h = max(9, (kh - 1) * dh + 1)
    w = max(case["width"], (kw - 1) * dw + 1)
    x = rng.standard_normal((2, h, w, case["channels"])).astype(case["dtype"])
    f = rng.standard_normal((kh, kw, case["channels"], case["out"])).astype(case["dtype"])
    b = rng.standard_normal(case["out"]).astype(case["dtype"])
    args = (x, f, case["stride"], case["padding"], "NHWC", case["dilation"])
    assert fastconv.conv2d_algorithm(*args) == "direct"
    got = fastconv.conv2d(*args, bias=b, activation=case["activation"])
    expected = reference.conv2d(*args, bias=b, activation=case["activation"])
    assert_close(got, expected, kh * kw * case["channels"], x.dtype, str(case))


def test_avx2_and_avx512_sum_in_one_order(rng):
    """The partial sums are 64 bytes wide on every vector ISA: bit-identical results."""
    names = fastconv._core.isa_names()
    if "avx512" not in names:
        pytest.skip("this CPU has no AVX-512 to compare AVX2 with")
    x = rng.standard_normal((2, 20, 21, 37)).astype(np.float32)
    f = rng.standard_normal((3, 3, 37, 3)).astype(np.float32)
    before, results = fastconv._core.get_isa(), []
    try:
        for name in ("avx2", "avx512"):
            fastconv._core.set_isa(name)
            results.append(fastconv.conv2d(x, f, 1, "SAME"))
    finally:
        fastconv._core.set_isa(before)
    np.testing.assert_array_equal(*results)
