"""The non-finite contract (docs/non-finite.md), for every conv2d algorithm, every ISA this
CPU has, float32 and float64, depthwise_conv2d and both pools, against the reference:
padding contributes nothing, Inf and NaN propagate by IEEE arithmetic over the real taps,
and Winograd never manufactures NaN (nor overflows where the direct sum does not).

The data is built so that the exact result does not depend on the order of the sums: a
poisoned cell is alone in every window (cells 4 apart, windows of 3), near-max values meet
weights of at most 1 in magnitude, and the dense near-max inputs meet positive weights that
sum to less than 1 (no partial sum exceeds the result). So every correct algorithm must
put the same Inf, -Inf and NaN at the same places, and agree elsewhere within rounding."""

from __future__ import annotations

import numpy as np
import pytest

import fastconv
from fastconv import reference
from fastconv.testing import assert_allclose, reduction_length

PADDINGS = {"SAME": "SAME", "VALID": "VALID", "explicit": [[1, 2], [2, 1]]}
DTYPES = [np.float32, np.float64]
# (channels in, channels out, groups): one shape per kernel that conv2d may run -- the image
# filter (1 -> 1), the few-channel first-layer kernel (3 -> 32), the depthwise kernel
# (8 groups of 1), the generic direct kernel (2 groups), the GEMM and Winograd (32 -> 32).
SHAPES = {
    "filter": (1, 1, 1),
    "fewch": (3, 32, 1),
    "depthwise": (8, 8, 8),
    "generic": (8, 8, 2),
    "gemm": (32, 32, 1),
}
POISONS = [
    "input_inf",
    "input_-inf",
    "input_nan",
    "input_max/2",
    "input_max/4",
    "input_max/8",
    "dense_max/2",
    "dense_max/4",
    "dense_max/8",
    "filter_inf",
    "filter_nan",
    "filter_max/2",
]


def _huge(dtype, word: str) -> float:
    return float(np.finfo(dtype).max) / int(word.split("/")[1])


def _sparse_cells(shape):
    """(n, y, x, c) cells 4 apart in y and x, so that no 3x3 window (and no 4x4 Winograd
    tile) holds two of them, each in another channel."""
    n, h, w, c = shape
    return [
        (i % n, y, x, i % c)
        for i, (y, x) in enumerate((y, x) for y in range(1, h, 4) for x in range(0, w, 4))
    ]


def make_case(poison: str, dtype, shape, filter_shape, rng):
    """Input (NHWC) and HWIO filter carrying `poison`."""
    x = rng.uniform(-1, 1, shape)
    f = rng.uniform(-1, 1, filter_shape)
    f[np.abs(f) < 0.1] = 0.5  # no weight near 0: Inf * w stays Inf, never NaN
    where, what = poison.split("_")
    value = {"inf": np.inf, "-inf": -np.inf, "nan": np.nan}.get(what)
    if value is None:
        value = _huge(dtype, what)
    if where == "input":
        for cell in _sparse_cells(shape):
            x[cell] = value
    elif where == "dense":  # every input near `value`, positive weights summing below 1
        x = rng.uniform(0.5, 1.0, shape) * value
        f = rng.uniform(0.5, 1.0, filter_shape) / np.prod(filter_shape[:3])
    else:  # one tap of the first and of the last output channel, in the filter's corner
        f[0, 0, 0, 0] = value
        f[2, 2, -1, -1] = -value if what == "inf" else value
    return x.astype(dtype), f.astype(dtype)


def check(got, want, reduction, dtype, what):
    assert got.shape == want.shape, what
    assert_allclose(got, want, reduction=reduction, dtype=dtype, err_msg=what)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("padding", list(PADDINGS))
