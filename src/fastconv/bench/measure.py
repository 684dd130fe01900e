"""One layer, all libraries: warm up, check the results against a baseline, time them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import runners as R
from .contention import NOISY_CPUS
from .libraries import PEERS, REFERENCE, TF_EAGER, TF_FN
from .suite import Layer
from .timing import Policy, Timing, interleaved

# Without TF the error baseline is fastconv.reference, one NumPy pass per filter tap (float64).
# Every layer of the suite takes it well under a second; past this much work it would not.
REFERENCE_MAX_FLOP = 2e10

# A median this many times the fastest round is flagged: the rounds disagree (a busy machine,
# or an OpenMP pool losing scheduler ticks), so the figure is not to be trusted alone.
UNSTABLE = 1.5


@dataclass
class LayerResult:
    layer: Layer
    dtype: str
    timings: dict[str, Timing] = field(default_factory=dict)
    errors: dict[str, float] = field(default_factory=dict)  # library -> max rel error
    baseline: str | None = None  # what `errors` are measured against
    failures: dict[str, str] = field(default_factory=dict)  # library -> why it did not run
    not_applicable: dict[str, str] = field(default_factory=dict)  # explicit algorithm -> why
    notes: dict[str, str] = field(default_factory=dict)  # library -> caveat on its figure
    others_cpus: float | None = None  # CPUs other processes kept busy meanwhile
    spinners: int = 0  # of those, processes started on purpose (--busy) to load the machine

    @property
    def noisy(self) -> bool:
        """Some library's rounds disagreed, or other processes took CPU during the layer
        (beyond the spinners started on purpose)."""
        busy = self.others_cpus is not None and self.others_cpus > self.spinners + NOISY_CPUS
        return busy or any(self.unstable(lib) for lib in self.timings)

    def seconds(self, library: str) -> float | None:
        timing = self.timings.get(library)
        return None if timing is None else timing.median

    def unstable(self, library: str) -> bool:
        timing = self.timings.get(library)
        return timing is not None and min(timing.seconds) < timing.median / UNSTABLE

    def speedup(self, peer: str, library: str = "fastconv") -> float | None:
        """How many times faster `library` ran than `peer` (> 1: faster), medians."""
        mine, theirs = self.seconds(library), self.seconds(peer)
        return None if mine is None or theirs is None else theirs / mine


def max_rel_error(result: np.ndarray, expected: np.ndarray) -> float:
    """max |result - expected| / max |expected|: relative to the output's scale, so outputs
    near zero (where elementwise relative error explodes) do not dominate."""
    if result.shape != expected.shape:
        return float("nan")
    expected = expected.astype(np.float64)
    diff = np.max(np.abs(result.astype(np.float64) - expected), initial=0.0)
    scale = np.max(np.abs(expected), initial=0.0)
    return float(diff / scale) if scale > 0 else float(diff)


def measure(
    layer: Layer,
    dtype: str,
    policy: Policy,
    algorithms=("auto",),
    peers=PEERS,
    threads: int = 1,
    tick=None,
) -> LayerResult:
    res = LayerResult(layer, dtype)
    data = R.make_data(layer, dtype)
    runners, res.failures = R.make_runners(data, algorithms, peers, threads)

    # The first call of each library is its warm-up (tf.function traces here) and gives the
    # values the error column compares.
    outputs, ready = {}, []
    for runner in runners:
        try:
            outputs[runner.library] = runner.result()
        except ValueError as exc:
            # An explicit algorithm that does not cover this layer (winograd on a 5x5 filter)
            # is not a failure; fastconv's "auto" or a peer refusing the layer is.
            explicit = runner.library.startswith("fastconv[")
            (res.not_applicable if explicit else res.failures)[runner.library] = str(exc)
            continue
        except Exception as exc:  # noqa: BLE001 - e.g. a dtype a peer does not support
            res.failures[runner.library] = f"{type(exc).__name__}: {exc}"
            continue
        ready.append(runner)
        if runner.note:
            res.notes[runner.library] = runner.note

    res.baseline = next((p for p in (TF_FN, TF_EAGER) if outputs.get(p) is not None), None)
    if res.baseline is None and layer.flops <= REFERENCE_MAX_FLOP:
        res.baseline, outputs[REFERENCE] = REFERENCE, R.reference_runner(data).result()
    if res.baseline is not None:
        expected = outputs[res.baseline]
        res.errors = {
            lib: max_rel_error(out, expected)
            for lib, out in outputs.items()
            if lib != res.baseline and out is not None
        }
    del outputs  # the big layers' outputs are tens of MB each

    res.timings = interleaved({r.library: r.call for r in ready}, policy, tick)
    return res
