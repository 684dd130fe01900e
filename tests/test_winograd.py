"""Winograd F(2x2,3x3) (algorithm="winograd") against TensorFlow and the reference, for every
ISA variant this CPU has: partial tiles (odd and even sizes 1-9), every padding form,
channel counts around the vector widths, both dtypes, bias and activations."""

import numpy as np
import pytest

import fastconv
from fastconv import _core, reference
from fastconv._geometry import conv_shape

from tolerance import assert_close

PADDINGS = ["SAME", "VALID", [[1, 0], [0, 2]], [[2, 2], [1, 1]]]


def _tf_padding(padding):
    return padding if isinstance(padding, str) else [[0, 0], *padding, [0, 0]]


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (4, 4), (5, 8), (7, 9), (9, 6)])
@pytest.mark.parametrize("padding", PADDINGS)
def test_partial_tiles_against_tf(isa, size, padding, tf_nn, rng):
    x = rng.standard_normal((2, *size, 5)).astype(np.float32)
    w = rng.standard_normal((3, 3, 5, 7)).astype(np.float32)
    if padding == "VALID" and min(size) == 1:  # TF: "Computed output size would be negative"
        with pytest.raises(ValueError, match="window does not fit"):
            fastconv.conv2d(x, w, 1, padding, algorithm="winograd")
        return
    got = fastconv.conv2d(x, w, 1, padding, algorithm="winograd")
    if got.size == 0:  # VALID on a 2-pixel side: TF returns garbage there (docs/peers.md)
        assert got.shape == reference.conv2d(x, w, 1, padding).shape
        return
    expected = tf_nn.conv2d(x, w, 1, _tf_padding(padding)).numpy()
    assert_close(got, expected, 45, np.float32)


@pytest.mark.parametrize("channels", [(15, 17), (16, 16), (17, 15), (63, 65), (65, 64)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_channels_around_vector_width(isa, channels, dtype, rng):
    c, o = channels
    x = rng.standard_normal((1, 7, 6, c)).astype(dtype)
    w = rng.standard_normal((3, 3, c, o)).astype(dtype)
    got = fastconv.conv2d(x, w, 1, "SAME", algorithm="winograd")
    assert_close(got, reference.conv2d(x, w, 1, "SAME"), 9 * c, dtype)


@pytest.mark.parametrize("activation", [None, "relu", "relu6", "sigmoid", "tanh"])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_bias_activation_layouts(isa, activation, data_format, rng):
    x = rng.standard_normal((2, 8, 5, 6)).astype(np.float32)  # NCHW: 8 channels
    c = x.shape[3] if data_format == "NHWC" else x.shape[1]
    w = (rng.standard_normal((3, 3, c, 9)) / np.sqrt(9 * c)).astype(np.float32)
    b = rng.standard_normal(9).astype(np.float32)
    got = fastconv.conv2d(
        x, w, 1, "SAME", data_format, bias=b, activation=activation, algorithm="winograd"
    )
    expected = reference.conv2d(x, w, 1, "SAME", data_format, bias=b, activation=activation)
    assert_close(got, expected, 9 * c + 1, np.float32)


@pytest.mark.parametrize("channels", [16, 64, 256, 512])
def test_accuracy_like_direct(channels, rng):
    """max |y - y_ref| / max |y_ref| at most 2x that of the direct kernel (issue target)."""
    x = rng.standard_normal((1, 10, 10, channels)).astype(np.float32)
    w = rng.standard_normal((3, 3, channels, 32)).astype(np.float32)
    ref = reference.conv2d(x, w, 1, "SAME").astype(np.float64)

    def error(algorithm):
        y = fastconv.conv2d(x, w, 1, "SAME", algorithm=algorithm)
        return np.abs(y - ref).max() / np.abs(ref).max()

    assert error("winograd") <= 2 * error("direct")


def test_auto_equals_winograd_where_it_picks_it(rng):
    x = rng.standard_normal((1, 16, 16, 32)).astype(np.float32)
    w = rng.standard_normal((3, 3, 32, 32)).astype(np.float32)
    assert np.array_equal(
        fastconv.conv2d(x, w, 1, "SAME"), fastconv.conv2d(x, w, 1, "SAME", algorithm="winograd")
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"filters": (5, 5, 4, 4)},
        {"strides": 2},
        {"dilations": 2},
        {"filters": (3, 3, 2, 4)},
    ],
)
def test_rejects_shapes_it_cannot_run(kwargs, rng):
    x = rng.standard_normal((1, 9, 9, 4)).astype(np.float32)
    w = rng.standard_normal(kwargs.pop("filters", (3, 3, 4, 4))).astype(np.float32)
    with pytest.raises(ValueError, match="winograd"):
        fastconv.conv2d(x, w, padding="SAME", algorithm="winograd", **kwargs)


