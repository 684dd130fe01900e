"""conv2d against tf.nn.conv2d: covering sweeps, argument forms, tile edges, bias and
activations, grouped convolution, and a hypothesis property test. Every algorithm."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import assume, given

import fastconv
from fastconv import reference, testing
from _cases import covering, eff, fit_size, tf_padding
from tolerance import assert_close

ALGORITHMS = ("direct", "im2col", "auto")
TF_ACTIVATIONS = {
    None: lambda v: v,
    "relu": tf.nn.relu,
    "relu6": tf.nn.relu6,
    "sigmoid": tf.nn.sigmoid,
    "tanh": tf.nn.tanh,
}


def tf_conv2d(x, w, strides, padding, dilations=1, data_format="NHWC"):
    """TF on NHWC (what every TF CPU build runs); NCHW arrays are transposed around it."""
    if data_format == "NCHW":
        y = tf_conv2d(x.transpose(0, 2, 3, 1), w, strides, padding, dilations)
        return y.transpose(0, 3, 1, 2)
    return tf.nn.conv2d(x, w, strides, tf_padding(padding), dilations=dilations).numpy()


def tf_conv2d_is_wrong(batch, channels, strides, out_w):
    """A TF 2.21 (oneDNN) failure found by the property test below: with one input channel,
    strides (1, s > 1) and a single output column, every image after the first comes back
    as zeros. fastconv gets it right (test_tf_conv2d_single_column_failure); TF is no
    oracle there."""
    return batch > 1 and channels == 1 and strides[0] == 1 and strides[1] > 1 and out_w == 1


def make_input(rng, n, h, w, c, dtype, data_format="NHWC"):
    shape = (n, h, w, c) if data_format == "NHWC" else (n, c, h, w)
    return rng.standard_normal(shape).astype(dtype)


def _sweep_cases():
    """Strided cases (dilation 1) and dilated cases (stride 1: TF's rule)."""
    common = dict(
        size=[(1, 1), (2, 3), (4, 4), (5, 8), (7, 6), (9, 9), (10, 13), (16, 11)],
        c_in=[1, 2, 3, 4, 7, 8, 16, 17],
        c_out=[1, 2, 3, 5, 8, 9, 16, 17],
        batch=[1, 2, 3],
        padding=["SAME", "VALID", "explicit"],
        data_format=["NHWC", "NHWC", "NCHW"],
        dtype=["float32", "float32", "float32", "float64"],
    )
    kernels = [
        (1, 1),
        (2, 2),
        (3, 3),
        (4, 4),
        (5, 5),
        (6, 6),
        (7, 7),
        (1, 3),
        (3, 1),
        (2, 5),
        (7, 4),
    ]
    strided = covering(
        24,
        seed=1,
        kernel=kernels,
        stride=[(1, 1), (2, 2), (3, 3), (1, 2), (3, 1), (2, 3)],
        dilation=[(1, 1)],
        **common,
    )
    dilated = covering(
        14,
        seed=2,
        kernel=kernels[1:],
        stride=[(1, 1)],
        dilation=[(2, 2), (3, 3), (1, 2), (3, 1), (2, 3)],
        **common,
    )
    cases = []
    for i, case in enumerate(strided + dilated):
        (kh, kw), (dh, dw) = case["kernel"], case["dilation"]
        pad = case["padding"]
        if pad == "explicit":
            pad = ((i % 4, (i * 7) % 3), ((i * 5) % 4, i % 2))
        pads = ((0, 0), (0, 0)) if isinstance(pad, str) else pad
        h = fit_size(case["size"][0], eff(kh, dh), pads[0], pad)
        w = fit_size(case["size"][1], eff(kw, dw), pads[1], pad)
        case.update(padding=pad, size=(h, w))
        case["id"] = (
            f"k{kh}x{kw}-s{case['stride'][0]}x{case['stride'][1]}-d{dh}x{dw}-"
            f"{pad if isinstance(pad, str) else 'pad' + ''.join(map(str, sum(pad, ())))}-"
            f"{case['batch']}x{h}x{w}x{case['c_in']}to{case['c_out']}-"
            f"{case['data_format']}-{case['dtype']}"
        )
        cases.append(case)
    return cases


SWEEP = _sweep_cases()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("case", SWEEP, ids=[c["id"] for c in SWEEP])
def test_conv2d_sweep_matches_tf(case, algorithm, rng):
    (kh, kw), (h, w) = case["kernel"], case["size"]
    fmt, dtype = case["data_format"], case["dtype"]
    x = make_input(rng, case["batch"], h, w, case["c_in"], dtype, fmt)
    f = rng.standard_normal((kh, kw, case["c_in"], case["c_out"])).astype(dtype)
    args = (case["stride"], case["padding"], fmt, case["dilation"])
    got = fastconv.conv2d(x, f, *args, algorithm=algorithm)
    want = tf_conv2d(x, f, case["stride"], case["padding"], case["dilation"], fmt)
    assert got.dtype == np.dtype(dtype)
    assert_close(got, want, kh * kw * case["c_in"], dtype)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "strides, dilations",
    [
        (2, 1),
        ([2], [1]),
        ((2, 3), (1, 1)),
        ([1, 2, 3, 1], [1, 1, 1, 1]),
        (np.int64(2), np.array([1, 1])),
        (1, 2),
        (1, [2, 3]),
        ([1, 1, 1, 1], [1, 3, 2, 1]),
    ],
    ids=["int", "one", "pair", "four", "numpy", "dil-int", "dil-pair", "dil-four"],
)
def test_conv2d_argument_forms(strides, dilations, algorithm, rng):
    """int, 1-, 2- and 4-element strides/dilations (numpy ints too) mean what TF means."""
    x = make_input(rng, 2, 11, 10, 3, np.float32)
    f = rng.standard_normal((3, 2, 3, 4)).astype(np.float32)
    want = tf.nn.conv2d(x, f, strides, "SAME", dilations=dilations).numpy()
    got = fastconv.conv2d(x, f, strides, "SAME", "NHWC", dilations, algorithm=algorithm)
    assert_close(got, want, 3 * 2 * 3, np.float32)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "ours, theirs",
    [
        ("same", "SAME"),
        ("Valid", "VALID"),
        ("VALID", "VALID"),
        ([[1, 2], [0, 3]], [[0, 0], [1, 2], [0, 3], [0, 0]]),
        (((2, 0), (1, 1)), [[0, 0], [2, 0], [1, 1], [0, 0]]),
        ([[0, 0], [1, 2], [3, 0], [0, 0]], [[0, 0], [1, 2], [3, 0], [0, 0]]),
        (np.array([[1, 1], [2, 2]]), [[0, 0], [1, 1], [2, 2], [0, 0]]),
        ([[5, 4], [6, 0]], [[0, 0], [5, 4], [6, 0], [0, 0]]),
    ],
    ids=["same-lower", "valid-mixed", "valid", "2pairs", "tuples", "4pairs", "numpy", "wide"],
)
def test_conv2d_padding_forms(ours, theirs, algorithm, rng):
    """Case-insensitive strings, 2-pair and TF's 4-pair explicit padding, pads > kernel."""
    x = make_input(rng, 1, 7, 8, 2, np.float32)
    f = rng.standard_normal((3, 4, 2, 5)).astype(np.float32)
    want = tf.nn.conv2d(x, f, [1, 2], theirs).numpy()
    got = fastconv.conv2d(x, f, [1, 2], ours, algorithm=algorithm)
    assert_close(got, want, 3 * 4 * 2, np.float32)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_conv2d_nchw_four_value_forms(algorithm, rng):
    """4-value strides/dilations/padding are read in NCHW order for NCHW input."""
    x = make_input(rng, 2, 9, 12, 3, np.float32, "NCHW")
    f = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    got = fastconv.conv2d(
        x,
        f,
        [1, 1, 2, 3],
        [[0, 0], [0, 0], [1, 0], [2, 1]],
        "NCHW",
        [1, 1, 1, 1],
        algorithm=algorithm,
    )
    want = tf_conv2d(x, f, [2, 3], [[1, 0], [2, 1]], 1, "NCHW")
    assert_close(got, want, 27, np.float32)
    got = fastconv.conv2d(x, f, 1, "SAME", "nchw", [1, 1, 2, 3], algorithm=algorithm)
    want = tf_conv2d(x, f, 1, "SAME", [2, 3], "NCHW")
    assert_close(got, want, 27, np.float32)


