"""fastconv.dask on Dask's threaded scheduler: every option against the whole-array call, the
tiling arithmetic, laziness and chunks, errors, and the CPU sharing between Dask threads.
(tests/test_dask_cluster.py runs a seeded sweep on a distributed LocalCluster.)"""

from __future__ import annotations

import threading

import dask
import dask.array as da
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastconv
import fastconv.dask as fdask
from dask_cases import Case, random_cases
from fastconv import _geometry, _tiling
from tolerance import assert_close


@pytest.fixture(autouse=True)
def threaded_scheduler():
    with dask.config.set(scheduler="threads"):
        yield


def test_seeded_sweep_equals_whole_array(rng, isa):
    """Random ops, shapes, chunkings (chunks of 1 cell, smaller than the halo), strides,
    dilations, paddings, layouts, dtypes, groups, bias and activations; on each instruction
    set (tiles start at other columns than the whole array: a kernel whose rounding depended
    on the vector lane or remainder loop would show it)."""
    for case in random_cases(rng, 10):
        case.check(case.dask().compute())


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("algorithm", ["direct", "im2col", "auto"])
def test_conv2d_options_bit_identical(rng, data_format, algorithm):
    x = rng.standard_normal((2, 23, 31, 6)).astype(np.float32)
    f = rng.standard_normal((4, 3, 3, 8)).astype(np.float32)  # 2 groups
    b = rng.standard_normal(8).astype(np.float32)
    if data_format == "NCHW":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    chunks = (1, 5, 7, 2) if data_format == "NHWC" else (1, 2, 5, 7)
    for strides, padding, dilations in [
        (1, "SAME", 1),
        ((2, 3), "SAME", (2, 1)),
        (3, "VALID", 2),
        (1, [[4, 0], [1, 5]], 1),
    ]:
        case = Case(
            "conv2d",
            x,
            chunks,
            (f, strides, padding, data_format, dilations),
            {"bias": b, "activation": "relu6", "algorithm": algorithm},
        )
        case.check(case.dask().compute())


def test_winograd_within_tolerance(rng):
    """Winograd's rounding depends on where its 2x2 output tiles fall, so chunks that start
    on an odd row agree within the tolerance rather than bit for bit."""
    x = rng.standard_normal((1, 33, 27, 16)).astype(np.float32)
    f = rng.standard_normal((3, 3, 16, 16)).astype(np.float32)
    case = Case(
        "conv2d", x, (1, 7, 9, 16), (f, 1, "SAME"), {"algorithm": "winograd"}, reduction=3 * 3 * 16
    )
    assert not case.exact
    case.check(case.dask().compute())


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
def test_pools_at_padded_edges(rng, op):
    """The edge tiles pass the array's padding on: max never takes a padding cell (all
    negative inputs), avg counts only real cells, NaN propagates, explicit padding works."""
    x = -np.abs(rng.standard_normal((2, 17, 13, 3))).astype(np.float64)
    x[0, 5, 6, 1] = np.nan
    for ksize, strides, padding in [
        (3, 2, "SAME"),
        (4, 3, "SAME"),
        ((2, 5), 1, "SAME"),
        (3, 2, [[2, 1], [0, 2]]),
        (2, 2, "VALID"),
    ]:
        case = Case(op, x, (1, 3, 4, 2), (ksize, strides, padding, "NHWC"))
        case.check(case.dask().compute())