@pytest.mark.parametrize(
    "k,stride,dil,groups",
    [
        ((3, 3), 1, 1, 1),
        ((3, 5), 1, 1, 1),
        ((1, 1), 1, 1, 1),
        ((3, 3), (1, 2), 1, 1),
        ((3, 3), 1, (2, 1), 1),
        ((3, 3), 1, 1, 2),
    ],
)
def test_python_asks_the_c_rule(k, stride, dil, groups, rng):
    """conv2d(algorithm="winograd") runs exactly where the C side's fc_winograd_applies says
    it can (3x3, stride 1, dilation 1, one group), and the binding reports that rule."""
    runs = (k, stride, dil, groups) == ((3, 3), 1, 1, 1)
    x = rng.standard_normal((1, 8, 9, 4)).astype(np.float32)
    w = rng.standard_normal((*k, 4 // groups, 4)).astype(np.float32)
    shape = conv_shape(x.shape, w.shape, stride, "SAME", "NHWC", dil)
    assert _core.winograd_applies(shape.win, shape.groups) == runs
    if runs:
        got = fastconv.conv2d(x, w, stride, "SAME", dilations=dil, algorithm="winograd")
        want = reference.conv2d(x, w, stride, "SAME", dilations=dil)
        assert_close(got, want, 9 * w.shape[2], np.float32)
    else:
        with pytest.raises(ValueError, match="winograd"):
            fastconv.conv2d(x, w, stride, "SAME", dilations=dil, algorithm="winograd")


@pytest.mark.parametrize(
    "x_shape, w_shape",
    [
        ((2, 30, 30, 24), (3, 3, 24, 40)),
        # 4 MiB of transformed weights, more than L2, in one tile block: the threads split
        # its output channels
        ((1, 14, 14, 256), (3, 3, 256, 256)),
        # ... two tile blocks (98 tiles), one a thread
        ((2, 14, 14, 256), (3, 3, 256, 256)),
    ],
)
def test_bit_identical_across_threads(restore_threads, rng, x_shape, w_shape):
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    fastconv.set_num_threads(1)
    one = fastconv.conv2d(x, w, 1, "SAME", algorithm="winograd")
    fastconv.set_num_threads(2)
    assert np.array_equal(one, fastconv.conv2d(x, w, 1, "SAME", algorithm="winograd"))


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_output_channel_slices(threads, restore_threads, rng):
    """One tile block whose weights outgrow L2 (9.4 MB transformed), its output channels
    split over the threads in uneven slices of panels, a partial last panel, bias and
    activation, odd image edges: against the reference, and the same bits as 1 thread."""
    x = rng.standard_normal((1, 9, 11, 256)).astype(np.float32)
    w = rng.standard_normal((3, 3, 256, 300)).astype(np.float32)
    b = rng.standard_normal(300).astype(np.float32)
    args = dict(bias=b, activation="relu6", algorithm="winograd")
    fastconv.set_num_threads(1)
    one = fastconv.conv2d(x, w, 1, "SAME", **args)
    want = reference.conv2d(x, w, 1, "SAME", bias=b, activation="relu6")
    assert_close(one, want, 9 * 256 + 1, np.float32)
    fastconv.set_num_threads(threads)
    assert np.array_equal(one, fastconv.conv2d(x, w, 1, "SAME", **args))
