"""The plan cache (fastconv._plans.cached): one plan per call signature (op, array shapes and
dtypes, other arguments by type and value), reused by repeated calls, never shared between
ops or between arguments that only compare equal (True and 1), and skipped for unhashable
arguments."""

import numpy as np
import pytest

import fastconv
from fastconv import _plans


@pytest.fixture
def cache(monkeypatch):
    fresh: dict = {}
    monkeypatch.setattr(_plans, "_CACHE", fresh)
    return fresh


def test_a_signature_is_planned_once(cache, rng):
    x = rng.standard_normal((1, 6, 6, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    first = fastconv.conv2d(x, w, 1, "SAME")
    assert len(cache) == 1
    np.testing.assert_array_equal(fastconv.conv2d(x + 0, w, [1, 1], "SAME"), first)
    assert len(cache) == 2  # 1 and [1, 1] are different arguments
    fastconv.conv2d(x + 1, w, 1, "SAME")
    fastconv.conv2d(x, w, [1, 1], "SAME")
    assert len(cache) == 2  # same shapes, dtypes and arguments: the same plans
    fastconv.conv2d(x.astype(np.float64), w, 1, "SAME")
    fastconv.conv2d(x[:, :5], w, 1, "SAME")
    assert len(cache) == 4


def test_ops_with_equal_arguments_do_not_share_plans(cache, rng):
    x = rng.standard_normal((1, 6, 6, 2)).astype(np.float32)
    np.testing.assert_array_equal(
        fastconv.max_pool2d(x, 2, 2, "VALID"), x.reshape(1, 3, 2, 3, 2, 2).max(axis=(2, 4))
    )
    np.testing.assert_allclose(
        fastconv.avg_pool2d(x, 2, 2, "VALID"),
        x.reshape(1, 3, 2, 3, 2, 2).mean(axis=(2, 4)),
        rtol=1e-6,
    )
    assert len(cache) == 2


def test_true_and_one_are_different_keys():
    key = _plans._key
    assert key("conv2d", (), (1, "SAME")) != key("conv2d", (), (True, "SAME"))
    assert key("conv2d", (), (None, [1, 2])) == key("conv2d", (), (None, (1, 2)))
    # inside lists and tuples too, at any depth
    assert key("conv2d", (), ([1, 2],)) != key("conv2d", (), ([True, 2],))
    assert key("conv2d", (), ([[1, 1], [0, 0]],)) != key("conv2d", (), ([[1, 1], [0, False]],))
    # a sequence never stands for a scalar, nor the other way round
    assert key("conv2d", (), ((1,),)) != key("conv2d", (), (1,))


@pytest.mark.parametrize("first", [1, (1, 1)], ids=["int", "tuple"])
def test_a_cached_plan_never_answers_for_an_argument_that_only_compares_equal(cache, first):
    # True == 1 and (True, True) == (1, 1): the plan made for the ints must not run (or
    # accept) the bools, which conv2d rejects
    x = np.ones((1, 5, 5, 1), np.float32)
    w = np.ones((3, 3, 1, 1), np.float32)
    fastconv.conv2d(x, w, first, "SAME")
    bools = True if first == 1 and not isinstance(first, tuple) else (True, True)
    with pytest.raises(TypeError, match="strides"):
        fastconv.conv2d(x, w, bools, "SAME")


def test_unhashable_arguments_are_planned_every_time(cache, rng):
    x = rng.standard_normal((1, 6, 6, 1)).astype(np.float32)
    w = rng.standard_normal((3, 3, 1, 1)).astype(np.float32)
    got = fastconv.conv2d(x, w, np.array([1, 1]), "SAME")
    np.testing.assert_array_equal(got, fastconv.conv2d(x, w, 1, "SAME"))
    assert len(cache) == 1  # only the hashable call


def test_the_cache_is_bounded(cache, monkeypatch, rng):
    monkeypatch.setattr(_plans, "_CACHE_LIMIT", 3)
    w = rng.standard_normal((1, 1, 1, 1)).astype(np.float32)
    for size in range(1, 8):
        fastconv.conv2d(np.ones((1, size, 1, 1), np.float32), w, 1, "VALID")
        assert len(cache) <= 3
