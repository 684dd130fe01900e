"""How much CPU other processes took while the suite ran.

On a shared machine the figures are only as good as the CPUs were free: an OpenMP pool
(fastconv, PyTorch) splits work statically and waits at a barrier for a thread whose core
another process holds, losing whole scheduler ticks (4 ms here) per call, while TensorFlow's
work-stealing pool degrades gracefully. So the run measures what everyone else used — busy
CPU time from /proc/stat minus this process's own — and says so when it was more than a
little. A load average read before the run misses load that starts during it.
"""

from __future__ import annotations

import os
import time

# Average number of CPUs other processes may use before the figures are called noisy.
NOISY_CPUS = 0.2


def _busy_seconds() -> float | None:
    """CPU-seconds all processes have spent busy since boot (Linux), else None."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    t = os.times()
    return t.user + t.system  # every thread of this process, TF's and torch's pools included


def load_average() -> list[float] | None:
    try:
        return list(os.getloadavg())
    except (AttributeError, OSError):
        return None


class Watch:
    """Started before the suite, read after it."""

    def __init__(self):
        self.wall, self.busy, self.own = time.perf_counter(), _busy_seconds(), _own_seconds()
        self.load_before = load_average()

    def others_cpus(self) -> float | None:
        """Average number of CPUs other processes kept busy since the watch started."""
        busy = _busy_seconds()
        if busy is None or self.busy is None:
            return None
        wall = time.perf_counter() - self.wall
        others = (busy - self.busy) - (_own_seconds() - self.own)
        return max(others, 0.0) / wall if wall > 0 else None

    def report(self) -> dict:
        return {
            "others_cpus": self.others_cpus(),
            "load_average_before": self.load_before,
            "load_average_after": load_average(),
        }

    def warning(self, spinners: int = 0) -> str | None:
        """Other processes took more CPU than the `spinners` started on purpose (--busy)."""
        others = self.others_cpus()
        if others is None or others <= spinners + NOISY_CPUS:
            return None
        if spinners:
            return (
                f"other processes kept {others:.1f} of {os.cpu_count()} CPUs busy during "
                f"the run, more than the {spinners} spinner(s) started on purpose: some "
                f"other load came on top of the deliberate one"
            )
        return (
            f"other processes kept {others:.1f} of {os.cpu_count()} CPUs busy during the "
            f"run: figures are noisy, fastconv's and PyTorch's (OpenMP) most; rerun on an "
            f"idle machine"
        )

    def deliberate(self, spinners: int) -> str:
        """What the `spinners` of --busy took: the load is the point of the run, not noise."""
        others = self.others_cpus()
        took = (
            ""
            if others is None
            else (
                f"; other processes, the spinners included, kept {others:.1f} of "
                f"{os.cpu_count()} CPUs busy on average"
            )
        )
        return (
            f"deliberate load: {spinners} spinner process(es) (--busy {spinners}) each "
            f"tried to keep a core busy for the whole run{took}. The figures show the "
            f"libraries on a shared machine, on purpose"
        )
