"""Deterministic covering designs for the parametrized sweeps.

Instead of a full cartesian product, every level of every factor is dealt out over a fixed
number of cases (each factor's levels repeated and shuffled with a fixed seed, then zipped),
so every level appears at least once and pairs of levels mix, at a fraction of the cost.
"""

from __future__ import annotations

import random


def covering(n_cases: int, seed: int, **factors):
    """n_cases dicts, one level of each factor apiece; every level appears at least once
    when n_cases >= len(levels)."""
    rnd = random.Random(seed)
    columns = {}
    for name, levels in factors.items():
        levels = list(levels)
        column = (levels * (n_cases // len(levels) + 1))[:n_cases]
        assert n_cases >= len(levels), f"{name}: {len(levels)} levels need >= that many cases"
        rnd.shuffle(column)
        columns[name] = column
    return [{name: columns[name][i] for name in factors} for i in range(n_cases)]


def eff(k: int, d: int) -> int:
    """Effective (dilated) window size."""
    return (k - 1) * d + 1


def tf_padding(padding, data_format="NHWC"):
    """fastconv's 2-pair explicit padding as TF's 4-pair form; strings pass through."""
    if isinstance(padding, str):
        return padding
    (t, b), (l, r) = padding  # noqa: E741 (top, bottom, left, right)
    if data_format == "NHWC":
        return [[0, 0], [t, b], [l, r], [0, 0]]
    return [[0, 0], [0, 0], [t, b], [l, r]]


def fit_size(size: int, k_eff: int, pads: tuple[int, int], padding) -> int:
    """Grow `size` so that a VALID/explicit window fits at least once (TF returns garbage on
    empty outputs and refuses negative ones; both cases are tested in test_errors.py)."""
    if padding == "SAME":
        return size
    need = k_eff - pads[0] - pads[1]
    return size if size >= need else need + size % 2
