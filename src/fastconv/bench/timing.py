"""Interleaved timing: every library once per round, several rounds, the median.

Timing one library after another lets machine drift (another process, thermal or frequency
changes) land on one of them only. Here each round runs every library once, in an order that
rotates from round to round, so drift hits all alike; the median over rounds drops the
rounds a burst of noise spoiled.

Each library is warmed up once before the rounds, and each sample starts with one untimed
call. A sample then repeats the call enough times to last `min_sample` seconds, so that timer
resolution and loop overhead do not count on tiny layers; the number of rounds is what fits
the layer's time budget, clamped to [min_rounds, max_rounds] (or fixed by the caller).
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from collections.abc import Callable


@dataclass(frozen=True)
class Policy:
    budget: float = 4.0  # seconds of timed calls per layer, all libraries together
    # A sample lasts at least this long, so that timer resolution, loop overhead and the
    # thread pools of the other libraries spinning down (a few ms) do not count.
    min_sample: float = 0.02
    warmup: float = 0.05  # seconds of untimed calls per library first (and 2 calls at least)
    min_rounds: int = 3
    max_rounds: int = 25
    rounds: int | None = None  # fixed number of rounds, overriding the budget

    @classmethod
    def quick(cls, rounds: int | None = None) -> Policy:
        """Enough to check that everything runs, not to trust the figures."""
        return cls(
            budget=0.2, min_sample=0.002, warmup=0.01, min_rounds=2, max_rounds=3, rounds=rounds
        )


@dataclass
class Timing:
    seconds: list[float]  # per call, one entry per round
    iterations: int  # calls per sample

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def as_dict(self) -> dict:
        return {
            "median_ms": self.median * 1e3,
            "min_ms": min(self.seconds) * 1e3,
            "rounds_ms": [s * 1e3 for s in self.seconds],
            "calls_per_round": self.iterations,
        }


def _sample(call: Callable[[], object], iterations: int) -> float:
    """Seconds per call over `iterations` timed calls, after one untimed call: the first call
    after another library ran pays for waking this library's thread pool (0.1-5 ms on 2
    busy cores), which a program calling one library in a loop never pays."""
    call()
    start = time.perf_counter()
    for _ in range(iterations):
        call()
    return (time.perf_counter() - start) / iterations


def warm_up(call: Callable[[], object], seconds: float, min_calls: int = 2) -> None:
    """Untimed calls before anything is timed: a library's first calls are slow (tf.function's
    first ten decay from ms to its steady ~0.2 ms; allocators and thread pools start)."""
    calls, start = 0, time.perf_counter()
    while calls < min_calls or time.perf_counter() - start < seconds:
        call()
        calls += 1


def calibrate(call: Callable[[], object], min_sample: float) -> tuple[float, int]:
    """(seconds per call, calls per sample), right after the library's warm-up. The median
    of single calls, so one slow call (a preempted thread) does not set the sample size."""
    single: list[float] = []
    start = time.perf_counter()
    while not single or time.perf_counter() - start < min_sample / 4:
        t0 = time.perf_counter()
        call()
        single.append(time.perf_counter() - t0)
    per_call = statistics.median(single)
    return per_call, max(1, math.ceil(min_sample / per_call))


def interleaved(
    calls: dict[str, Callable[[], object]],
    policy: Policy,
    tick: Callable[[int, int], None] | None = None,
) -> dict[str, Timing]:
    """Time every call in `calls` round by round; `tick(done, rounds)` after each round (for
    a progress bar)."""
    labels = list(calls)
    plan = {}
    for label in labels:
        warm_up(calls[label], policy.warmup)
        plan[label] = calibrate(calls[label], policy.min_sample)
    if policy.rounds is not None:
        rounds = policy.rounds
    else:  # each sample costs its timed calls plus the untimed first one
        per_round = sum(per_call * (n + 1) for per_call, n in plan.values())
        fit = int(policy.budget / per_round) if per_round > 0 else policy.max_rounds
        rounds = min(policy.max_rounds, max(policy.min_rounds, fit))
    seconds: dict[str, list[float]] = {label: [] for label in labels}
    for r in range(rounds):
        for i in range(len(labels)):
            label = labels[(i + r) % len(labels)]  # rotate who goes first
            seconds[label].append(_sample(calls[label], plan[label][1]))
        if tick is not None:
            tick(r + 1, rounds)
    return {label: Timing(seconds[label], plan[label][1]) for label in labels}
