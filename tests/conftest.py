"""Shared fixtures. TensorFlow is imported once here, quietly, before any test module."""

import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # must be set before TensorFlow is imported

import zlib

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, settings

import fastconv

# Hypothesis: modest example counts and no deadline (the 2-core CI budget; first calls into TF
# are slow). `pytest --hypothesis-profile=fuzz` runs many more examples for a local soak.
_HEALTH = [HealthCheck.filter_too_much, HealthCheck.too_slow]
settings.register_profile("ci", max_examples=100, deadline=None, suppress_health_check=_HEALTH)
settings.register_profile("fuzz", max_examples=3000, deadline=None, suppress_health_check=_HEALTH)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def tf_nn():
    """tf.nn, the peer every public function is checked against."""
    return tf.nn


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
