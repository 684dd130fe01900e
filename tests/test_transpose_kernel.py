"""The NCHW <-> NHWC layout transpose (operators/transpose_tmpl.h) per ISA variant: an NCHW
call gives the bits of the NHWC call on the same data, transposed, for every algorithm.
The sizes cover the transpose's special cases: channel counts and planes around the tile
sizes (2, 4, 8 and 16 lanes) and the 64-row task blocks, one-pixel planes, float64, a batch,
and NCHW inputs that are not dense (strided views, which take the generic copy)."""

import numpy as np
import pytest

import fastconv
from fastconv import reference
from tolerance import assert_close

CHANNELS = [1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40]
PLANES = [(1, 1), (1, 33), (3, 5), (4, 4), (8, 8), (16, 16), (17, 15), (33, 33)]


def _nchw(a):
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def _same_bits(x, w, algorithm, stride=1, padding="SAME", xc=None):
    """conv2d on NHWC x and on its NCHW copy (or the given NCHW view xc): the same bits."""
    want = fastconv.conv2d(x, w, stride, padding, algorithm=algorithm)
    got = fastconv.conv2d(
        _nchw(x) if xc is None else xc, w, stride, padding, "NCHW", algorithm=algorithm
    )
    np.testing.assert_array_equal(got, _nchw(want))
    return want


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("c", CHANNELS)
def test_channels_and_planes(isa, c, dtype, rng):
    """1x1 convolutions: c channels in, c + 5 out (both conversions), every plane size.
    With at most 4 input channels the direct NCHW call may instead run the first-layer
    kernel on the planes (no transpose; tests/test_fewin_planes_kernel.py), which sums in
    another order than the generic kernel NHWC gets for c + 5 outputs: there, the
    reference."""
    w = rng.standard_normal((1, 1, c, c + 5)).astype(dtype)
    for h, wd in PLANES:
        x = rng.standard_normal((2, h, wd, c)).astype(dtype)
        _same_bits(x, w, "im2col", padding="VALID")
        if c > 4:
            _same_bits(x, w, "direct", padding="VALID")
        else:
            got = fastconv.conv2d(_nchw(x), w, 1, "VALID", "NCHW", algorithm="direct")
            assert_close(got, _nchw(reference.conv2d(x, w, 1, "VALID")), c, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("algorithm", ["direct", "im2col", "winograd", "auto"])
def test_every_algorithm(isa, algorithm, dtype, rng):
    """3x3 convolutions over planes past a 64-row task block (70 channels, 9x9 = 81 pixels),
    against the reference too, so that a transpose wrong both ways cannot pass."""
    x = rng.standard_normal((2, 9, 9, 70)).astype(dtype)
    w = rng.standard_normal((3, 3, 70, 19)).astype(dtype)
    want = _same_bits(x, w, algorithm)
    assert_close(want, reference.conv2d(x, w, 1, "SAME"), 9 * 70, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_power_of_two_planes(isa, dtype, rng):
    """64x64 planes (4096 values: every channel row in one cache set) and 64 channels."""
    x = rng.standard_normal((1, 64, 64, 64)).astype(dtype)
    w = rng.standard_normal((1, 1, 64, 48)).astype(dtype)
    _same_bits(x, w, "im2col", padding="VALID")


@pytest.mark.parametrize("c", [1, 3, 16, 17])
def test_strided_nchw_views(isa, c, rng):
    """NCHW inputs that are not dense (every other column, reversed rows, every other
    channel) are copied the generic way; the result is still the NHWC call's."""
    big = rng.standard_normal((2, 11, 26, 2 * c)).astype(np.float32)
    w = rng.standard_normal((3, 3, c, 20)).astype(np.float32)
    for view in (big[:, :, ::2, :c], big[:, ::-1, :13, :c], big[:, :, :13, ::2]):
        xc = view.transpose(0, 3, 1, 2)
        assert not xc.flags.c_contiguous
        _same_bits(np.ascontiguousarray(view), w, "direct", xc=xc)
        _same_bits(np.ascontiguousarray(view), w, "im2col", xc=xc)


def test_depthwise_nchw(isa, rng):
    """Depthwise layers take the same conversions: channels around the tile sizes."""
    for c in (1, 3, 16, 17, 40):
        x = rng.standard_normal((2, 13, 11, c)).astype(np.float32)
        w = rng.standard_normal((3, 3, c, 2)).astype(np.float32)
        want = fastconv.depthwise_conv2d(x, w, 1, "SAME")
        got = fastconv.depthwise_conv2d(_nchw(x), w, 1, "SAME", "NCHW")
        np.testing.assert_array_equal(got, _nchw(want))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("c_in,c_out", [(2, 1), (3, 3), (4, 2), (1, 4)])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_image_filter_reads_nchw_in_place(isa, c_in, c_out, stride, dtype, rng):
    """The image filter (1-4 channels in and out) takes NCHW planes and strided NCHW views
    as they are, with no conversion: still the NHWC call's bits."""
    big = rng.standard_normal((2, 3 * c_in, 17, 41)).astype(dtype)
    w = rng.standard_normal((3, 3, c_in, c_out)).astype(dtype)
    for xc in (np.ascontiguousarray(big[:, :c_in]), big[:, ::3, ::-1, 1::2]):
        x = np.ascontiguousarray(xc.transpose(0, 2, 3, 1))
        for algorithm in ("direct", "auto"):
            _same_bits(x, w, algorithm, stride, xc=xc)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize(
    "shape,c_out", [((1, 6, 9, 3), 64), ((3, 28, 28, 1), 32), ((2, 7, 5, 20), 33)]
)
def test_direct_tasks_transpose_their_rows(isa, shape, c_out, threads, rng, restore_threads):
    """The direct tasks write an NCHW output themselves (rows, and output-channel slices
    where a small image leaves too few rows for the threads): the NHWC call's bits."""
    fastconv.set_num_threads(threads)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((3, 3, shape[3], c_out)).astype(np.float32)
    _same_bits(x, w, "direct")