@pytest.mark.parametrize("poison", POISONS)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_conv2d_every_algorithm_and_isa(shape, poison, padding, dtype):
    c_in, c_out, groups = SHAPES[shape]
    rng = np.random.default_rng(len(poison) * 7 + len(shape))
    x, f = make_case(poison, dtype, (2, 9, 10, c_in), (3, 3, c_in // groups, c_out), rng)
    want = reference.conv2d(x, f, 1, PADDINGS[padding])
    reduction = reduction_length("conv2d", f)
    winograd = groups == 1
    before = fastconv._core.get_isa()
    try:
        for isa in fastconv._core.isa_names():
            fastconv._core.set_isa(isa)
            for algorithm in ["auto", "direct", "im2col"] + ["winograd"] * winograd:
                got = fastconv.conv2d(x, f, 1, PADDINGS[padding], algorithm=algorithm)
                check(got, want, reduction, dtype, f"{isa} {algorithm}")
    finally:
        fastconv._core.set_isa(before)


@pytest.mark.parametrize("padding", list(PADDINGS))
@pytest.mark.parametrize("poison", POISONS)
def test_im2col_tasks_packing_their_own_weights(poison, padding):
    """At most 96 output pixels: the GEMM's tasks pack their own weights (and report a
    non-finite one themselves), on every ISA; several channel blocks and panels."""
    rng = np.random.default_rng(len(poison))
    x, f = make_case(poison, np.float32, (1, 6, 7, 300), (3, 3, 300, 130), rng)
    want = reference.conv2d(x, f, 1, PADDINGS[padding])
    before = fastconv._core.get_isa()
    try:
        for isa in fastconv._core.isa_names():
            fastconv._core.set_isa(isa)
            got = fastconv.conv2d(x, f, 1, PADDINGS[padding], algorithm="im2col")
            check(got, want, 9 * 300, np.float32, isa)
    finally:
        fastconv._core.set_isa(before)


@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
@pytest.mark.parametrize("algorithm", ["im2col", "winograd"])
def test_reroute_with_layout_copies_bias_and_activation(algorithm, layout, rng):
    """A re-run call (the input copied to NHWC once, the output copied back) still fuses the
    bias and activation, and an Inf that relu6 would clip is still seen."""
    x, f = make_case("input_inf", np.float32, (2, 9, 10, 32), (3, 3, 32, 32), rng)
    b = rng.standard_normal(32).astype(np.float32)
    xin = x if layout == "NHWC" else x.transpose(0, 3, 1, 2).copy()
    for activation in [None, "relu6", "sigmoid"]:
        got = fastconv.conv2d(
            xin, f, 1, "SAME", layout, bias=b, activation=activation, algorithm=algorithm
        )
        want = reference.conv2d(xin, f, 1, "SAME", layout, bias=b, activation=activation)
        check(got, want, 9 * 32 + 1, np.float32, f"{algorithm} {layout} {activation}")


def test_inputs_are_not_modified_and_results_repeat(rng):
    x, f = make_case("filter_nan", np.float32, (2, 9, 10, 32), (3, 3, 32, 32), rng)
    x0, f0 = x.copy(), f.copy()
    first = fastconv.conv2d(x, f, 1, "SAME", algorithm="winograd")
    again = fastconv.conv2d(x, f, 1, "SAME", algorithm="winograd")
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(f, f0)


def test_results_identical_for_any_thread_count(rng, restore_threads):
    """Whether a call is re-run depends on the data only: 1 and 2 threads agree bit for bit."""
    x, f = make_case("input_inf", np.float32, (4, 24, 24, 32), (3, 3, 32, 32), rng)
    results = []
    for threads in (1, 2):
        fastconv.set_num_threads(threads)
        results.append(
            [fastconv.conv2d(x, f, 1, "SAME", algorithm=a) for a in ("winograd", "im2col")]
        )
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


def test_auto_does_not_flip_with_problem_size(rng):
    """An Inf filter tap over SAME padding: whatever algorithm auto picks at each size (the
    sizes straddle its thresholds: tiny problems, few tiles, Winograd-sized images), the
    border pixels where the tap lies on padding stay finite, as the reference says."""
    picked = set()
    for size in (3, 4, 6, 8, 12, 16, 24):
        for c in (4, 8, 16, 32):  # 8 channels at 24x24: the GEMM (576 pixels, no Winograd)
            x = rng.uniform(-1, 1, (1, size, size, c)).astype(np.float32)
            f = rng.uniform(0.5, 1, (3, 3, c, c)).astype(np.float32)
            f[0, 0, 0, 0] = np.inf
            picked.add(fastconv.conv2d_algorithm(x, f, 1, "SAME"))
            got = fastconv.conv2d(x, f, 1, "SAME")
            want = reference.conv2d(x, f, 1, "SAME")
            assert np.isfinite(got[0, 0, :, 0]).all() and np.isfinite(got[0, :, 0, 0]).all()
            check(got, want, 9 * c, np.float32, f"size {size}, {c} channels")
    assert picked == {"direct", "im2col", "winograd"}, picked


DEPTHWISE_POISONS = [p for p in POISONS if not p.startswith("dense")]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("padding", list(PADDINGS))
@pytest.mark.parametrize("poison", DEPTHWISE_POISONS)
def test_depthwise_every_isa(poison, padding, dtype, rng):
    x, f = make_case(poison, dtype, (2, 9, 10, 5), (3, 3, 5, 2), rng)
    want = reference.depthwise_conv2d(x, f, 1, PADDINGS[padding])
    before = fastconv._core.get_isa()
    try:
        for isa in fastconv._core.isa_names():
            fastconv._core.set_isa(isa)
            got = fastconv.depthwise_conv2d(x, f, 1, PADDINGS[padding])
            check(got, want, 9, dtype, isa)
    finally:
        fastconv._core.set_isa(before)


# The pools: only the input can be poisoned. A dense near-max average is left out: its sum
# exceeds the dtype's range, which the float64 reference does not (docs/non-finite.md).
POOL_POISONS = [p for p in POISONS if p.startswith("input")]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("padding", ["SAME", "VALID", [[1, 2], [2, 1]]])
@pytest.mark.parametrize("poison", POOL_POISONS)
@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
def test_pools_every_isa(op, poison, padding, dtype, rng):
    x, _ = make_case(poison, dtype, (2, 9, 10, 17), (3, 3, 17, 1), rng)
    want = getattr(reference, op)(x, 3, (1, 2), padding)
    before = fastconv._core.get_isa()
    try:
        for isa in fastconv._core.isa_names():
            fastconv._core.set_isa(isa)
            got = getattr(fastconv, op)(x, 3, (1, 2), padding)
            check(got, want, reduction_length(op, ksize=3), dtype, isa)
    finally:
        fastconv._core.set_isa(before)


@pytest.mark.parametrize("channels", [1, 16])
def test_reference_skips_padding_taps_as_tf_does(channels, tf_nn):
    """An Inf filter tap over SAME padding gives a finite border, as tf.nn.conv2d does, not
    0 * Inf = NaN."""
    x = np.ones((1, 4, 4, channels), np.float32)
    f = np.ones((3, 3, channels, 1), np.float32)
    f[0, 0, 0, 0] = np.inf
    want = tf_nn.conv2d(x, f, 1, "SAME").numpy()
    got = reference.conv2d(x, f, 1, "SAME")
    assert np.isfinite(got[0, 0]).all() and np.isfinite(got[0, :, 0]).all()
    np.testing.assert_array_equal(got, want)
