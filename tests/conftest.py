"""Shared fixtures. TensorFlow is imported once here, quietly, before any test module."""

import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # must be set before TensorFlow is imported

import pytest
import tensorflow as tf
from hypothesis import HealthCheck, settings

# rng, restore_threads and isa need no TensorFlow: they live in common_fixtures.py, which
# the sanitizer job (tests/sanitize_run.py) loads without this file.
from common_fixtures import isa, restore_threads, rng  # noqa: F401

# Hypothesis: modest example counts and no deadline (the 2-core CI budget; first calls into TF
# are slow), derandomized: every run draws the same examples, so a red run is reproducible and
# never the luck of one draw. `pytest --hypothesis-profile=fuzz` explores: many more examples,
# new ones each run (a soak before a stop; what it finds becomes a fix and a pinned test).
_HEALTH = [HealthCheck.filter_too_much, HealthCheck.too_slow]
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=_HEALTH, derandomize=True
)
settings.register_profile("fuzz", max_examples=3000, deadline=None, suppress_health_check=_HEALTH)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def tf_nn():
    """tf.nn, the peer every public function is checked against."""
    return tf.nn


# Tests that wait on a long build go first: test_isa_switch_asan.py's fixture compiles the
# sanitizer build (minutes of CPU). Run last, as the file order had it, it left one xdist
# worker building after the other had finished every other test; run first, the build
# overlaps the other worker's tests, and worksteal spreads the rest once it is done.
LONG_SETUP = ("test_isa_switch_asan.py",)


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: not item.nodeid.split("::")[0].endswith(LONG_SETUP))
