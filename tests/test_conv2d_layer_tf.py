"""fastconv.Conv2D against tf.nn.conv2d (+ bias_add and the activation): every algorithm,
one layer object over several batch and image sizes."""

from __future__ import annotations

import pytest
import tensorflow as tf

from fastconv import Conv2D
from _cases import tf_padding
from tolerance import assert_close

TF_ACTIVATIONS = {None: lambda v: v, "relu": tf.nn.relu, "tanh": tf.nn.tanh}

# kernel, c_in, c_out, strides, dilations, padding, dtype, activation, algorithms
CASES = [
    ((3, 3), 16, 32, 1, 1, "SAME", "float32", "relu", ("auto", "direct", "im2col", "winograd")),
    ((3, 3), 8, 16, 1, 1, "VALID", "float64", None, ("auto", "direct", "im2col", "winograd")),
    ((1, 1), 32, 64, 1, 1, "VALID", "float32", None, ("auto", "direct", "im2col")),
    ((5, 5), 6, 16, 2, 1, [[2, 1], [0, 2]], "float32", "tanh", ("auto", "direct", "im2col")),
    ((3, 3), 12, 20, 1, 2, "SAME", "float64", "relu", ("auto", "direct", "im2col")),
]
SIZES = [(1, 7, 7), (2, 12, 9), (3, 16, 16)]


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_conv2d_layer_matches_tf(rng, case):
    kernel, c_in, c_out, strides, dilations, padding, dtype, activation, algorithms = case
    f = rng.standard_normal((*kernel, c_in, c_out)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    for algorithm in algorithms:
        layer = Conv2D(
            f,
            strides,
            padding,
            dilations=dilations,
            bias=b,
            activation=activation,
            algorithm=algorithm,
        )
        for n, h, w in SIZES:
            x = rng.standard_normal((n, h, w, c_in)).astype(dtype)
            conv = tf.nn.conv2d(x, f, strides, tf_padding(padding), dilations=dilations)
            expected = TF_ACTIVATIONS[activation](tf.nn.bias_add(conv, b)).numpy()
            assert_close(
                layer(x),
                expected,
                kernel[0] * kernel[1] * c_in,
                dtype,
                err_msg=f"{algorithm} {n, h, w}",
            )