def test_depthwise_multiplier_dilation_stride(rng):
    x = rng.standard_normal((1, 3, 29, 22)).astype(np.float32)  # NCHW
    f = rng.standard_normal((3, 5, 3, 2)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    case = Case(
        "depthwise_conv2d",
        x,
        (1, 1, 4, 3),
        (f, 2, "SAME", "NCHW", 2),
        {"bias": b, "activation": "sigmoid"},
    )
    case.check(case.dask().compute())


def test_agrees_with_tensorflow(rng, tf_nn):
    """The tiled result against the peer itself, not only against fastconv."""
    x = rng.standard_normal((2, 40, 36, 3)).astype(np.float32)
    f = rng.standard_normal((5, 5, 3, 8)).astype(np.float32)
    y = fdask.conv2d(da.from_array(x, chunks=(1, 9, 11, 3)), f, 2, "SAME").compute()
    assert_close(y, tf_nn.conv2d(x, f, 2, "SAME").numpy(), 5 * 5 * 3, np.float32)
    p = fdask.max_pool2d(da.from_array(y, chunks=(2, 5, 5, 8)), 3, 2, "SAME").compute()
    np.testing.assert_array_equal(p, tf_nn.max_pool2d(y, 3, 2, "SAME").numpy())


def test_lazy_with_known_chunks(rng):
    """Building the graph computes nothing; the result's chunks are known and are those of
    the blocks it computes."""
    calls = []

    def source(block):
        calls.append(block.shape)
        return block

    x = da.from_array(
        rng.standard_normal((3, 20, 18, 4)).astype(np.float32), chunks=(2, 6, 5, 4)
    ).map_blocks(source, meta=np.empty((0,) * 4, np.float32))
    f = rng.standard_normal((3, 3, 4, 5)).astype(np.float32)
    y = fdask.conv2d(x, f, 2, "SAME")
    p = fdask.avg_pool2d(y, 2, 2, "SAME")
    assert calls == []
    for result in (y, p):
        assert not any(np.isnan(c) for axis in result.chunks for c in axis)
        blocks = dask.compute(*result.to_delayed().ravel())
        expected = [
            tuple(sizes)
            for sizes in np.array(np.meshgrid(*result.chunks, indexing="ij")).reshape(4, -1).T
        ]
        assert [b.shape for b in blocks] == expected


def test_batch_chunks_map_blocks_spatial_chunks_overlap(rng):
    """Chunks along the batch only run as map_blocks; height/width chunks share a halo."""
    x = rng.standard_normal((4, 12, 12, 3)).astype(np.float32)
    f = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    by_batch = fdask.conv2d(da.from_array(x, chunks=(1, 12, 12, 3)), f, 1, "SAME")
    by_rows = fdask.conv2d(da.from_array(x, chunks=(1, 5, 12, 3)), f, 1, "SAME")
    assert not any("overlap" in name for name in by_batch.dask.layers)
    assert any("overlap" in name for name in by_rows.dask.layers)
    np.testing.assert_array_equal(by_batch.compute(), by_rows.compute())


def test_channel_chunks(rng):
    """Convolutions rechunk the channels to one chunk; the pools keep theirs."""
    x = da.from_array(rng.standard_normal((2, 9, 9, 6)).astype(np.float32), chunks=(1, 9, 9, 2))
    y = fdask.conv2d(x, rng.standard_normal((3, 3, 6, 5)).astype(np.float32), 1, "SAME")
    assert y.chunks[3] == (5,)
    assert fdask.max_pool2d(x, 3, 1, "SAME").chunks[3] == (2, 2, 2)


def test_empty_and_zero_size_outputs(rng):
    x = rng.standard_normal((0, 8, 8, 3)).astype(np.float32)
    f = rng.standard_normal((3, 3, 3, 2)).astype(np.float32)
    case = Case("conv2d", x, (1, 4, 4, 3), (f, 1, "SAME"), {"algorithm": "auto"})
    case.check(case.dask().compute())
    x = rng.standard_normal((1, 2, 8, 3)).astype(np.float32)  # output height exactly 0
    case = Case("max_pool2d", x, (1, 1, 3, 3), (3, 2, "VALID"))
    assert case.dask().shape == (1, 0, 3, 3)
    case.check(case.dask().compute())


def test_inputs_not_modified(rng):
    x = rng.standard_normal((1, 10, 10, 2)).astype(np.float32)
    f = rng.standard_normal((3, 3, 2, 2)).astype(np.float32)
    b = rng.standard_normal(2).astype(np.float32)
    copies = [a.copy() for a in (x, f, b)]
    fdask.conv2d(
        da.from_array(x, chunks=(1, 3, 4, 2)), f, 1, "SAME", bias=b, activation="relu"
    ).compute()
    fdask.avg_pool2d(da.from_array(x, chunks=(1, 3, 4, 1)), 3, 1, "SAME").compute()
    for a, before in zip((x, f, b), copies):
        np.testing.assert_array_equal(a, before)


def test_numpy_input_is_one_chunk(rng):
    x = rng.standard_normal((2, 8, 8, 3)).astype(np.float32)
    y = fdask.max_pool2d(x, 2, 2)
    assert isinstance(y, da.Array)
    np.testing.assert_array_equal(y.compute(), fastconv.max_pool2d(x, 2, 2))


def test_errors_name_the_argument(rng):
    x = da.zeros((1, 8, 8, 3), chunks=4, dtype=np.float32)
    f = np.zeros((3, 3, 3, 2), np.float32)
    with pytest.raises(TypeError, match="input must be float16, float32 or float64"):
        fdask.conv2d(da.zeros((1, 8, 8, 3), dtype=np.int32), f)
    with pytest.raises(ValueError, match="input channels"):
        fdask.conv2d(x, np.zeros((3, 3, 2, 2), np.float32))
    with pytest.raises(ValueError, match="window does not fit"):
        fdask.max_pool2d(x, 10, 1)
    with pytest.raises(TypeError, match="out= is not supported on Dask arrays"):
        fdask.avg_pool2d(x, 2, 2, out=np.zeros((1, 4, 4, 3), np.float32))
    with pytest.raises(TypeError, match="filters must be a NumPy array"):
        fdask.conv2d(x, da.from_array(f))
    with pytest.raises(TypeError, match="bias must be a NumPy array"):
        fdask.depthwise_conv2d(x, f[..., :1], bias=da.zeros(3))
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        fdask.conv2d(x[x[:, 0, 0, 0] > 0], f)
    with pytest.raises(ValueError, match="algorithm must be one of"):
        fdask.conv2d(x, f, algorithm="fft")
    with pytest.raises(TypeError, match="name must be a string"):
        fdask.max_pool2d(x, 2, 2, "SAME", "NHWC", np.zeros(3))


def test_import_fastconv_does_not_import_dask():
    from run_script import run_python

    run_python(
        "import sys, fastconv\nassert 'dask' not in sys.modules, 'dask imported'", timeout=120
    )


# ---- the tiling arithmetic, against a 1-D sliding window computed whole ----


def _windows_1d(x, weights, stride, dilation, before, after):
    """Output o = sum_t weights[t] * padded[o * stride + t * dilation] (integers: exact)."""
    padded = np.concatenate([np.zeros(before, x.dtype), x, np.zeros(after, x.dtype)])
    eff = (len(weights) - 1) * dilation + 1
    out = (len(padded) - eff) // stride + 1
    return np.array(
        [
            sum(int(w) * int(padded[o * stride + t * dilation]) for t, w in enumerate(weights))
            for o in range(max(out, 0))
        ],
        dtype=np.int64,
    )


@given(st.data())
def test_tile_axis_tiles_compute_the_whole_axis(data):
    """Each tile, computed on its own cells plus the halo from the next tile with its own
    padding, gives exactly its part of the whole axis; tiles are at least the halo."""
    size = data.draw(st.integers(1, 40))
    k, stride, dilation = (
        data.draw(st.integers(1, 6)),
        data.draw(st.integers(1, 4)),
        data.draw(st.integers(1, 3)),
    )
    padding = data.draw(st.sampled_from(["SAME", "VALID", "explicit"]))
    if padding == "explicit":
        padding = (data.draw(st.integers(0, 7)), data.draw(st.integers(0, 7)))
    out, before, after = _geometry.output_size(size, k, stride, dilation, padding)
    if out < 0:
        return
    cuts = sorted(data.draw(st.sets(st.integers(1, size - 1), max_size=6))) if size > 1 else []
    chunks = [b - a for a, b in zip([0, *cuts], [*cuts, size])]
    tiles = _tiling.tile_axis(size, chunks, k, stride, dilation, before, after, out)
    assert sum(tiles.in_chunks) == size and sum(tiles.out_chunks) == out
    if len(tiles.in_chunks) > 1:
        assert min(tiles.in_chunks) >= max(tiles.halo, 1) and min(tiles.out_chunks) >= 1
    rng = np.random.default_rng(size * 1000 + k)
    x = rng.integers(-9, 10, size)
    weights = rng.integers(-9, 10, k)
    whole = _windows_1d(x, weights, stride, dilation, before, after)
    parts, start = [], 0
    for j, length in enumerate(tiles.in_chunks):
        last = j == len(tiles.in_chunks) - 1
        block = x[start : start + length + (0 if last else tiles.halo)]
        parts.append(_windows_1d(block, weights, stride, dilation, *tiles.pads(j)))
        assert len(parts[-1]) == tiles.out_chunks[j]
        start += length
    np.testing.assert_array_equal(np.concatenate(parts), whole)


# ---- CPU sharing between the threads of Dask's threaded scheduler ----


def _record_threads(monkeypatch):
    """Replace fastconv.conv2d, as fastconv.dask binds it, with one that records the thread
    count each task's call may use."""
    seen = []
    real = fastconv.conv.conv2d

    def recording(*args, **kwargs):
        seen.append(fastconv.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(fastconv.conv, "conv2d", recording)
    return seen


@pytest.mark.parametrize("dask_threads", [1, 2, 3, 8])
def test_threaded_scheduler_shares_the_cpus(rng, monkeypatch, dask_threads):
    """Each task uses cpus // Dask threads OpenMP threads (at least 1, at most what the
    thread had), never cpus x threads; the calling thread and fresh threads keep theirs."""
    seen = _record_threads(monkeypatch)
    default = fastconv.get_num_threads()
    x = da.from_array(rng.standard_normal((8, 12, 12, 3)).astype(np.float32), chunks=1)
    f = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    fdask.conv2d(x, f, 1, "SAME").compute(num_workers=dask_threads)
    cpus = fastconv._threads.cpus_available()
    assert seen and set(seen) == {min(default, max(1, cpus // dask_threads))}
    assert fastconv.get_num_threads() == default
    fresh = []
    worker = threading.Thread(target=lambda: fresh.append(fastconv.get_num_threads()))
    worker.start()
    worker.join()
    assert fresh == [default]


def test_synchronous_scheduler_keeps_the_thread_count(rng, monkeypatch):
    seen = _record_threads(monkeypatch)
    x = da.from_array(rng.standard_normal((2, 8, 8, 3)).astype(np.float32), chunks=1)
    fdask.conv2d(x, rng.standard_normal((3, 3, 3, 2)).astype(np.float32)).compute(scheduler="sync")
    assert set(seen) == {fastconv.get_num_threads()}


def test_thread_limit_is_per_thread_and_restored(restore_threads):
    """The per-thread limit neither caps other threads nor outlives its block."""
    from fastconv._threads import thread_limit

    default = fastconv.get_num_threads()
    with thread_limit(1):
        assert fastconv.get_num_threads() == 1
        other = []
        t = threading.Thread(target=lambda: other.append(fastconv.get_num_threads()))
        t.start()
        t.join()
        assert other == [default]
    assert fastconv.get_num_threads() == default
    with thread_limit(10**6):  # never above what the thread had
        assert fastconv.get_num_threads() == default
