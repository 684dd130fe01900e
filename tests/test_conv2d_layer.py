"""fastconv.Conv2D: bit-identical to conv2d with the same arguments for every algorithm (its
filters packed once, conv2d's per call), through one object for several batch and image
sizes; its private copy, errors, threads, pickling, ISA switches and non-finite filters.
(Against TensorFlow: test_conv2d_layer_tf.py.)"""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest

import fastconv
from fastconv import Conv2D

# kernel, c_in, c_out, groups, strides, dilations, padding, data_format, dtype, bias,
# activation: each kernel family (GEMM, Winograd, blocked, grouped, few-channel,
# few-output, generic direct), grouped or not, every padding form, NCHW, float64
CASES = [
    ((3, 3), 16, 32, 1, 1, 1, "SAME", "NHWC", "float32", True, "relu"),
    ((3, 3), 8, 24, 1, 1, 1, "VALID", "NCHW", "float64", False, None),
    ((1, 1), 32, 64, 1, 1, 1, "VALID", "NHWC", "float32", True, None),
    ((5, 5), 6, 16, 1, 1, 1, "VALID", "NHWC", "float32", True, "tanh"),
    ((3, 3), 64, 64, 16, 1, 1, "SAME", "NHWC", "float32", True, "relu6"),
    ((3, 3), 64, 64, 16, 1, 1, "SAME", "NCHW", "float64", False, "sigmoid"),
    ((3, 3), 64, 128, 2, 2, 1, "SAME", "NHWC", "float32", True, None),
    ((3, 3), 12, 12, 3, 1, 2, [[1, 2], [0, 1]], "NHWC", "float32", False, None),
    ((3, 3), 4, 32, 1, 2, 1, [[1, 1], [1, 1]], "NCHW", "float32", True, "relu"),
    ((2, 3), 8, 16, 1, (1, 2), (2, 1), [[1, 0], [2, 1]], "NHWC", "float64", True, "tanh"),
    ((3, 3), 32, 2, 1, 1, 1, "SAME", "NHWC", "float32", False, None),
    ((7, 7), 3, 16, 1, 2, 1, "SAME", "NHWC", "float32", True, "relu"),
    ((3, 3), 9, 5, 1, 2, 1, 1, "NCHW", "float64", True, None),  # PyTorch's int padding
]
SIZES = [(1, 7, 7), (2, 9, 12), (3, 14, 14), (1, 16, 5)]


def _winograd_ok(kernel, groups, strides, dilations):
    return kernel == (3, 3) and groups == 1 and strides == 1 and dilations == 1


