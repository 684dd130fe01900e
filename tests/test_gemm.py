"""The GEMM engine behind algorithm="im2col", for every ISA variant this CPU has.

Sizes sweep around the micro-tile (MR-1, MR, MR+1, 2*MR+1, a prime) and the channel
blocks that keep a weight panel in L2; 1x1 stride-1 convolutions are exactly a GEMM.
"""

import numpy as np
import pytest

import fastconv
from fastconv import _core, reference

from tolerance import assert_close

ISAS = _core.isa_names()
DTYPES = [np.float32, np.float64]


def _sizes_around(tile):
    return sorted({max(1, tile - 1), tile, tile + 1, 2 * tile + 1, 13})


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_sizes_around_tile(isa, dtype, rng):
    """1x1 convolutions = GEMM: M around MR, N around NR, K long and short."""
    blocking = _core.gemm_blocking(np.dtype(dtype).name)
    mr, nr = blocking["MR"], blocking["NR"]
    for m in _sizes_around(mr):
        for n in _sizes_around(nr):
            for k in (1, 7, 300):
                x = rng.standard_normal((1, 1, m, k)).astype(dtype)
                w = rng.standard_normal((1, 1, k, n)).astype(dtype)
                got = fastconv.conv2d(x, w, algorithm="im2col")
                expected = x.reshape(m, k).astype(np.float64) @ w.reshape(k, n)
                assert_close(got.reshape(m, n), expected, k, dtype, f"{isa} m={m} n={n} k={k}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_pixel_blocks_and_batch(isa, dtype, rng):
    """M spans several pixel blocks (96) and images; the last block is partial."""
    x = rng.standard_normal((3, 11, 13, 24)).astype(dtype)
    w = rng.standard_normal((3, 3, 24, 70)).astype(dtype)
    got = fastconv.conv2d(x, w, 1, "SAME", algorithm="im2col")
    assert_close(got, reference.conv2d(x, w, 1, "SAME"), 9 * 24, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_channel_blocks(isa, dtype, rng):
    """Enough input channels that K is cut into several channel blocks (weight panels are
    kept near 256 KiB), with an uneven last block."""
    x = rng.standard_normal((1, 5, 6, 301)).astype(dtype)
    w = rng.standard_normal((3, 3, 301, 20)).astype(dtype)
    got = fastconv.conv2d(x, w, 1, [[1, 0], [2, 1]], algorithm="im2col")
    assert_close(got, reference.conv2d(x, w, 1, [[1, 0], [2, 1]]), 9 * 301, dtype)


@pytest.mark.parametrize("padding", ["SAME", "VALID", [[2, 0], [1, 3]]])
@pytest.mark.parametrize("strides,dilations", [(1, 1), (2, 1), (1, 2), (3, 2), ((2, 1), (1, 3))])
def test_padding_stride_dilation(isa, padding, strides, dilations, rng):
    x = rng.standard_normal((2, 9, 10, 5)).astype(np.float32)
    w = rng.standard_normal((3, 2, 5, 17)).astype(np.float32)
    got = fastconv.conv2d(x, w, strides, padding, "NHWC", dilations, algorithm="im2col")
    expected = reference.conv2d(x, w, strides, padding, "NHWC", dilations)
    assert_close(got, expected, 6 * 5, np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", [None, "relu", "relu6", "sigmoid", "tanh"])
def test_fused_epilogue(isa, dtype, activation, rng):
    """bias + activation fused after the last channel block, on full and edge tiles.

    The pre-activation is checked against the reference; the activation against the
    reference's activation of that pre-activation (sigmoid and tanh compress values, so
    their error is relative to the pre-activation's scale, not the output's)."""
    x = rng.standard_normal((1, 7, 9, 12)).astype(dtype)
    w = rng.standard_normal((3, 3, 12, 67)).astype(dtype)
    b = rng.standard_normal(67).astype(dtype)
    pre = fastconv.conv2d(x, w, 1, "SAME", bias=b, algorithm="im2col")
    assert_close(pre, reference.conv2d(x, w, 1, "SAME", bias=b), 9 * 12 + 1, dtype)
    got = fastconv.conv2d(x, w, 1, "SAME", bias=b, activation=activation, algorithm="im2col")
    identity = np.ones((1, 1, 1, 67), dtype)  # 1x1, one channel per group: y = x
    expected = reference.conv2d(pre.reshape(-1, 1, 1, 67), identity, activation=activation)
    assert_close(got, expected.reshape(got.shape), 1, dtype)


def test_groups_and_nchw(isa, rng):
    x = rng.standard_normal((2, 6, 7, 9)).astype(np.float32)  # NCHW, 6 channels
    w = rng.standard_normal((3, 3, 2, 12)).astype(np.float32)  # 3 groups of 2 -> 4
    got = fastconv.conv2d(x, w, 1, "SAME", "NCHW", algorithm="im2col")
    assert_close(got, reference.conv2d(x, w, 1, "SAME", "NCHW"), 18, np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "strides,padding",
    [(1, "VALID"), (1, "SAME"), (1, [[1, 0], [0, 2]]), (2, "VALID"), ((1, 2), "VALID")],
)
def test_pointwise_rows_in_place(isa, dtype, strides, padding, restore_threads, rng):
    """1x1 windows: at stride 1 without padding each output pixel reads its own input
    pixel (a shortcut past the indirection walk), over a batch, 3 groups and pixel blocks
    of 96 with a partial last one; padding and strides take the walk. Also a channel slice
    (rows 19 values apart, not dense) and 2 threads: the same bits as 1."""
    x = rng.standard_normal((3, 9, 11, 19)).astype(dtype)
    w = rng.standard_normal((1, 1, 6, 21)).astype(dtype)  # 3 groups of 6 -> 7
    for xin in (x[..., :18], np.ascontiguousarray(x[..., :18])):
        fastconv.set_num_threads(1)
        got = fastconv.conv2d(xin, w, strides, padding, algorithm="im2col")
        assert_close(got, reference.conv2d(xin, w, strides, padding), 6, dtype)
        fastconv.set_num_threads(2)
        assert np.array_equal(fastconv.conv2d(xin, w, strides, padding, algorithm="im2col"), got)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hw", [(7, 7), (5, 10), (1, 4), (3, 5)])
def test_edge_tiles_of_one_or_two_rows(isa, dtype, hw, restore_threads, rng):
    """A last tile of 1 or 2 rows runs a row at a time (49 = 8 x 6 + 1, 50 = 8 x 6 + 2,
    4 and 15 rows on AVX-512's 6): 3x3 taps, several channel blocks accumulated, a
    partial last panel, bias and relu; 1 and 2 threads the same bits."""
    x = rng.standard_normal((1, *hw, 301)).astype(dtype)
    w = rng.standard_normal((3, 3, 301, 70)).astype(dtype)
    b = rng.standard_normal(70).astype(dtype)
    fastconv.set_num_threads(1)
    got = fastconv.conv2d(x, w, 1, "SAME", bias=b, activation="relu", algorithm="im2col")
    expected = reference.conv2d(x, w, 1, "SAME", bias=b, activation="relu")
    assert_close(got, expected, 9 * 301 + 1, dtype)
    fastconv.set_num_threads(2)
    two = fastconv.conv2d(x, w, 1, "SAME", bias=b, activation="relu", algorithm="im2col")
    assert np.array_equal(two, got)


def test_isa_choice_is_visible_and_validated():
    assert _core.get_isa() in ISAS
    with pytest.raises(ValueError, match="ISA"):
        _core.set_isa("sse9")


@pytest.mark.parametrize("algorithm", ["direct", "im2col"])
def test_bit_identical_across_threads_large(algorithm, restore_threads, rng):
    """Several pixel blocks and channel panels split over threads: same bits."""
    x = rng.standard_normal((2, 20, 20, 40)).astype(np.float32)
    w = rng.standard_normal((3, 3, 40, 130)).astype(np.float32)
    fastconv.set_num_threads(1)
    one = fastconv.conv2d(x, w, 1, "SAME", algorithm=algorithm)
    fastconv.set_num_threads(2)
    two = fastconv.conv2d(x, w, 1, "SAME", algorithm=algorithm)
    assert np.array_equal(one, two)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tasks_packing_their_own_weights(isa, dtype, restore_threads, rng):
    """One block of pixels (at most 96): each task packs its own share of the weights, block
    by block, instead of all of them first. Several channel blocks, a partial last panel,
    bias and activation; the same bits as weights packed before the call (Conv2D), and for
    1 and 2 threads (which split the panels differently)."""
    x = rng.standard_normal((1, 7, 9, 301)).astype(dtype)
    w = rng.standard_normal((3, 3, 301, 150)).astype(dtype)
    b = rng.standard_normal(150).astype(dtype)
    args = (1, [[1, 0], [2, 1]])
    fastconv.set_num_threads(1)
    one = fastconv.conv2d(x, w, *args, bias=b, activation="relu", algorithm="im2col")
    expected = reference.conv2d(x, w, *args, bias=b, activation="relu")
    assert_close(one, expected, 9 * 301 + 1, dtype)
    layer = fastconv.Conv2D(w, *args, bias=b, activation="relu", algorithm="im2col")
    assert np.array_equal(layer(x), one)
    fastconv.set_num_threads(2)
    assert np.array_equal(
        fastconv.conv2d(x, w, *args, bias=b, activation="relu", algorithm="im2col"), one
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hw", [(6, 6), (7, 13), (2, 12)])
def test_padding_taps_skipped_per_panel(isa, dtype, hw, restore_threads, rng):
    """A row panel skips the taps at either end whose rows all fall in the padding (the
    window rows above and below the image): the same bits as multiplying them, which the
    same call on the zero-padded input with VALID padding does (its zeros are real input
    rows, never skipped). Rows of 6, 7, 13 and 12 pixels put whole panels inside the top
    and bottom rows on every ISA's MR or let them straddle two; 4 padding rows above make
    output rows whose every tap is padding (the result is the bias); several channel blocks
    are accumulated; 1 and 2 threads."""
    x = rng.standard_normal((2, *hw, 301)).astype(dtype)
    w = rng.standard_normal((3, 5, 301, 70)).astype(dtype)
    b = rng.standard_normal(70).astype(dtype)
    pads = [[4, 1], [2, 2]]
    padded = np.pad(x, [(0, 0), *pads, (0, 0)])
    fastconv.set_num_threads(1)
    got = fastconv.conv2d(x, w, 1, pads, bias=b, activation="relu", algorithm="im2col")
    expected = reference.conv2d(x, w, 1, pads, bias=b, activation="relu")
    assert_close(got, expected, 15 * 301 + 1, dtype)
    assert np.array_equal(got[:, :2], np.broadcast_to(np.maximum(b, 0), got[:, :2].shape))
    every_tap = fastconv.conv2d(
        padded, w, 1, "VALID", bias=b, activation="relu", algorithm="im2col"
    )
    assert np.array_equal(got, every_tap)
    fastconv.set_num_threads(2)
    assert np.array_equal(
        fastconv.conv2d(x, w, 1, pads, bias=b, activation="relu", algorithm="im2col"), got
    )


EDGE_COLUMN_CASES = [
    # input, filter, strides, dilations, pads, activation
    ((2, 12, 9, 301), (3, 5, 301, 70), 1, 1, [[2, 2], [2, 2]], "relu"),  # channel blocks
    ((1, 15, 30, 96), (5, 5, 48, 140), 1, 1, [[2, 2], [2, 2]], "sigmoid"),  # 2 groups
    ((2, 20, 11, 40), (3, 3, 40, 70), (2, 1), (1, 2), [[1, 3], [4, 0]], None),
    ((1, 14, 12, 20), (5, 5, 20, 64), 1, 1, [[2, 2], [5, 5]], None),  # 10 edge columns
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", EDGE_COLUMN_CASES, ids=range(len(EDGE_COLUMN_CASES)))
def test_edge_columns_skip_their_padding_taps(isa, dtype, case, restore_threads, rng):
    """Where at least MR rows have every vertical tap inside the image, the GEMM visits each
    edge column on its own, down the column (conv/pixel_order.h), so that a tile's pixels
    share their left or right padding taps and skip them. The same bits as the call on the
    zero-padded input with VALID padding (nothing skipped, row-major order), several
    channel blocks accumulated through tiles whose rows are not equally spaced, groups,
    strides and dilation, an activation applied after the store; more edge columns than the
    order splits (row-major then); 1 and 2 threads."""
    shape, wshape, strides, dilations, pads, activation = case
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(wshape).astype(dtype)
    b = rng.standard_normal(wshape[3]).astype(dtype)
    args = dict(dilations=dilations, bias=b, activation=activation, algorithm="im2col")
    padded = np.pad(x, [(0, 0), *pads, (0, 0)])
    fastconv.set_num_threads(1)
    got = fastconv.conv2d(x, w, strides, pads, **args)
    expected = reference.conv2d(
        x, w, strides, pads, dilations=dilations, bias=b, activation=activation
    )
    assert_close(got, expected, wshape[0] * wshape[1] * wshape[2] + 1, dtype)
    assert np.array_equal(got, fastconv.conv2d(padded, w, strides, "VALID", **args))
    fastconv.set_num_threads(2)
    assert np.array_equal(fastconv.conv2d(x, w, strides, pads, **args), got)
