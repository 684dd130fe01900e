"""Shared fixtures. TensorFlow is imported once here, quietly, before any test module."""

import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # must be set before TensorFlow is imported

import zlib

import numpy as np
import pytest
import tensorflow as tf

import fastconv


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
