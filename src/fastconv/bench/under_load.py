"""fastconv's threads on a shared machine: the same layers idle and next to busy processes.

For each load level (0, 1, 2... spinners from `busy`, started before the level's layers and
stopped after them, with a short settle time), each layer is timed interleaved, round by
round (`timing.interleaved`, medians), in four forms:

- fastconv at 1 thread, and at its default thread count (what `get_num_threads()` returned
  when the run began; restored after it). Each sets its count when it runs, so the two
  alternate freely within a round.
- TensorFlow, tf.function and eager: its intra-op pool is sized once, when TF initializes, so
  it stays at all cores whatever the load.
- PyTorch at the same thread count, if installed.

The figure of interest is fastconv's default-thread time over its 1-thread time under the
same load: above 1, its extra threads cost more than they bring (an OpenMP barrier waiting on
a thread whose core a spinner holds).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from . import libraries as L
from . import runners as R
from .busy import Spinners
from .cli import default_threads
from .contention import Watch
from .progress import progress_bar
from .suite import Layer
from .timing import Policy, Timing, interleaved

FC_ONE, FC_DEFAULT = "fastconv-1t", "fastconv"
TF_MODES = (L.TF_FN, L.TF_EAGER)


@dataclass
class LoadRow:
    """One layer at one load level."""

    busy: int  # spinner processes running meanwhile
    layer: Layer
    threads: int  # fastconv's default thread count (the FC_DEFAULT column)
    timings: dict[str, Timing] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    others_cpus: float | None = None  # CPUs other processes (spinners included) kept busy

    def seconds(self, label: str) -> float | None:
        timing = self.timings.get(label)
        return None if timing is None else timing.median

    @property
    def ratio(self) -> float | None:
        """fastconv's default-thread time over its 1-thread time (below 1: threads help)."""
        one, default = self.seconds(FC_ONE), self.seconds(FC_DEFAULT)
        return None if one is None or default is None else default / one

    def fastest(self, labels) -> tuple[str | None, float | None]:
        """(label, median) of the fastest of `labels` that ran, or (None, None)."""
        ran = {label: self.timings[label].median for label in labels if label in self.timings}
        if not ran:
            return None, None
        best = min(ran, key=lambda label: ran[label])
        return best, ran[best]

    @property
    def vs_best_peer(self) -> float | None:
        """The fastest peer's median over fastconv's default-thread one (above 1: faster)."""
        _, peer = self.fastest(L.PEERS)
        default = self.seconds(FC_DEFAULT)
        return None if peer is None or default is None else peer / default


def load_peers(peers=L.PEERS) -> None:
    """Import the peers asked for, at all cores as in `fastconv bench` (TF keeps the thread
    counts it is first given; later calls change nothing)."""
    if set(TF_MODES) & set(peers):
        L.load_tensorflow(default_threads())
    if L.TORCH in peers:
        L.load_torch(default_threads())


def _pinned(call, threads: int):
    """`call` at `threads` fastconv threads; the count is set only when it changes (once per
    sample), so that no call pays for setting it."""
    import fastconv

    def run():
        if fastconv.get_num_threads() != threads:
            fastconv.set_num_threads(threads)
        return call()

    return run


def layer_calls(layer: Layer, dtype: str, threads: int, peers=L.PEERS):
    """({label: call}, {label: why it failed}) for one layer: fastconv at 1 and `threads`
    threads and each peer that runs it. Every call runs once here (TF traces its function),
    so that a library failing on the layer is left out, not fatal."""
    runners, failures = R.make_runners(R.make_data(layer, dtype), ("auto",), peers, threads)
    calls = {}
    for runner in runners:
        try:
            runner.call()
        except Exception as exc:  # noqa: BLE001 - a peer's failure is a result, not a crash
            failures[runner.library] = f"{type(exc).__name__}: {exc}"
            continue
        if runner.library == FC_DEFAULT:
            calls[FC_ONE] = _pinned(runner.call, 1)
            calls[FC_DEFAULT] = _pinned(runner.call, threads)
        else:
            calls[runner.library] = runner.call
    return calls, failures


def run_levels(
    layers: list[Layer],
    levels=(0, 1, 2),
    policy: Policy = Policy(),
    dtype: str = "float32",
    peers=L.PEERS,
    settle: float = 1.0,
) -> list[LoadRow]:
    """One LoadRow per level and layer, levels outermost (each layer's inputs, and TF's
    traced function, are made once and reused at every level)."""
    import fastconv

    threads = fastconv.get_num_threads()
    load_peers(peers)
    made = {layer.name: layer_calls(layer, dtype, threads, peers) for layer in layers}
    rows = []
    try:
        with progress_bar(len(levels) * len(layers)) as bar:
            for busy in levels:
                with Spinners(busy):
                    time.sleep(settle)
                    for layer in layers:
                        bar.status(f"busy {busy}: {layer.name}")
                        calls, failures = made[layer.name]
                        watch = Watch()
                        row = LoadRow(
                            busy, layer, threads, interleaved(calls, policy), dict(failures)
                        )
                        row.others_cpus = watch.others_cpus()
                        rows.append(row)
                        bar.advance()
    finally:
        fastconv.set_num_threads(threads)
    return rows
