"""The parallel layer's contention rule (csrc/runtime/parallel.c), driven through
_core.parallel_observe: a call on several threads whose wall time exceeds its threads' summed
CPU time by more than 0.2 ms was kept waiting. One such call alone is no sign of load (a
virtual CPU parked during an idle gap wakes its worker late once); a second in a row caps
the team at half for a back-off period, and a good call in between clears the first.

The rule's state is process-wide, so each case runs in a fresh interpreter."""

import subprocess
import sys
import textwrap

import pytest

GOOD = "(2, 1e-3, 2e-3)"  # wall 1 ms, 2 ms of work: the team paid off
LATE = "(2, 5e-3, 1e-3)"  # wall 5 ms for 1 ms of work: kept waiting


def _caps_after(calls: list[str]) -> list[int]:
    """The cap in force after each observed call, in a fresh process."""
    script = textwrap.dedent(
        f"""
        from fastconv import _core
        caps = []
        for args in [{", ".join(calls)}]:
            _core.parallel_observe(*args)
            caps.append(_core.parallel_stats()["cap"])
        print(caps)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return eval(out.stdout)


@pytest.mark.parametrize(
    "calls, caps",
    [
        ([LATE], [0]),  # one late call: no cap
        ([LATE, LATE], [0, 1]),  # two in a row: half the team
        ([LATE, GOOD, LATE], [0, 0, 0]),  # a good call between clears the first
        ([GOOD, GOOD], [0, 0]),
        ([LATE, LATE, LATE], [0, 1, 1]),  # still capped, for longer
    ],
)
def test_cap_after_two_contended_calls_in_a_row(calls, caps):
    assert _caps_after(calls) == caps


def test_contended_calls_are_counted_even_when_they_do_not_cap():
    script = (
        "from fastconv import _core\n"
        f"_core.parallel_observe{LATE}\n"
        "s = _core.parallel_stats()\n"
        "print(s['contended_calls'], s['parallel_calls'], s['cap'])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "1", "0"]