def _input(rng, n, h, w, c, dtype, data_format):
    shape = (n, h, w, c) if data_format == "NHWC" else (n, c, h, w)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_bit_identical_to_conv2d(rng, case):
    kernel, c_in, c_out, groups, strides, dilations, padding, fmt, dtype, has_bias, act = case
    f = rng.standard_normal((*kernel, c_in // groups, c_out)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype) if has_bias else None
    algorithms = ["auto", "direct", "im2col"]
    if _winograd_ok(kernel, groups, strides, dilations):
        algorithms.append("winograd")
    for algorithm in algorithms:
        args = dict(
            strides=strides,
            padding=padding,
            data_format=fmt,
            dilations=dilations,
            bias=b,
            activation=act,
            algorithm=algorithm,
        )
        layer = Conv2D(f, **args)
        for n, h, w in SIZES:
            x = _input(rng, n, h, w, c_in, dtype, fmt)
            # "auto" may pick another algorithm for packed weights: conv2d's bits for that one
            expected = fastconv.conv2d(x, f, **dict(args, algorithm=layer.algorithm_for(x)))
            for _ in range(2):  # the first call packs, the second reuses
                got = layer(x)
                assert got.dtype == expected.dtype and got.shape == expected.shape
                np.testing.assert_array_equal(got, expected, err_msg=f"{algorithm} {n, h, w}")
        if algorithm in ("im2col", "winograd"):
            assert layer.packed_nbytes > 0  # the GEMM's panels, Winograd's filters: kept


def test_grouped_direct_kernel_packs_once(rng):
    """The narrow-groups kernel's rotated filters are kept; other direct kernels keep none."""
    x = rng.standard_normal((1, 8, 8, 64)).astype(np.float32)
    grouped = Conv2D(
        rng.standard_normal((3, 3, 4, 64)).astype(np.float32), padding="SAME", algorithm="direct"
    )
    np.testing.assert_array_equal(
        grouped(x), fastconv.conv2d(x, grouped.filters, 1, "SAME", algorithm="direct")
    )
    assert grouped.packed_nbytes == 3 * 3 * 4 * 64 * 4
    plain = Conv2D(rng.standard_normal((3, 3, 64, 64)).astype(np.float32), algorithm="direct")
    plain(x)
    assert plain.packed_nbytes == 0


def test_oihw_and_out(rng):
    w = rng.standard_normal((32, 8, 3, 3)).astype(np.float32)  # PyTorch's weight
    x = rng.standard_normal((2, 8, 10, 10)).astype(np.float32)
    layer = Conv2D(w, padding=1, data_format="NCHW", filter_format="OIHW", algorithm="im2col")
    expected = fastconv.conv2d(
        x, w, padding=1, data_format="NCHW", filter_format="OIHW", algorithm="im2col"
    )
    out = np.empty_like(expected)
    assert layer(x, out=out) is out
    np.testing.assert_array_equal(out, expected)
    assert layer.filters.shape == (3, 3, 8, 32)


def test_private_copy(rng):
    f = rng.standard_normal((3, 3, 16, 16)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    x = rng.standard_normal((1, 12, 12, 16)).astype(np.float32)
    expected = fastconv.conv2d(x, f, 1, "SAME", bias=b)
    layer = Conv2D(f, 1, "SAME", bias=b)
    f[...] = 0  # before the first call (nothing packed yet) ...
    np.testing.assert_array_equal(layer(x), expected)
    b[...] = 7  # ... and after it
    np.testing.assert_array_equal(layer(x), expected)
    with pytest.raises(ValueError):
        layer.filters[0, 0, 0, 0] = 1
    with pytest.raises(ValueError):
        layer.bias[0] = 1


def test_argument_lists_are_copied(rng):
    f = rng.standard_normal((3, 3, 4, 8)).astype(np.float32)
    x = rng.standard_normal((1, 6, 6, 4)).astype(np.float32)
    padding, strides = [[1, 0], [2, 1]], [1, 2]
    layer = Conv2D(f, strides, padding, algorithm="im2col")
    expected = fastconv.conv2d(x, f, strides, padding, algorithm="im2col")
    padding[0][0], strides[1] = 0, 1
    np.testing.assert_array_equal(layer(x), expected)
    assert layer.padding == ((1, 0), (2, 1))


def test_inputs_not_modified(rng):
    f = rng.standard_normal((3, 3, 4, 8))
    x = rng.standard_normal((1, 6, 6, 4))
    f0, x0 = f.copy(), x.copy()
    Conv2D(f, algorithm="im2col")(x)
    np.testing.assert_array_equal(f, f0)
    np.testing.assert_array_equal(x, x0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(padding="BAD"), "padding"),
        (dict(activation="gelu"), "activation"),
        (dict(algorithm="fft"), "algorithm"),
        (dict(algorithm="winograd", strides=2), "winograd"),
        (dict(data_format="NCWH"), "data_format"),
        (dict(strides=0), "strides"),
        (dict(filter_format="IOHW"), "filter_format"),
        (dict(bias=np.zeros(3, np.float32)), "bias"),
    ],
)
def test_bad_arguments_raise_conv2d_errors(kwargs, message):
    f = np.zeros((3, 3, 4, 8), np.float32)
    x = np.zeros((1, 5, 5, 4), np.float32)
    with pytest.raises(ValueError, match=message) as layer_error:
        Conv2D(f, **kwargs)
    with pytest.raises(ValueError) as conv2d_error:
        fastconv.conv2d(x, f, **kwargs)
    assert str(layer_error.value) == str(conv2d_error.value)  # the same checks


def test_bad_filters_and_inputs():
    with pytest.raises(ValueError, match="4-D"):
        Conv2D(np.zeros((3, 3, 4), np.float32))
    with pytest.raises(TypeError, match="float32 or float64"):
        Conv2D(np.zeros((3, 3, 4, 8), np.float16))
    with pytest.raises(TypeError, match="float16, float32 or float64"):
        Conv2D(np.zeros((3, 3, 4, 8), np.int32))
    layer = Conv2D(np.zeros((3, 3, 4, 8), np.float32))
    with pytest.raises(TypeError, match="float64 but this Conv2D computes in float32"):
        layer(np.zeros((1, 5, 5, 4)))
    with pytest.raises(ValueError, match="multiple of the filters' in_channels"):
        layer(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match="3-D|4-D|dimensions"):
        layer(np.zeros((5, 5, 4), np.float32))
    with pytest.raises(TypeError):
        layer(np.zeros((1, 5, 5, 4), np.float32), np.zeros(8))  # out= is keyword-only


def test_groups_follow_the_input(rng):
    """As conv2d: groups = input channels / filters.shape[2], per call; one pack each."""
    f = rng.standard_normal((3, 3, 4, 16)).astype(np.float32)
    layer = Conv2D(f, algorithm="im2col")
    for c in (4, 8, 16):
        x = rng.standard_normal((1, 6, 6, c)).astype(np.float32)
        np.testing.assert_array_equal(layer(x), fastconv.conv2d(x, f, algorithm="im2col"))


def test_threads(rng):
    """Calls from several Python threads at once (the first ones pack concurrently)."""
    f = rng.standard_normal((3, 3, 16, 32)).astype(np.float32)
    layers = [Conv2D(f, padding="SAME", algorithm=a) for a in ("auto", "im2col", "winograd")]
    inputs = [rng.standard_normal((n, 6 + n, 9, 16)).astype(np.float32) for n in range(1, 5)]
    expected = {
        (i, j): fastconv.conv2d(x, f, padding="SAME", algorithm=layer.algorithm_for(x))
        for i, layer in enumerate(layers)
        for j, x in enumerate(inputs)
    }
    failures = []
    barrier = threading.Barrier(6)

    def work(seed):
        barrier.wait()
        order = np.random.default_rng(seed).permutation(len(expected) * 3)
        for k in order:
            i, j = list(expected)[k % len(expected)]
            if not np.array_equal(layers[i](inputs[j]), expected[i, j]):
                failures.append((i, j))

    threads = [threading.Thread(target=work, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_pickle_and_repr(rng):
    f = rng.standard_normal((3, 3, 8, 16))
    layer = Conv2D(f, 2, "SAME", bias=np.ones(16), activation="relu", dilations=1)
    x = rng.standard_normal((2, 9, 9, 8))
    y = layer(x)
    clone = pickle.loads(pickle.dumps(layer))
    np.testing.assert_array_equal(clone(x), y)
    assert repr(clone) == repr(layer)
    assert repr(layer) == (
        "Conv2D(filters=(3, 3, 8, 16) HWIO float64, strides=2, "
        "padding='SAME', data_format='NHWC', activation='relu', bias=(16,))"
    )
    assert (layer.strides, layer.padding, layer.activation, layer.algorithm, layer.dtype) == (
        2,
        "SAME",
        "relu",
        "auto",
        np.float64,
    )
    with pytest.raises(AttributeError):
        layer.strides = 1


def test_isa_switch(rng, isa):
    """Weights packed under one ISA are not read by another's kernels: a layer made and
    first called with the best ISA gives conv2d's bits with each ISA."""
    f = rng.standard_normal((3, 3, 16, 32)).astype(np.float32)
    x = rng.standard_normal((1, 10, 10, 16)).astype(np.float32)
    best = fastconv._core.isa_names()[-1]
    layers = {}
    fastconv._core.set_isa(best)
    for algorithm in ("im2col", "winograd"):
        layers[algorithm] = Conv2D(f, padding="SAME", algorithm=algorithm)
        layers[algorithm](x)
    fastconv._core.set_isa(isa)
    for algorithm, layer in layers.items():
        np.testing.assert_array_equal(
            layer(x), fastconv.conv2d(x, f, padding="SAME", algorithm=algorithm)
        )


@pytest.mark.parametrize("algorithm", ["im2col", "winograd", "auto"])
def test_nonfinite_filters(rng, algorithm):
    """An Inf weight: the packed GEMM panels report it, and the call runs the direct kernel,
    as conv2d's per-call packing does (docs/non-finite.md)."""
    f = rng.standard_normal((3, 3, 16, 16)).astype(np.float32)
    f[1, 1, 3, 5] = np.inf
    f[0, 2, 7, 9] = np.nan
    x = rng.standard_normal((1, 12, 12, 16)).astype(np.float32)
    layer = Conv2D(f, padding="SAME", algorithm=algorithm)
    for _ in range(2):
        np.testing.assert_array_equal(
            layer(x), fastconv.conv2d(x, f, padding="SAME", algorithm=layer.algorithm_for(x))
        )


@pytest.mark.parametrize(
    "shape, window, conv2d_picks, layer_picks",
    [
        ((1, 7, 7, 32), (3, 3, 32, 32), "direct", "winograd"),  # 16 tiles: r50-3x3-7's shape
        ((1, 9, 9, 32), (1, 1, 32, 64), "direct", "im2col"),  # few pixels, no packing cost
        ((1, 28, 28, 32), (3, 3, 32, 32), "winograd", "winograd"),
        ((2, 28, 28, 3), (5, 5, 3, 32), "direct", "direct"),  # a first layer: nothing to pack
    ],
)
def test_auto_for_packed_weights(rng, shape, window, conv2d_picks, layer_picks):
    """ "auto" with weights packed once drops the packing costs from conv2d's rule; the
    layer then runs its choice explicitly (conv2d's bits for that algorithm)."""
    x = rng.standard_normal(shape).astype(np.float32)
    f = rng.standard_normal(window).astype(np.float32)
    layer = Conv2D(f, padding="SAME")
    assert fastconv.conv2d_algorithm(x, f, 1, "SAME") == conv2d_picks
    assert layer.algorithm_for(x) == layer_picks
    np.testing.assert_array_equal(layer(x), fastconv.conv2d(x, f, 1, "SAME", algorithm=layer_picks))


def test_empty_result(rng):
    layer = Conv2D(rng.standard_normal((3, 3, 4, 8)).astype(np.float32), algorithm="im2col")
    assert layer(np.zeros((0, 5, 5, 4), np.float32)).shape == (0, 3, 3, 8)
