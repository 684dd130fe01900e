"""Deliberate load: N spinner processes, each keeping one core busy, for a benchmark to share
the machine with (`fastconv bench --busy N`, benchmarks/threads_under_load.py).

A spinner is this file run as a script by a fresh interpreter (`python -I -S`: no site, no
NumPy, no fastconv, so it starts in milliseconds and touches almost no memory). It runs a
pure-Python loop, the way another user's single-threaded job would, and is bounded three
ways so that it can never outlive the benchmark that started it:

- it exits by itself after `limit` seconds;
- it exits within a few milliseconds of its parent dying (its parent process id changes);
- `Spinners` terminates and reaps every spinner when its `with` block ends, error or not.

Only the standard library is imported here: the file must run without fastconv importable.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

# A spinner's own time limit unless the caller gives one: longer than any suite run here,
# short enough that a spinner whose parent hangs does not burn a core for the day.
DEFAULT_LIMIT = 1800.0
_READY = b"spinning\n"


def spin(limit: float, parent: int) -> None:
    """Burn one core until `limit` seconds have passed or `parent` is no longer our parent."""
    end = time.monotonic() + limit
    os.write(1, _READY)
    n = 0
    while time.monotonic() < end and os.getppid() == parent:
        for _ in range(20_000):  # ~1 ms of work between the checks
            n += 1


class Spinners:
    """`with Spinners(n): ...` runs the block with n spinners (none for n = 0), each started
    and spinning before the block begins, all gone when it ends."""

    def __init__(self, n: int, limit: float = DEFAULT_LIMIT):
        if n < 0:
            raise ValueError(f"the number of spinners must be >= 0, got {n}")
        self.n, self.limit = n, limit
        self.procs: list[subprocess.Popen] = []

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def alive(self) -> int:
        """How many spinners still run (fewer than n once the time limit has passed)."""
        return sum(p.poll() is None for p in self.procs)

    def start(self) -> Spinners:
        command = [
            sys.executable,
            "-I",
            "-S",
            os.path.abspath(__file__),
            repr(self.limit),
            str(os.getpid()),
        ]
        try:
            for _ in range(self.n):
                # Own session: a Ctrl-C at the terminal reaches only the benchmark, which
                # then stops the spinners itself (or they see it gone).
                self.procs.append(
                    subprocess.Popen(
                        command,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE,
                        start_new_session=True,
                    )
                )
            for proc in self.procs:
                assert proc.stdout is not None  # stdout=PIPE
                if proc.stdout.readline() != _READY:
                    raise RuntimeError(
                        f"spinner {proc.pid} did not start (exit status {proc.wait()})"
                    )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 5.0) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        self.procs = []

    def __enter__(self) -> Spinners:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    spin(float(sys.argv[1]), int(sys.argv[2]))
