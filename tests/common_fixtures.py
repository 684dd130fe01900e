"""Fixtures that need no TensorFlow: conftest.py imports them for the suite, and the
sanitizer job (tests/sanitize_run.py) loads this module alone as a pytest plugin, since
TensorFlow is not imported under the sanitizers' LD_PRELOAD."""

import zlib

import numpy as np
import pytest

import fastconv


@pytest.fixture
def rng(request):
    """A generator seeded from the test's id: reproducible, independent of test order."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture
def restore_threads():
    """Put fastconv's thread count back after a test that changes it."""
    before = fastconv.get_num_threads()
    yield before
    fastconv.set_num_threads(before)


@pytest.fixture(params=fastconv._core.isa_names())
def isa(request):
    """Run the test once per instruction set this CPU has (each has its own kernels)."""
    before = fastconv._core.get_isa()
    fastconv._core.set_isa(request.param)
    yield request.param
    fastconv._core.set_isa(before)
