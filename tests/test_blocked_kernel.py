"""The register-blocked direct kernel (each group's output channels a multiple of the
vector width; any input channels, window, stride, dilation, padding) per ISA variant:
widths and heights around its 6-pixel register block (interior runs of a row, edge columns
blocked over rows), input channels around the vector widths, output channels around its 1-4
vector blocks, groups, windows, strides, dilations, paddings, float64, the epilogue, NCHW,
and the bits for any thread count. algorithm="direct" runs it where it applies (the generic
kernel elsewhere); "auto" too, for 1-4 input channels."""

import numpy as np
import pytest

import fastconv
from fastconv import reference

from kernel_checks import assert_auto_runs, assert_same_bits_for_any_thread_count, at_offset
from tolerance import assert_close


def _randn(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("width", [1, 5, 6, 7, 12, 13, 19])
@pytest.mark.parametrize("c_in", [1, 2, 3, 4])
@pytest.mark.parametrize("c_out", [4, 8, 16, 32, 48, 64, 80, 128, 12])
def test_widths_and_channels(isa, width, c_in, c_out, rng):
    x, w = _randn(rng, (2, 5, width, c_in)), _randn(rng, (3, 3, c_in, c_out))
    got = fastconv.conv2d(x, w, 1, "SAME", algorithm="direct")
    assert_close(got, reference.conv2d(x, w, 1, "SAME"), 9 * c_in, np.float32)


@pytest.mark.parametrize("width", [8, 9, 10, 11, 24, 25, 35])
@pytest.mark.parametrize("c_in", [1, 2])
@pytest.mark.parametrize("c_out", [16, 32, 48])
@pytest.mark.parametrize("strides,dilations", [(1, 1), (2, 1), (1, 2)])
def test_merged_taps_and_wide_blocks(isa, width, c_in, c_out, strides, dilations, rng):
    """1-2 input channels: a row's taps as one run of inputs (dilation 1), and on AVX-512 the
    12-pixel blocks of at most 2 vectors of output channels, every block size 7-12 among
    these widths (a row's interior split evenly), edges in the padding."""
    x, w = _randn(rng, (2, 7, width, c_in)), _randn(rng, (5, 5, c_in, c_out))
    run = lambda: fastconv.conv2d(x, w, strides, "SAME", "NHWC", dilations, algorithm="direct")
    want = reference.conv2d(x, w, strides, "SAME", "NHWC", dilations)
    assert_close(run(), want, 25 * c_in, np.float32)


@pytest.mark.parametrize("width", [7, 11, 12, 13, 14, 25])
@pytest.mark.parametrize("c_in,c_out", [(16, 16), (17, 32), (64, 32), (15, 16)])
@pytest.mark.parametrize(
    "strides,dilations,padding",
    [(1, 1, "SAME"), (2, 1, "SAME"), (1, 2, "SAME"), (1, 1, "VALID"), (1, 1, [[3, 0], [1, 4]])],
)
def test_unmerged_wide_blocks(isa, width, c_in, c_out, strides, dilations, padding, rng):
    """At least 16 input channels into at most 2 vectors of output channels: on AVX-512 the
    12-pixel blocks over taps that are not merged (block sizes 1-12 among these widths,
    corners and edge columns in the padding); 15 channels keep the 6-pixel block."""
    x, w = _randn(rng, (2, 9, width, c_in)), _randn(rng, (5, 5, c_in, c_out))
    got = fastconv.conv2d(x, w, strides, padding, "NHWC", dilations, algorithm="direct")
    want = reference.conv2d(x, w, strides, padding, "NHWC", dilations)
    assert_close(got, want, 25 * c_in, np.float32)


@pytest.mark.parametrize("groups,dtype", [(1, np.float64), (2, np.float32), (2, np.float64)])
def test_unmerged_wide_blocks_groups_and_float64(isa, groups, dtype, rng, restore_threads):
    """The wide block per group and in float64 (2 vectors of 8 lanes), the same bits for any
    thread count, as the input gradient of a LeNet-like layer runs it."""
    x = _randn(rng, (3, 14, 14, 32 * groups), dtype)
    w = _randn(rng, (5, 5, 32, 16 * groups), dtype)
    run = lambda: fastconv.conv2d(x, w, 1, "SAME", algorithm="direct")
    assert_same_bits_for_any_thread_count(run)
    assert_close(run(), reference.conv2d(x, w, 1, "SAME"), 25 * 32, dtype)


@pytest.mark.parametrize(
    "shape,window,padding",
    [
        ((3, 14, 14, 64), (5, 5, 64, 32), "SAME"),  # 4 window shapes, 4 corners each
        ((2, 6, 5, 48), (7, 7, 48, 64), [[3, 1], [2, 4]]),  # many shapes: groups flushed early
        ((2, 9, 9, 17), (7, 7, 17, 48), "SAME"),  # 3 vectors, one group per corner shape
        ((1, 2, 3, 16), (3, 3, 16, 16), "SAME"),  # every pixel alone
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_single_pixels_gathered(isa, shape, window, padding, dtype, rng, restore_threads):
    """Pixels no other pixel shares its taps with (corners), run several at a time per
    window shape: the reference's values with a bias and activation, and the same bits for
    any thread count (the threads' row splits change which pixels are alone)."""
    x, w = _randn(rng, shape, dtype), _randn(rng, window, dtype)
    b = _randn(rng, (window[3],), dtype)
    run = lambda: fastconv.conv2d(x, w, 1, padding, bias=b, activation="relu", algorithm="direct")
    assert_same_bits_for_any_thread_count(run)
    want = reference.conv2d(x, w, 1, padding, bias=b, activation="relu")
    assert_close(run(), want, window[0] * window[1] * window[2], dtype)


@pytest.mark.parametrize(
    "shape,window,data_format",
    [
        ((13, 14, 14, 32), (5, 5, 32, 64), "NHWC"),  # LeNet's second layer: blocks of 6 images
        ((13, 14, 14, 64), (5, 5, 64, 32), "NHWC"),  # its input gradient: the wide block
        ((6, 9, 7, 1), (5, 5, 1, 16), "NHWC"),  # merged taps
        # channel chunks (weights over half of L2 on every ISA): partial sums in the output
        ((5, 6, 5, 2400), (5, 5, 2400, 16), "NHWC"),
        ((40, 6, 6, 16), (3, 3, 16, 16), "NHWC"),  # image blocks on several threads too
        ((7, 5, 6, 24), (3, 3, 24, 32), "NCHW"),  # each image's rows into its planes
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_single_pixels_across_images(isa, shape, window, data_format, dtype, rng, restore_threads):
    """A task of 4 or more whole images runs each corner pixel as blocks across the images
    (which share its taps): the reference's values with a bias and activation, and the same
    bits for any thread count (where a task holds one image's rows, the corners run in
    groups of one window shape instead)."""
    x, w = _randn(rng, shape, dtype), _randn(rng, window, dtype)
    if data_format == "NCHW":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    b = _randn(rng, (window[3],), dtype)
    run = lambda: fastconv.conv2d(
        x, w, 1, "SAME", data_format, bias=b, activation="relu", algorithm="direct"
    )
    assert_same_bits_for_any_thread_count(run)
    want = reference.conv2d(x, w, 1, "SAME", data_format, bias=b, activation="relu")
    assert_close(run(), want, window[0] * window[1] * window[2], dtype)


def test_single_pixels_over_channel_chunks(isa, rng):
    """Input channels in several passes (a 5x5 window's weights for 2048 channels outgrow
    half of L2): the singles' partial sums wait in the output."""
    x, w = _randn(rng, (1, 5, 5, 2048)), _randn(rng, (5, 5, 2048, 16))
    got = fastconv.conv2d(x, w, 1, "SAME", algorithm="direct")
    assert_close(got, reference.conv2d(x, w, 1, "SAME"), 25 * 2048, np.float32)


@pytest.mark.parametrize("height", [1, 2, 5, 6, 7, 13])
@pytest.mark.parametrize("c_in", [5, 8, 15, 16, 17, 33, 64])
@pytest.mark.parametrize("k,padding", [(3, "SAME"), (5, "SAME"), (5, [[4, 1], [0, 3]])])
def test_heights_and_input_channels(isa, height, c_in, k, padding, rng):
    x, w = _randn(rng, (2, height, 9, c_in)), _randn(rng, (k, k, c_in, 32))
    got = fastconv.conv2d(x, w, 1, padding, algorithm="direct")
    assert_close(got, reference.conv2d(x, w, 1, padding), k * k * c_in, np.float32)


@pytest.mark.parametrize(
    "groups,c_per_group,out_per_group",
    [
        (2, 32, 32),
        (2, 3, 16),
        (3, 80, 80),
        (4, 8, 64),
        (8, 2, 16),
        (2, 5, 12),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_groups(isa, groups, c_per_group, out_per_group, dtype, rng):
    x = _randn(rng, (2, 9, 11, groups * c_per_group), dtype)
    w = _randn(rng, (3, 3, c_per_group, groups * out_per_group), dtype)
    got = fastconv.conv2d(x, w, (1, 2), "SAME", algorithm="direct")
    assert_close(got, reference.conv2d(x, w, (1, 2), "SAME"), 9 * c_per_group, dtype)


@pytest.mark.parametrize("k", [1, 3, 5, 7, 11])
@pytest.mark.parametrize("strides", [1, 2, 4, (3, 1)])
@pytest.mark.parametrize("dilations", [1, 2])
@pytest.mark.parametrize("padding", ["SAME", "VALID", [[3, 0], [1, 4]]])
def test_geometry(isa, k, strides, dilations, padding, rng):
    x, w = _randn(rng, (1, 31, 29, 3)), _randn(rng, (k, k, 3, 32))
    if padding == "VALID" and (k - 1) * dilations + 1 > 29:
        return  # the window does not fit: an error, tested elsewhere
    got = fastconv.conv2d(x, w, strides, padding, "NHWC", dilations, algorithm="direct")
    want = reference.conv2d(x, w, strides, padding, "NHWC", dilations)
    assert_close(got, want, k * k * 3, np.float32)


@pytest.mark.parametrize("c_in,groups", [(3, 1), (4, 1), (6, 2), (8, 2)])
@pytest.mark.parametrize("c_out", [16, 48, 80])
@pytest.mark.parametrize("strides", [1, 2, 4, (3, 1)])
@pytest.mark.parametrize("padding", ["SAME", "VALID", [[2, 1], [0, 3]]])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_three_and_four_channel_taps(isa, c_in, groups, c_out, strides, padding, dtype, rng):
    """3 or 4 input channels a group (an RGB or RGBA first layer): taps whose channel runs
    are unrolled as constants in the 6-pixel blocks, every block size 1-6 among the rows'
    interiors and edge columns (17 columns at strides 1-4), 1, 3 and 4 + 1 vectors of
    output channels (AVX-512; 1-2 vector blocks on AVX2), with bias and relu."""
    x, w = _randn(rng, (2, 11, 17, c_in), dtype), _randn(rng, (5, 5, c_in // groups, c_out), dtype)
    b = _randn(rng, (c_out,), dtype)
    args = dict(bias=b, activation="relu")
    got = fastconv.conv2d(x, w, strides, padding, algorithm="direct", **args)
    want = reference.conv2d(x, w, strides, padding, **args)
    assert_close(got, want, 25 * c_in // groups, dtype)


@pytest.mark.parametrize("activation", [None, "relu", "relu6", "sigmoid", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_epilogue_dtypes_layouts(isa, activation, dtype, data_format, rng):
    # sums of about unit size: the activations neither saturate nor hide the sums' rounding
    x = 3 * _randn(rng, (2, 14, 15, 3), dtype)
    w, b = 0.1 * _randn(rng, (5, 5, 3, 64), dtype), _randn(rng, 64, dtype)
    if data_format == "NCHW":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    got = fastconv.conv2d(
        x, w, 1, "SAME", data_format, bias=b, activation=activation, algorithm="direct"
    )
    want = reference.conv2d(x, w, 1, "SAME", data_format, bias=b, activation=activation)
    assert_close(got, want, 76, dtype)


@pytest.mark.parametrize(
    "shape,window,strides",
    [
        ((2, 28, 28, 1), (5, 5, 1, 32), 1),  # lenet-c1
        ((1, 227, 227, 3), (11, 11, 3, 64), 4),  # AlexNet's first layer
        ((1, 64, 64, 3), (7, 7, 3, 64), 2),  # ResNet's stem
    ],
)
def test_auto_runs_it(isa, shape, window, strides, rng):
    x, w = _randn(rng, shape), _randn(rng, window)
    assert_auto_runs(x, w, strides, "SAME", "direct")


@pytest.mark.parametrize(
    "shape,c_out",
    [
        ((4, 40, 36, 1), 32),
        ((4, 40, 36, 2), 64),
        ((4, 40, 36, 3), 64),
        ((4, 40, 36, 48), 64),
        ((1, 112, 40, 3), 64),  # one image: its 56 rows split evenly over the threads
    ],
)
def test_bit_identical_for_any_thread_count(isa, shape, c_out, rng, restore_threads):
    x, w = _randn(rng, shape), _randn(rng, (7, 7, shape[3], c_out))
    assert_same_bits_for_any_thread_count(
        lambda: fastconv.conv2d(x, w, 2, "SAME", algorithm="direct")
    )


@pytest.mark.parametrize(
    "shape,window,groups,dtype",
    [
        ((1, 7, 7, 96), (3, 3, 96, 256), 1, np.float32),  # few rows: channel slices
        ((2, 5, 9, 32), (3, 3, 16, 96), 2, np.float32),  # slices across groups of 48
        ((1, 3, 4, 24), (2, 2, 24, 200), 1, np.float64),  # a last slice of a partial block
    ],
)
def test_channel_slices_on_small_images(isa, shape, window, groups, dtype, rng, restore_threads):
    """Small images split over output channels on several threads: the same bits as one
    thread, and the reference's values."""
    x, w = _randn(rng, shape).astype(dtype), _randn(rng, window).astype(dtype)
    b = _randn(rng, (window[3],)).astype(dtype)
    run = lambda: fastconv.conv2d(x, w, 1, "SAME", algorithm="direct", bias=b, activation="relu")
    assert_same_bits_for_any_thread_count(run)
    want = reference.conv2d(x, w, 1, "SAME", bias=b, activation="relu")
    assert_close(run(), want, window[0] * window[1] * window[2], dtype)


@pytest.mark.parametrize(
    "window,dtype",
    [
        ((11, 11, 3, 64), np.float32),  # small: copied to an aligned buffer when misaligned
        ((5, 5, 1, 32), np.float64),
        ((3, 3, 192, 512), np.float32),  # 3.5 MB, over half of L2: read where it lies
    ],
)
def test_filters_at_any_alignment(isa, window, dtype, rng):
    """Filters at any address (NumPy aligns to 16 bytes; the kernel copies small misaligned
    ones to a cache-line-aligned buffer): the same bits wherever they lie, and the
    reference's values."""
    x, w = _randn(rng, (1, 23, 21, window[2]), dtype), _randn(rng, window, dtype)
    got = [
        fastconv.conv2d(x, at_offset(w, off), 2, "SAME", algorithm="direct")
        for off in (0, np.dtype(dtype).itemsize, 16, 48)
    ]
    for g in got[1:]:
        np.testing.assert_array_equal(g, got[0])
    want = reference.conv2d(x, w, 2, "SAME")
    assert_close(got[0], want, window[0] * window[1] * window[2], dtype)
