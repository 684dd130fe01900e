"""One pytest-benchmark per (layer, library) of the suite `fastconv bench` runs, grouped per
layer so that `--benchmark-group-by=group` prints fastconv beside TensorFlow and PyTorch."""

from __future__ import annotations

import functools

import pytest

from fastconv.bench import libraries as L
from fastconv.bench import runners as R
from fastconv.bench.suite import LAYERS
from fastconv.bench.timing import warm_up

LIBRARIES = ("fastconv", *L.PEERS)


@functools.lru_cache(maxsize=1)  # the libraries of one layer run one after another
def _data(layer, dtype):
    return R.make_data(layer, dtype)


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.name)
def test_layer(benchmark, bench_config, layer, library):
    if library in L.MISSING:
        pytest.skip(L.MISSING[library])
    peers = () if library == "fastconv" else (library,)
    runners, failures = R.make_runners(
        _data(layer, bench_config["dtype"]), peers=peers, threads=bench_config["threads"]
    )
    runner = next((r for r in runners if r.library == library), None)
    if runner is None:
        pytest.skip(failures.get(library, f"{library} cannot run {layer.name}"))

    benchmark.group = layer.name
    benchmark.extra_info.update(
        library=library,
        op=layer.op,
        flops=layer.flops,
        threads=bench_config["threads"],
        note=runner.note,
    )
    runner.result()  # the first call: tf.function traces here, outside the timing
    warm_up(runner.call, 0.05)
    benchmark(runner.call)
