"""The gradient ops of fastconv.dask, and the convention keywords of every op, on Dask's
threaded scheduler: against the whole-array call (and TensorFlow), the input-gradient
tiling against a whole 1-D axis, laziness, chunks and errors.
(tests/test_dask_cluster.py runs a gradient op on a distributed LocalCluster.)"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastconv
import fastconv.dask as fdask
from dask_cases import Case
from dask_grad_cases import Chunked, GradCase, random_grad_cases
from fastconv import _geometry, _tiling
from fastconv.testing import assert_allclose, reduction_length


@pytest.fixture(autouse=True)
def threaded_scheduler():
    with dask.config.set(scheduler="threads"):
        yield


def test_same_functions_and_arguments_as_numpy():
    """Every array op of fastconv is in fastconv.dask, with the NumPy function's parameters
    (names, kinds, defaults): no convention keyword is left behind. Not there: the layer,
    the thread and algorithm queries, and max_pool_with_argmax (its indices are positions
    in the whole array)."""
    import inspect

    left_out = {"__version__", "reference", "testing", "Conv2D", "conv2d_algorithm"}
    left_out |= {"get_num_threads", "set_num_threads", "max_pool_with_argmax"}
    assert set(fdask.__all__) == set(fastconv.__all__) - left_out
    for name in fdask.__all__:
        numpy_params, dask_params = (
            [(p.name, p.kind, p.default) for p in inspect.signature(f).parameters.values()]
            for f in (getattr(fastconv, name), getattr(fdask, name))
        )
        assert dask_params == numpy_params, name


def test_seeded_gradient_sweep_equals_whole_array(rng):
    """Every gradient op: random shapes, chunkings (1-cell chunks, chunks smaller than the
    halo), odd strides, dilations, every padding spelling, NHWC and NCHW, HWIO and OIHW
    filters, groups, float32 and float64, the bias gradient, conv2d_transpose's bias,
    activation and output_padding."""
    cases = random_grad_cases(rng, 8)
    results = dask.compute(*[case.dask() for case in cases])
    for case, result in zip(cases, results):
        case.check(result)


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_strided_input_gradient_on_small_spatial_chunks(rng, data_format):
    """Stride 3, a dilated 5x4 filter (halo of 4 gradient rows), chunks of 1 and 2 cells:
    the tiles merge until each holds its halo, and still cover the array."""
    x_shape = (2, 31, 26, 4) if data_format == "NHWC" else (2, 4, 31, 26)
    f = rng.standard_normal((5, 4, 2, 6)).astype(np.float32)  # 2 groups
    y = fastconv.conv2d(np.zeros(x_shape, np.float32), f, 3, "SAME", data_format, (2, 1))
    dy = rng.standard_normal(y.shape).astype(np.float32)
    chunks = (1, 1, 2, 6) if data_format == "NHWC" else (1, 6, 1, 2)
    case = GradCase(
        "conv2d_backprop_input",
        (x_shape, f, Chunked(dy, chunks), 3, "SAME"),
        {"data_format": data_format, "dilations": (2, 1)},
        reduction_length("conv2d_backprop_input", f, groups=2),
    )
    result = case.dask()
    _, h_ax, w_ax, _ = _geometry.nhwc_axes(data_format)
    assert len(result.chunks[h_ax]) > 1 and len(result.chunks[w_ax]) > 1
    case.check(result.compute())


def test_filter_gradient_is_a_tree_sum_of_tiles(rng):
    """One partial dW (and db) per tile, added by Dask's reduction; explicit padding,
    stride 2, NCHW, OIHW sizes."""
    x = rng.standard_normal((3, 4, 22, 19))
    f_shape = (6, 4, 3, 3)  # OIHW
    y = fastconv.conv2d(x, np.zeros(f_shape), 2, [[2, 0], [1, 1]], "NCHW", filter_format="OIHW")
    dy = rng.standard_normal(y.shape)
    case = GradCase(
        "conv2d_backprop_filter",
        (Chunked(x, (1, 4, 5, 6)), f_shape, Chunked(dy, (3, 6, 11, 10)), 2, [[2, 0], [1, 1]]),
        {"data_format": "NCHW", "filter_format": "OIHW", "return_bias_grad": True},
        reduction_length("conv2d_backprop_filter", out_backprop=dy, data_format="NCHW"),
    )
    dw, db = case.dask()
    assert dw.shape == f_shape and db.shape == (6,)
    graph = dict(dw.dask)
    tiles = [k for k in graph if isinstance(k, tuple) and "backprop_filter" in k[0]]
    # one partial sum per tile: 3 images x 4 row tiles (22 rows cut at 6, 10, 16; the cut
    # at 20 would leave the last tile no output row) x 3 column tiles (cut at 7 and 13)
    assert len(tiles) == 3 * 4 * 3
    assert dw.npartitions == 1 and any("sum" in name for name in dw.dask.layers)
    case.check(dask.compute(dw, db))


def test_gradients_agree_with_tensorflow(rng, tf_nn):
    """The tiled gradients against the peer itself (TF's gradient tape), not only fastconv."""
    import tensorflow as tf

    x = rng.standard_normal((2, 27, 23, 3)).astype(np.float32)
    f = rng.standard_normal((5, 3, 3, 4)).astype(np.float32)
    xt, ft = tf.constant(x), tf.constant(f)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([xt, ft])
        y = tf_nn.conv2d(xt, ft, 2, "SAME")
        p = tf_nn.max_pool2d(y, 3, 2, "SAME")
    dp = rng.standard_normal(p.shape).astype(np.float32)
    dy = tape.gradient(p, y, output_gradients=dp).numpy()
    dx, dw = tape.gradient(y, [xt, ft], output_gradients=dy)
    x_d = da.from_array(x, chunks=(1, 7, 6, 3))
    dy_d = da.from_array(dy, chunks=(1, 4, 3, 4))
    got_dy = fdask.max_pool2d_grad(
        da.from_array(y.numpy(), chunks=(1, 5, 4, 4)),
        da.from_array(p.numpy(), chunks=(1, 3, 2, 4)),
        da.from_array(dp, chunks=(1, 3, 2, 4)),
        3,
        2,
        "SAME",
    )
    np.testing.assert_array_equal(got_dy.compute(), dy)
    got_dx = fdask.conv2d_backprop_input(x.shape, f, dy_d, 2, "SAME").compute()
    assert_allclose(got_dx, dx.numpy(), reduction=5 * 3 * 4, dtype=np.float32)
    got_dw = fdask.conv2d_backprop_filter(x_d, f.shape, dy_d, 2, "SAME").compute()
    assert_allclose(got_dw, dw.numpy(), reduction=2 * 14 * 12, dtype=np.float32)


@pytest.mark.parametrize(
    "op, padding, kwargs",
    [
        ("conv2d", 1, {"filter_format": "OIHW"}),
        ("conv2d", "NOTSET", {"pads": [2, 0, 1, 3]}),
        ("depthwise_conv2d", "NOTSET", {"filter_format": "OIHW", "pads": [0, 1, 2, 1]}),
        ("max_pool2d", [[1, 0], [0, 1]], {"dilations": 2, "ceil_mode": True}),
        ("avg_pool2d", (1, 0), {"ceil_mode": True, "count_include_pad": True}),
        ("avg_pool2d", "NOTSET", {"dilations": (1, 2), "count_include_pad": True, "pads": [1] * 4}),
    ],
)
def test_convention_keywords_pass_through(rng, op, padding, kwargs):
    """The keywords beyond TF's, each on spatial chunks, bit for bit (the seeded sweep
    draws them too): PyTorch's int padding, ONNX pads= with NOTSET, OIHW filters (grouped
    and depthwise), pooling dilation, ceil_mode and count_include_pad."""
    x = rng.standard_normal((2, 19, 17, 4)).astype(np.float32)
    if op == "conv2d":
        shape = (6, 2, 3, 3) if "filter_format" in kwargs else (3, 3, 2, 6)  # 2 groups
        args = (rng.standard_normal(shape).astype(np.float32), 2, padding, "NHWC", 1)
        kwargs = {**kwargs, "algorithm": "direct"}
    elif op == "depthwise_conv2d":
        args = (rng.standard_normal((8, 1, 3, 2)).astype(np.float32), 1, padding, "NHWC", 2)
    else:
        args = ((3, 2), (2, 3), padding, "NHWC")
    case = Case(op, x, (1, 4, 3, 2), args, kwargs)
    assert len(case.dask().chunks[1]) > 1
    case.check(case.dask().compute())


def test_padding_spellings_of_an_input_gradient(rng):
    """SAME_LOWER, PyTorch's int and (h, w), and ONNX's pads give the whole-array result."""
    f = rng.standard_normal((4, 3, 3, 2)).astype(np.float64)
    sizes = (1, 20, 17, 3)
    for padding, kwargs in [
        ("SAME_LOWER", {}),
        (2, {}),
        ((1, 3), {}),
        ("NOTSET", {"pads": [3, 0, 1, 2]}),
    ]:
        y = fastconv.conv2d(np.zeros(sizes), f, (2, 3), padding, **kwargs)
        dy = rng.standard_normal(y.shape)
        case = GradCase(
            "conv2d_backprop_input",
            (sizes, f, Chunked(dy, (1, 3, 2, 2)), (2, 3), padding),
            kwargs,
            reduction_length("conv2d_backprop_input", f),
        )
        case.check(case.dask().compute())


def test_lazy_with_known_chunks(rng):
    """Building the graphs computes nothing; the chunks are known and are those of the
    blocks computed."""
    calls = []

    def source(block):
        calls.append(block.shape)
        return block

    def lazy(a, chunks):
        meta = np.empty((0,) * 4, a.dtype)
        return da.from_array(a, chunks=chunks).map_blocks(source, meta=meta)

    x = rng.standard_normal((2, 20, 18, 4)).astype(np.float32)
    f = rng.standard_normal((3, 3, 4, 5)).astype(np.float32)
    y = fastconv.conv2d(x, f, 2, "SAME")
    p = fastconv.avg_pool2d(x, 3, 2, "SAME")
    results = [
        fdask.conv2d_backprop_input(x.shape, f, lazy(y, (1, 4, 3, 5)), 2, "SAME"),
        fdask.conv2d_transpose(lazy(y, (1, 4, 3, 5)), f, x.shape, 2, "SAME"),
        fdask.avg_pool2d_grad(x.shape, lazy(p, (1, 4, 4, 2)), 3, 2, "SAME"),
        fdask.max_pool2d_grad(lazy(x, (2, 6, 5, 2)), lazy(p, (2, 4, 4, 2)), p, 3, 2, "SAME"),
        fdask.conv2d_backprop_filter(lazy(x, (1, 7, 6, 4)), f.shape, y, 2, "SAME"),
    ]
    assert calls == []
    for result in results:
        assert not any(np.isnan(c) for axis in result.chunks for c in axis)
        blocks = dask.compute(*result.to_delayed().ravel())
        expected = [
            tuple(sizes)
            for sizes in np.array(np.meshgrid(*result.chunks, indexing="ij"))
            .reshape(result.ndim, -1)
            .T
        ]
        assert [b.shape for b in blocks] == expected
    # SAME 3x3 stride 2 on 20 rows pads 0 on top (TF): tiles start on even rows
    starts = np.cumsum((0,) + results[0].chunks[1][:-1])
    assert len(starts) > 1 and all(s % 2 == 0 for s in starts)


def test_batch_chunks_run_as_map_blocks(rng):
    x = rng.standard_normal((4, 10, 10, 3)).astype(np.float32)
    f = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    dy = rng.standard_normal((4, 10, 10, 4)).astype(np.float32)
    dx = fdask.conv2d_backprop_input(
        x.shape, f, da.from_array(dy, chunks=(1, 10, 10, 2)), 1, "SAME"
    )
    assert not any("overlap" in name for name in dx.dask.layers)
    assert dx.chunks[3] == (3,)  # channels: one chunk
    np.testing.assert_array_equal(
        dx.compute(), fastconv.conv2d_backprop_input(x.shape, f, dy, 1, "SAME")
    )
    g = da.from_array(rng.standard_normal((4, 5, 5, 3)), chunks=(2, 5, 5, 1))
    assert fdask.avg_pool2d_grad(x.shape, g, 2, 2, "SAME").chunks[3] == (1, 1, 1)


def test_inputs_not_modified(rng):
    x = rng.standard_normal((1, 12, 11, 2)).astype(np.float32)
    f = rng.standard_normal((3, 3, 2, 2)).astype(np.float32)
    dy = rng.standard_normal((1, 12, 11, 2)).astype(np.float32)
    b = rng.standard_normal(2).astype(np.float32)
    copies = [a.copy() for a in (x, f, dy, b)]
    x_d, dy_d = da.from_array(x, chunks=(1, 3, 4, 1)), da.from_array(dy, chunks=(1, 4, 3, 2))
    dask.compute(
        fdask.conv2d_backprop_input(x.shape, f, dy_d, 1, "SAME"),
        fdask.conv2d_backprop_filter(x_d, f.shape, dy_d, 1, "SAME", return_bias_grad=True),
        fdask.conv2d_transpose(dy_d, f, x.shape, 1, "SAME", bias=b, activation="relu"),
        fdask.max_pool2d_grad(x_d, x_d, dy_d[..., :2], 3, 1, "SAME"),
    )
    for a, before in zip((x, f, dy, b), copies):
        np.testing.assert_array_equal(a, before)


def test_errors_name_the_argument(rng):
    x = da.zeros((1, 8, 8, 3), chunks=4, dtype=np.float32)
    dy = da.zeros((1, 8, 8, 2), chunks=4, dtype=np.float32)
    f = np.zeros((3, 3, 3, 2), np.float32)
    with pytest.raises(TypeError, match="out= is not supported on Dask arrays"):
        fdask.conv2d_backprop_input(x.shape, f, dy, 1, "SAME", out=np.zeros(x.shape))
    with pytest.raises(TypeError, match="out= is not supported on Dask arrays"):
        fdask.conv2d_backprop_filter(x, f.shape, dy, 1, "SAME", out=np.zeros(f.shape))
    with pytest.raises(TypeError, match="filters must be a NumPy array"):
        fdask.conv2d_backprop_input(x.shape, da.from_array(f), dy, 1, "SAME")
    with pytest.raises(TypeError, match="bias must be a NumPy array"):
        fdask.conv2d_transpose(dy, f, x.shape, 1, "SAME", bias=da.zeros(3))
    with pytest.raises(ValueError, match="out_backprop"):
        fdask.conv2d_backprop_input(x.shape, f, dy, 2, "SAME")  # dy of stride 1's shape
    with pytest.raises(ValueError, match="out_backprop"):
        fdask.conv2d_backprop_filter(x, f.shape, dy[:, :7], 1, "SAME")
    with pytest.raises(ValueError, match="grad"):
        fdask.avg_pool2d_grad(x.shape, x, 2, 2, "SAME")
    with pytest.raises(TypeError, match="input_sizes must be a sequence of 4 integers"):
        fdask.avg_pool2d_grad("1883", x, 2, 2, "SAME")
    with pytest.raises(TypeError, match="out_backprop must be float16, float32 or float64"):
        fdask.conv2d_backprop_input(x.shape, f, dy.astype(np.int32), 1, "SAME")
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        fdask.max_pool2d_grad(x[x[:, 0, 0, 0] > 0], x, x, 1, 1, "SAME")
    for op in (fastconv.conv2d_backprop_filter, fdask.conv2d_backprop_filter):
        with pytest.raises(TypeError, match="return_bias_grad must be a bool"):
            op(x.compute(), f.shape, dy.compute(), 1, "SAME", return_bias_grad="yes")
    with pytest.raises(NotImplementedError, match="return_argmax=True is not supported"):
        fdask.max_pool2d(x, 2, 2, return_argmax=True)
    with pytest.raises(ValueError, match="pads= .* goes with padding='NOTSET'"):
        fdask.conv2d(x, f, 1, "SAME", pads=[1, 1, 1, 1])
    with pytest.raises(ValueError, match="ceil_mode=True needs explicit padding or VALID"):
        fdask.avg_pool2d(x, 2, 2, "SAME", ceil_mode=True)
    with pytest.raises(ValueError, match="filter_format must be 'HWIO' or 'OIHW'"):
        fdask.depthwise_conv2d_backprop_input(x.shape, f, dy, 1, "SAME", filter_format="IOHW")


# ---- the input-gradient tiling, against a whole 1-D axis ----


def _adjoint_1d(dy, weights, stride, dilation, before, size):
    """dx[i] = sum of weights[t] * dy[o] over o * stride + t * dilation - before == i: the
    gradient of a 1-D sliding window (integers: exact)."""
    dx = np.zeros(size, np.int64)
    for o, g in enumerate(dy):
        for t, w in enumerate(weights):
            i = o * stride + t * dilation - before
            if 0 <= i < size:
                dx[i] += int(w) * int(g)
    return dx


@given(st.data())
def test_tile_axis_back_tiles_compute_the_whole_gradient(data):
    """Each input-gradient tile, computed on its gradient cells plus those of the windows
    before its own, over the input extent it reads with its own padding, keeps exactly its
    part of the whole axis' gradient; every tile holds the halos Dask takes from it."""
    size = data.draw(st.integers(1, 40))
    k, stride, dilation = (
        data.draw(st.integers(1, 6)),
        data.draw(st.integers(1, 4)),
        data.draw(st.integers(1, 3)),
    )
    padding = data.draw(st.sampled_from(["SAME", "SAME_LOWER", "VALID", "explicit"]))
    if padding == "explicit":
        padding = (data.draw(st.integers(0, 7)), data.draw(st.integers(0, 7)))
    out, before, after = _geometry.output_size(size, k, stride, dilation, padding)
    if out < 1:
        return
    cuts = sorted(data.draw(st.sets(st.integers(1, out - 1), max_size=6))) if out > 1 else []
    chunks = [b - a for a, b in zip([0, *cuts], [*cuts, out])]  # chunks of the gradient
    tiles = _tiling.tile_axis(
        size, chunks, k, stride, dilation, before, after, out, back=True, chunks_of="output"
    )
    assert sum(tiles.in_chunks) == size and sum(tiles.out_chunks) == out
    if len(tiles.in_chunks) > 1:
        assert min(tiles.in_chunks) >= max(max(tiles.depth("input")), 1)
        assert min(tiles.out_chunks) >= max(max(tiles.depth("output")), 1)
    rng = np.random.default_rng(size * 1000 + k)
    dy = rng.integers(-9, 10, out)
    weights = rng.integers(-9, 10, k)
    whole = _adjoint_1d(dy, weights, stride, dilation, before, size)
    parts, start, first = [], 0, 0
    for j, length in enumerate(tiles.in_chunks):
        low, high = tiles.reach(j)
        back = tiles.back if j > 0 else 0
        pad = tiles.pads(j)
        extent = low + length + high
        g = dy[first - back : first + tiles.out_chunks[j]]
        assert _geometry.output_size(extent, k, stride, dilation, pad)[0] == len(g)
        parts.append(_adjoint_1d(g, weights, stride, dilation, pad[0], extent)[low : low + length])
        start += length
        first += tiles.out_chunks[j]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_empty_batch_and_zero_size_outputs(rng):
    """No images, or a forward output of 0 rows: the gradients are the whole-array ones
    (zeros of the input's shape, a zero filter gradient)."""
    f = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)
    for x_shape in [(0, 8, 8, 2), (2, 2, 8, 2)]:
        x = rng.standard_normal(x_shape).astype(np.float32)
        dy = rng.standard_normal(fastconv.conv2d(x, f, 2, "VALID").shape).astype(np.float32)
        for case in [
            GradCase("conv2d_backprop_input", (x_shape, f, Chunked(dy, (1, 1, 2, 4)), 2, "VALID")),
            GradCase("conv2d_transpose", (Chunked(dy, (1, 1, 2, 4)), f, x_shape, 2, "VALID")),
            GradCase(
                "conv2d_backprop_filter",
                (Chunked(x, (1, 1, 3, 2)), f.shape, Chunked(dy, 1), 2, "VALID"),
                {"return_bias_grad": True},
            ),
        ]:
            case.check(dask.compute(case.dask())[0])


@pytest.mark.parametrize("dask_threads", [1, 3])
def test_gradient_tasks_share_the_cpus(rng, monkeypatch, dask_threads):
    """A gradient's tasks, like the forward ops', use cpus // Dask threads OpenMP threads."""
    from fastconv import conv_backprop_filter

    seen = []
    real = conv_backprop_filter.conv2d_backprop_filter

    def recording(*args, **kwargs):
        seen.append(fastconv.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(conv_backprop_filter, "conv2d_backprop_filter", recording)
    x = da.from_array(rng.standard_normal((4, 12, 12, 3)).astype(np.float32), chunks=(1, 6, 12, 3))
    dy = rng.standard_normal((4, 12, 12, 2)).astype(np.float32)
    fdask.conv2d_backprop_filter(x, (3, 3, 3, 2), dy, 1, "SAME").compute(num_workers=dask_threads)
    default = fastconv.get_num_threads()
    cpus = fastconv._threads.cpus_available()
    assert len(seen) == 8 and set(seen) == {min(default, max(1, cpus // dask_threads))}
