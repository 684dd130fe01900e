"""pytest-benchmark setup for the layer suite (not part of the default `pytest` run).

    pytest -n 0 benchmarks/ --benchmark-group-by=group [--bench-threads N] [--bench-dtype float64]

Thread counts are set once, before any benchmark runs: TensorFlow fixes its thread pools when
it initializes, so it is imported and configured here, at configure time.
"""

from __future__ import annotations

import pytest

from fastconv.bench import libraries as L
from fastconv.bench.cli import default_threads


def pytest_addoption(parser):
    group = parser.getgroup("fastconv bench")
    group.addoption(
        "--bench-threads",
        type=int,
        default=None,
        help="threads for every library (default: all cores)",
    )
    group.addoption("--bench-dtype", choices=("float32", "float64"), default="float32")


def pytest_configure(config):
    threads = config.getoption("--bench-threads") or default_threads()
    config.fastconv_bench = {"threads": threads, "dtype": config.getoption("--bench-dtype")}
    L.set_fastconv_threads(threads)
    L.load_tensorflow(threads)  # None when missing: those benchmarks skip, saying why
    L.load_torch(threads)


@pytest.fixture(scope="session")
def bench_config(pytestconfig):
    return pytestconfig.fastconv_bench
