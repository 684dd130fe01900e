"""The image-filter kernel (1-4 input and 1-4 output channels, one group) per ISA variant:
widths around the vector widths, channel counts, window sizes 1-11, strides 1-4,
dilations, every padding form, views whose columns are not adjacent, NCHW read and written
in place, float64, the epilogue, and the bits for any thread count. algorithm="direct" runs
it; "auto" too."""

import numpy as np
import pytest

import fastconv
from fastconv import reference

from kernel_checks import assert_auto_runs, assert_same_bits_for_any_thread_count
from tolerance import assert_close


def _image(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("width", [1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_widths(isa, width, k, rng):
    x, w = _image(rng, (2, 6, width, 1)), _image(rng, (k, k, 1, 1))
    for padding in ("SAME", "VALID"):
        if padding == "VALID" and k > width:
            continue
        got = fastconv.conv2d(x, w, 1, padding, algorithm="direct")
        assert_close(got, reference.conv2d(x, w, 1, padding), k * k, np.float32, err_msg=padding)


@pytest.mark.parametrize("k", [2, 3, 4, 5, 7, 9, 11])
@pytest.mark.parametrize("strides", [1, 2, 3, 4, (1, 3), (4, 2)])
@pytest.mark.parametrize("dilations", [1, 2, (3, 1)])
def test_windows_strides_dilations(isa, k, strides, dilations, rng):
    x, w = _image(rng, (1, 29, 37, 1)), _image(rng, (k, k, 1, 1))
    for padding in ("SAME", [[1, 3], [k - 1, 0]]):
        got = fastconv.conv2d(x, w, strides, padding, "NHWC", dilations, algorithm="direct")
        want = reference.conv2d(x, w, strides, padding, "NHWC", dilations)
        assert_close(got, want, k * k, np.float32, err_msg=str(padding))


@pytest.mark.parametrize("c_in", [1, 2, 3, 4])
@pytest.mark.parametrize("c_out", [1, 2, 3, 4])
@pytest.mark.parametrize("strides", [1, 2, 3, 4])  # row gathers of steps 1-16
def test_channels(isa, c_in, c_out, strides, rng):
    x, w = _image(rng, (2, 13, 21, c_in)), _image(rng, (3, 3, c_in, c_out))
    b = _image(rng, c_out)
    for padding in ("SAME", "VALID"):
        got = fastconv.conv2d(x, w, strides, padding, bias=b, algorithm="direct")
        assert_close(
            got,
            reference.conv2d(x, w, strides, padding, bias=b),
            9 * c_in + 1,
            np.float32,
            err_msg=padding,
        )
    nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    got = fastconv.conv2d(nchw, w, strides, "SAME", "NCHW", algorithm="direct")
    assert_close(got, reference.conv2d(nchw, w, strides, "SAME", "NCHW"), 9 * c_in, np.float32)


@pytest.mark.parametrize("kh,kw", [(1, 9), (9, 1), (3, 5), (11, 11)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rectangular_windows_and_dtypes(isa, kh, kw, dtype, rng):
    x, w = _image(rng, (2, 23, 19, 1), dtype), _image(rng, (kh, kw, 1, 1), dtype)
    for strides in (1, 2):
        got = fastconv.conv2d(x, w, strides, "SAME", algorithm="direct")
        assert_close(got, reference.conv2d(x, w, strides, "SAME"), kh * kw, dtype)


@pytest.mark.parametrize("activation", [None, "relu", "relu6", "sigmoid", "tanh"])
def test_bias_and_activation(isa, activation, rng):
    x, w, b = 3 * _image(rng, (2, 11, 13, 1)), _image(rng, (3, 3, 1, 1)), _image(rng, 1)
    got = fastconv.conv2d(x, w, 1, "SAME", bias=b, activation=activation, algorithm="direct")
    want = reference.conv2d(x, w, 1, "SAME", bias=b, activation=activation)
    assert_close(got, want, 10, np.float32)


def test_views_nchw_and_out(isa, rng):
    """Columns that are not adjacent (a strided view) are gathered; a one-channel NCHW image
    has the memory of an NHWC one and is read and written in place, as is out=."""
    big, w = _image(rng, (2, 15, 40, 1)), _image(rng, (3, 3, 1, 1))
    view = big[:, ::-1, ::2]
    assert_close(
        fastconv.conv2d(view, w, 1, "SAME", algorithm="direct"),
        reference.conv2d(view, w, 1, "SAME"),
        9,
        np.float32,
    )
    nchw = big.transpose(0, 3, 1, 2)
    out = np.empty((2, 1, 15, 40), np.float32)
    got = fastconv.conv2d(nchw, w, 1, "SAME", "NCHW", algorithm="direct", out=out)
    assert got is out
    assert_close(out, reference.conv2d(nchw, w, 1, "SAME", "NCHW"), 9, np.float32)


@pytest.mark.parametrize("c_in,c_out", [(1, 1), (3, 3), (4, 2)])
def test_auto_runs_it(isa, c_in, c_out, rng):
    x, w = _image(rng, (1, 120, 160, c_in)), _image(rng, (5, 5, c_in, c_out))
    assert_auto_runs(x, w, 1, "SAME", "direct")


def test_bit_identical_for_any_thread_count(isa, rng, restore_threads):
    x, w = _image(rng, (3, 200, 150, 1)), _image(rng, (5, 5, 1, 1))
    assert_same_bits_for_any_thread_count(
        lambda: fastconv.conv2d(x, w, (1, 2), "SAME", algorithm="direct")
    )


@pytest.mark.parametrize("c_in,c_out", [(1, 1), (1, 2), (3, 3), (2, 4)])
@pytest.mark.parametrize("strides,dilations", [(1, 1), (1, (2, 1)), (2, 1), ((1, 3), 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_register_blocks(isa, c_in, c_out, strides, dilations, dtype, rng):
    """Rows wide enough for the register blocks (several blocks of vectors, single vectors and
    a last vector overlapping the one before), 11 rows (a last block of fewer rows), blocks of
    rows that share input rows (stride 1) or of output channels (stride 2 on a 3x3 window),
    the bias and ReLU written from the registers (NCHW planes and one-channel rows) or
    through the accumulator rows (interleaved NHWC channels)."""
    x = _image(rng, (2, 11, 157, c_in), dtype)
    w, b = _image(rng, (3, 3, c_in, c_out), dtype), _image(rng, c_out, dtype)
    nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    for padding in ("SAME", "VALID", [[2, 0], [1, 2]]):
        for activation in (None, "relu", "tanh"):
            kw = dict(bias=b, activation=activation, dilations=dilations)
            msg = f"{padding} {activation}"
            got = fastconv.conv2d(x, w, strides, padding, algorithm="direct", **kw)
            want = reference.conv2d(x, w, strides, padding, **kw)
            assert_close(got, want, 9 * c_in + 1, dtype, err_msg=msg)
            got = fastconv.conv2d(nchw, w, strides, padding, "NCHW", algorithm="direct", **kw)
            want = reference.conv2d(nchw, w, strides, padding, "NCHW", **kw)
            assert_close(got, want, 9 * c_in + 1, dtype, err_msg="NCHW " + msg)


def test_rows_in_the_padding_and_infinite_weights(isa, rng):
    """Output rows whose whole window lies in the padding are the bias alone; a padding tap
    contributes nothing even against an infinite weight (no 0 * inf)."""
    x, w, b = _image(rng, (1, 4, 90, 1)), _image(rng, (3, 3, 1, 1)), _image(rng, 1)
    w[0, 0, 0, 0] = np.inf
    w[2, 2, 0, 0] = -np.inf
    pads = [[5, 6], [1, 1]]
    got = fastconv.conv2d(x, w, 1, pads, bias=b, algorithm="direct")
    want = reference.conv2d(x, w, 1, pads, bias=b)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[:, :3], np.broadcast_to(b, got[:, :3].shape))
    np.testing.assert_array_equal(got[:, -4:], np.broadcast_to(b, got[:, -4:].shape))
    # row 5, column 0: its +inf tap (top left) is padding, its -inf tap (bottom right) real
    assert got[0, 5, 0, 0] == -np.inf
    finite = np.isfinite(want)
    assert_close(got[finite], want[finite], 10, np.float32)


@pytest.mark.parametrize("c_out,layout", [(1, "NHWC"), (2, "NCHW"), (3, "NHWC")])
def test_register_blocks_same_bits_for_any_thread_count(isa, c_out, layout, rng, restore_threads):
    x, w = _image(rng, (2, 37, 150, 2)), _image(rng, (5, 5, 2, c_out))
    if layout == "NCHW":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    assert_same_bits_for_any_thread_count(
        lambda: fastconv.conv2d(
            x,
            w,
            1,
            "SAME",
            layout,
            bias=np.ones(c_out, np.float32),
            activation="relu",
            algorithm="direct",
        )
    )


@pytest.mark.parametrize("k", [3, 5, 7])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unrolled_square_windows_keep_the_generic_bits(isa, k, dtype, rng):
    """One channel in and out through a k x k window (3, 5, 7) at stride 1: on AVX-512, blocks
    of rows whose windows lie in the image run an unrolled loop whose taps are lane shifts of
    each input row's vectors, the row's two end vectors adding only their real taps.  Its sums
    are the generic block's, so its bits are output channel 0's of the same filter among two
    output channels (which runs the generic block): widths of one vector to several blocks,
    every padding form (columns whose whole window is padding too), bias and ReLU, infinite
    weights on padding taps, NCHW planes and a view whose columns are not adjacent (read
    through phase rows)."""
    for width in (8, 16, 17, 40, 150):
        x = _image(rng, (2, 23, width, 1), dtype)
        w, b = _image(rng, (k, k, 1, 1), dtype), _image(rng, 1, dtype)
        w2 = np.concatenate([w, _image(rng, (k, k, 1, 1), dtype)], axis=3)
        b2 = np.concatenate([b, np.zeros(1, dtype)])
        # explicit padding, with whole vectors of columns in it at both ends of the last one
        for padding in ("SAME", "VALID", [[2, 1], [k - 1, 0]], [[1, 0], [k + 20, 30]]):
            for activation in (None, "relu"):
                kw = dict(bias=b, activation=activation, algorithm="direct")
                msg = f"width {width} {padding} {activation}"
                got = fastconv.conv2d(x, w, 1, padding, **kw)
                two = fastconv.conv2d(x, w2, 1, padding, **{**kw, "bias": b2})
                np.testing.assert_array_equal(got, two[..., :1], err_msg=msg)
                want = reference.conv2d(x, w, 1, padding, bias=b, activation=activation)
                assert_close(got, want, k * k + 1, dtype, err_msg=msg)
        # a padding tap is skipped, even against an infinite weight (no 0 * inf)
        inf = w.copy(), w2.copy()
        for a in inf:
            a[0, 0], a[-1, -2] = np.inf, -np.inf
        got = fastconv.conv2d(x, inf[0], 1, "SAME", algorithm="direct")
        two = fastconv.conv2d(x, inf[1], 1, "SAME", algorithm="direct")
        np.testing.assert_array_equal(got, two[..., :1])
        want = reference.conv2d(x, inf[0], 1, "SAME")
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
        got = fastconv.conv2d(x, w, 1, "SAME", algorithm="direct")
        planes = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        got_nchw = fastconv.conv2d(planes, w, 1, "SAME", "NCHW", algorithm="direct")
        np.testing.assert_array_equal(got_nchw, got.transpose(0, 3, 1, 2))
        spaced = np.concatenate([x, x], axis=3)[..., :1]  # columns 2 elements apart
        np.testing.assert_array_equal(
            fastconv.conv2d(spaced, w, 1, "SAME", algorithm="direct"), got
        )


@pytest.mark.parametrize("k", [3, 5, 7])
def test_unrolled_square_windows_same_bits_for_any_thread_count(isa, k, rng, restore_threads):
    """The thread split moves the row blocks, and with them which rows the unrolled loop
    takes; the bits stay."""
    x, w = _image(rng, (1, 103, 150, 1)), _image(rng, (k, k, 1, 1))
    assert_same_bits_for_any_thread_count(
        lambda: fastconv.conv2d(x, w, 1, "SAME", bias=np.ones(1, np.float32), algorithm="direct")
    )