# Sizes around the GEMM blocking (pixel blocks of 96 across images, MR 6 rows, NR 64/32
# columns, weight panels cut into channel blocks of ~113 channels for 3x3 and 1024 for 1x1)
# and around the first engine's tiles (64 pixels, K 256, N 512): tile-1, tile, tile+1,
# 2*tile+1 and primes, in the spirit of XNNPACK's tests.
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "shape, kernel, c_out",
    [
        ((1, 1, 5, 3), (1, 1), 8),  # 5 output pixels: less than one MR panel
        ((1, 1, 7, 3), (1, 1), 13),  # MR + 1
        ((1, 1, 13, 3), (1, 1), 31),  # 2 MR + 1
        ((1, 7, 9, 3), (1, 1), 8),  # 63 output pixels
        ((1, 8, 8, 3), (1, 1), 8),  # 64
        ((1, 5, 13, 3), (1, 1), 8),  # 65
        ((1, 5, 19, 3), (1, 1), 9),  # 95
        ((1, 8, 12, 3), (1, 1), 9),  # 96
        ((1, 1, 97, 3), (1, 1), 9),  # 97
        ((2, 3, 43, 2), (1, 1), 8),  # 129 per image, blocks across images
        ((3, 7, 9, 2), (3, 3), 33),  # 189 pixels over three images
        ((1, 13, 11, 5), (3, 3), 8),  # 143 pixels
        ((1, 4, 5, 255), (1, 1), 9),  # reduction 255
        ((1, 4, 5, 256), (1, 1), 9),  # 256
        ((1, 4, 5, 257), (1, 1), 9),  # 257
        ((1, 5, 5, 29), (3, 3), 9),  # 261 through the taps
        ((1, 4, 4, 113), (3, 3), 6),  # one full channel block for 3x3
        ((1, 4, 4, 114), (3, 3), 6),  # two blocks
        ((1, 3, 3, 229), (3, 3), 5),  # three, the last shorter
        ((1, 2, 2, 1025), (1, 1), 3),  # 1x1 over two channel blocks
        ((1, 3, 4, 4), (2, 2), 31),
        ((1, 3, 4, 4), (2, 2), 32),
        ((1, 3, 4, 4), (2, 2), 33),
        ((1, 3, 4, 4), (2, 2), 63),
        ((1, 3, 4, 4), (2, 2), 64),
        ((1, 3, 4, 4), (2, 2), 65),
        ((1, 3, 4, 4), (2, 2), 129),
        ((1, 3, 4, 4), (2, 2), 513),
        ((1, 2, 3, 3), (1, 1), 1031),
    ],
)
def test_conv2d_tile_edges(shape, kernel, c_out, algorithm, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    f = rng.standard_normal(kernel + (shape[3], c_out)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    got = fastconv.conv2d(x, f, 1, "SAME", bias=b, algorithm=algorithm)
    want = tf.nn.bias_add(tf.nn.conv2d(x, f, 1, "SAME"), b).numpy()
    assert_close(got, want, kernel[0] * kernel[1] * shape[3] + 1, dtype)
    # the same problem in NCHW and with a strided output (copies around the GEMM)
    xc = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    got = fastconv.conv2d(xc, f, 1, "SAME", "NCHW", bias=b, activation="tanh", algorithm=algorithm)
    # tanh squashes the large sums to +-1 but keeps their rounding (it is 1-Lipschitz): the
    # error scales with the sums, not with max|tanh| (1.13x over that bound on one AMD EPYC,
    # whose cache sizes give the GEMM another k-blocking than the Xeon's)
    testing.assert_allclose(
        got,
        np.tanh(want).transpose(0, 3, 1, 2),
        reduction=kernel[0] * kernel[1] * shape[3] + 1,
        scale=float(np.abs(want).max()),
        dtype=dtype,
    )


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("activation", [None, "relu", "relu6", "sigmoid", "tanh"])
def test_conv2d_bias_activation(activation, algorithm, data_format, rng):
    """bias= and activation= fused == tf.nn.bias_add then the tf.nn activation."""
    x = 2.0 * make_input(rng, 2, 7, 6, 5, np.float32, data_format)
    f = rng.standard_normal((3, 3, 5, 7)).astype(np.float32)
    b = (2.0 * rng.standard_normal(7)).astype(np.float32)
    got = fastconv.conv2d(
        x, f, [1, 2], "SAME", data_format, bias=b, activation=activation, algorithm=algorithm
    )
    pre = tf_conv2d(x, f, [1, 2], "SAME", 1, data_format)
    want = TF_ACTIVATIONS[activation](
        tf.nn.bias_add(pre, b, data_format="NHWC" if data_format == "NHWC" else "NCHW")
    ).numpy()
    assert_close(got, want, 3 * 3 * 5 + 1, np.float32)
    if activation == "relu6":  # the clip must actually bite on both ends in this test
        assert (want == 0).any() and (want == 6).any()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "c_in, c_per_group, c_out, kernel, strides, padding",
    [
        (4, 2, 4, (3, 3), 1, "SAME"),
        (6, 1, 6, (3, 3), 2, "VALID"),  # depthwise-like
        (6, 2, 9, (2, 3), (1, 2), "SAME"),
        (8, 4, 16, (1, 1), 1, "VALID"),
        (12, 3, 8, (3, 1), (2, 1), [[1, 1], [0, 2]]),
        (9, 3, 3, (5, 5), 1, "SAME"),  # one output channel per group
    ],
)
def test_conv2d_grouped_matches_tf(
    c_in, c_per_group, c_out, kernel, strides, padding, algorithm, rng
):
    """groups = C / filters.shape[2], as in TF (which supports it on this CPU build)."""
    x = make_input(rng, 2, 9, 8, c_in, np.float32)
    f = rng.standard_normal(kernel + (c_per_group, c_out)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32)
    got = fastconv.conv2d(x, f, strides, padding, bias=b, activation="relu", algorithm=algorithm)
    want = tf.nn.relu(tf.nn.bias_add(tf_conv2d(x, f, strides, padding), b)).numpy()
    assert_close(got, want, kernel[0] * kernel[1] * c_per_group + 1, np.float32)


# Random valid tf.nn.conv2d calls, from fastconv.testing's public strategy within what TF
# takes: dilation > 1 only with stride 1, windows that leave an output (TF returns garbage
# where VALID leaves nothing: docs/peers.md; those go to test_errors).
TF_CONV_CALLS = testing.conv2d_args(
    max_batch=3, max_size=10, dilation_with_stride=False, algorithms=ALGORITHMS
)


@given(TF_CONV_CALLS)
def test_conv2d_property_matches_tf(call):
    x, f, strides, padding, data_format, dilations = call.args
    channels, out_w = (
        (x.shape[3], call.output_shape[2])
        if data_format == "NHWC"
        else (x.shape[1], call.output_shape[3])
    )
    assume(not tf_conv2d_is_wrong(x.shape[0], channels, strides, out_w))
    got = call.run(fastconv)
    want = tf_conv2d(x, f, strides, padding, dilations, data_format)
    assert got.dtype == x.dtype
    assert_close(got, want, call.reduction, x.dtype)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "shape, kernel, strides, padding",
    [
        ((2, 2, 1, 1), (1, 2), (1, 2), "SAME"),
        ((3, 4, 3, 1), (3, 3), (1, 3), "SAME"),
        ((2, 7, 3, 1), (1, 2), (1, 2), "VALID"),
    ],
)
def test_tf_conv2d_single_column_failure(shape, kernel, strides, padding, algorithm, rng):
    """TF 2.21 returns zeros for images 2.. here (see tf_conv2d_is_wrong); fastconv is
    checked against the reference instead, and against TF image by image (batch 1 is fine)."""
    x = rng.standard_normal(shape).astype(np.float32)
    f = rng.standard_normal(kernel + (1, 3)).astype(np.float32)
    got = fastconv.conv2d(x, f, strides, padding, algorithm=algorithm)
    assert got.shape[2] == 1 and tf_conv2d_is_wrong(shape[0], 1, strides, got.shape[2])
    assert_close(got, reference.conv2d(x, f, strides, padding), kernel[0] * kernel[1], np.float32)
    for n in range(shape[0]):
        want = tf.nn.conv2d(x[n : n + 1], f, strides, padding).numpy()
        assert_close(got[n : n + 1], want, kernel[0] * kernel[1], np.float32)
    assert np.abs(got[1:]).max() > 0
