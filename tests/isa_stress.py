"""Stress script: Python threads compute while another thread switches the ISA nonstop.

    python tests/isa_stress.py [--pkg DIR] [--seconds S] [--workers N]

Each call must decide its ISA once: its result is then bit-identical to the result of that
call made under one ISA alone (results differ between ISAs, so the answer is checked
against the set of per-ISA results computed first). A call that packs weights for one
ISA's micro-kernel tile and multiplies them with another's reads or writes past its
buffers (which AddressSanitizer reports) or gives a mixture. The workers are fresh Python
threads every few calls, so that their per-thread scratch buffers (and their OpenMP teams')
are allocated anew at the size of the ISA of the moment instead of having grown to the
largest tile long ago, which would hide an overflow from AddressSanitizer.

--pkg DIR imports fastconv from DIR (an instrumented build, tests/asan_build.py), bypassing
an editable install's import hook. Exit status 0: every result was right; 1: some were not.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time


def import_fastconv(pkg: str | None):
    if pkg:
        # an editable install's finder sits in front of sys.path: drop it
        sys.meta_path[:] = [
            f for f in sys.meta_path if not type(f).__name__.startswith("ScikitBuild")
        ]
        sys.path.insert(0, pkg)
    import fastconv

    if pkg and not fastconv._core.__file__.startswith(pkg):
        raise SystemExit(f"fastconv._core came from {fastconv._core.__file__}, not {pkg}")
    return fastconv


def problems(fastconv, np):
    """Small calls (so that many start and end while the ISA changes) on every kernel, with
    output channel counts whose panels differ between the micro-kernel tiles (baseline 4x8,
    AVX2 6x16, AVX-512 6x64 in float32; half as wide in float64)."""
    rng = np.random.default_rng(0)

    def r(*shape, dtype=np.float32):
        return rng.standard_normal(shape).astype(dtype)

    x16, x16d, x3 = r(1, 8, 8, 16), r(1, 8, 8, 16, dtype=np.float64), r(1, 8, 8, 3)
    w40, w40d, w3 = r(3, 3, 16, 40), r(3, 3, 16, 40, dtype=np.float64), r(3, 3, 3, 72)
    xw, ww = r(1, 14, 14, 16), r(3, 3, 16, 24)  # auto: Winograd (49 tiles)
    xwd, wwd = r(1, 12, 12, 16, dtype=np.float64), r(3, 3, 16, 20, dtype=np.float64)
    xp, wp = r(2, 16, 16, 32), r(3, 3, 32, 40)  # parallel-sized on 2 threads
    b40, b24 = r(40), r(24)
    wd, wdd = r(3, 3, 16, 2), r(3, 3, 16, 1, dtype=np.float64)
    xpool, xpoold = r(1, 16, 16, 24), r(1, 12, 12, 20, dtype=np.float64)
    conv = fastconv.conv2d
    return {
        "im2col": lambda: conv(
            x16, w40, 1, "SAME", bias=b40, activation="relu", algorithm="im2col"
        ),
        "im2col-f64": lambda: conv(x16d, w40d, 1, "SAME", algorithm="im2col"),
        "im2col-packed-patches": lambda: conv(x3, w3, 1, "VALID", algorithm="im2col"),
        "im2col-parallel": lambda: conv(xp, wp, 1, "SAME", algorithm="im2col"),
        "auto-winograd": lambda: conv(xw, ww, 1, "SAME", bias=b24, algorithm="auto"),
        "auto-winograd-f64": lambda: conv(xwd, wwd, 1, "SAME", algorithm="auto"),
        "auto-winograd-parallel": lambda: conv(xp, wp, 1, "SAME", algorithm="auto"),
        "direct": lambda: conv(x16, w40, 2, "SAME", algorithm="direct"),
        "depthwise": lambda: fastconv.depthwise_conv2d(x16, wd, 1, "SAME"),
        "depthwise-f64": lambda: fastconv.depthwise_conv2d(x16d, wdd, 1, "VALID"),
        "max_pool": lambda: fastconv.max_pool2d(xpool, 3, 1, "SAME"),
        "avg_pool": lambda: fastconv.avg_pool2d(xpool, 3, 1, "SAME"),
        "avg_pool-f64": lambda: fastconv.avg_pool2d(xpoold, 3, 2, "SAME"),
    }


def per_isa_results(fastconv, calls):
    """{name: [the distinct results of that call, one ISA at a time]}."""
    import numpy as np

    want = {name: [] for name in calls}
    for isa in fastconv._core.isa_names():
        fastconv._core.set_isa(isa)
        for name, call in calls.items():
            got = call()
            if not any(np.array_equal(got, w) for w in want[name]):
                want[name].append(got)
    return want


def stress(fastconv, seconds: float, workers: int, rounds: int = 2) -> int:
    import numpy as np

    calls = problems(fastconv, np)
    want = per_isa_results(fastconv, calls)
    names = fastconv._core.isa_names()
    fastconv.set_num_threads(2)  # clamped to this process's CPUs by the new runtime
    stop = threading.Event()
    toggles = [0]
    wrong, errors, done = [], [], [0]

    def toggle():
        n = 0
        while not stop.is_set():
            for isa in names:
                fastconv._core.set_isa(isa)
            n += len(names)
        toggles[0] = n

    def work(k):
        try:
            order = list(calls)[k % len(calls) :] + list(calls)[: k % len(calls)]
            for _ in range(rounds):
                for name in order:
                    got = calls[name]()
                    if not any(np.array_equal(got, w) for w in want[name]):
                        wrong.append(name)
                    done[0] += 1
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(repr(e))

    sys.setswitchinterval(1e-4)  # hand the GIL between toggler and workers often
    toggler = threading.Thread(target=toggle)
    toggler.start()
    deadline = time.monotonic() + seconds
    k = 0
    try:
        while time.monotonic() < deadline and not errors:
            team = [threading.Thread(target=work, args=(k + i,)) for i in range(workers)]
            k += workers
            for t in team:
                t.start()
            for t in team:
                t.join()
    finally:
        stop.set()
        toggler.join()
    print(
        f"isa_stress: {done[0]} calls, {toggles[0]} ISA switches, {len(wrong)} wrong "
        f"results {sorted(set(wrong))}, {len(errors)} errors {errors[:3]}",
        flush=True,
    )
    return 1 if wrong or errors else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pkg", help="import fastconv from this folder")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--workers", type=int, default=3)
    args = p.parse_args(argv)
    return stress(import_fastconv(args.pkg), args.seconds, args.workers)


if __name__ == "__main__":
    sys.exit(main())
