"""The results as a plain-text table (what `fastconv bench` prints) and as a JSON file.

The table is plain text, not a rich table, so that it pastes into a README or an issue as is
and prints the same to a terminal, a pipe or a CI log.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict

from .measure import LayerResult
from .libraries import PEERS, TF_EAGER, TF_FN, TORCH
from .runners import fastconv_label

PEER_TITLES = {TF_FN: "vs TF fn", TF_EAGER: "vs TF eager", TORCH: "vs torch"}


def rate(res: LayerResult) -> float | None:
    """GFLOP/s for convolutions, GB/s of compulsory traffic for pools (memory-bound)."""
    seconds = res.seconds("fastconv")
    if seconds is None:
        return None
    if res.layer.is_pool:
        return res.layer.bytes(_itemsize(res.dtype)) / seconds / 1e9
    return res.layer.flops / seconds / 1e9


def _itemsize(dtype: str) -> int:
    return 8 if dtype == "float64" else 4


def geomean(values) -> float | None:
    values = [v for v in values if v is not None and v > 0 and math.isfinite(v)]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def geomean_speedups(results: list[LayerResult]) -> dict[str, float | None]:
    return {peer: geomean(r.speedup(peer) for r in results) for peer in PEERS}


# Per row, the fastest of a group of peers: TF's faster mode, and every peer ("faster than
# the fastest peer" is the project's yardstick; the per-peer columns can each look better).
FASTEST_OF = {"tf": (TF_FN, TF_EAGER), "all": PEERS}


def geomean_fastest(results: list[LayerResult]) -> dict[str, float | None]:
    """Geomeans of each row's speedup against the fastest of TF's modes and of all peers
    (rows where none of them ran are left out)."""

    def against(res, peers):
        speedups = [s for s in (res.speedup(p) for p in peers) if s is not None]
        return min(speedups) if speedups else None

    return {name: geomean(against(r, peers) for r in results) for name, peers in FASTEST_OF.items()}


def _work(res: LayerResult) -> str:
    if res.layer.is_pool:
        return f"{res.layer.bytes(_itemsize(res.dtype)) / 1e6:.2f} MB"
    return f"{res.layer.flops / 1e9:.3g} GFLOP"


def _rate(res: LayerResult) -> str:
    r = rate(res)
    if r is None:
        return "-"
    return f"{r:.1f} GB/s" if res.layer.is_pool else f"{r:.1f} GFLOP/s"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.3f}"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _err(value: float | None) -> str:
    return "-" if value is None else f"{value:.1e}"


def format_table(results: list[LayerResult], algorithms=("auto",)) -> str:
    extra = [a for a in algorithms if a != "auto"]
    head = ["layer", "work", "fastconv ms ", "rate"] + [f"{a} ms" for a in extra]
    head += [PEER_TITLES[p] for p in PEERS] + ["max rel err"]
    rows = []
    for res in results:
        ms = _ms(res.seconds("fastconv")) + ("*" if res.noisy else " ")
        row = [res.layer.name, _work(res), ms, _rate(res)]
        row += [_ms(res.seconds(fastconv_label(a))) for a in extra]
        row += [_x(res.speedup(p)) for p in PEERS]
        row.append(_err(res.errors.get("fastconv")))
        rows.append(row)
    means = geomean_speedups(results)
    footer = ["geomean", "", "", ""] + [""] * len(extra) + [_x(means[p]) for p in PEERS] + [""]

    widths = [max(len(r[i]) for r in [head, footer, *rows]) for i in range(len(head))]

    def line(cells):  # the layer name left-aligned, figures right-aligned
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    rule = "-" * len(line(head))
    return "\n".join([line(head), rule, *map(line, rows), rule, line(footer)])


def format_notes(results: list[LayerResult], missing: dict[str, str]) -> str:
    """What the table leaves out: speedup and error definitions, missing libraries,
    failures and caveats per layer."""
    baselines = sorted({r.baseline for r in results if r.baseline})
    beyond = " beyond the --busy spinners" if any(r.spinners for r in results) else ""
    fastest = geomean_fastest(results)
    lines = [
        "speedup = peer's median time / fastconv's (above 1: fastconv is faster); "
        "rate and ms are fastconv's (algorithm auto)",
        "rate: direct-convolution FLOPs (2 per multiply-add, padding taps included) or compulsory "
        "bytes per second; a kernel doing less arithmetic (Winograd) can exceed the FMA peak",
        f"geomean against each row's faster TF mode: {_x(fastest['tf'])}; against each row's "
        f"fastest peer: {_x(fastest['all'])}",
        "* noisy row: some library's rounds disagreed (median > 1.5x the fastest round) or other "
        f"processes took CPU{beyond} meanwhile",
        f"max rel err = max|fastconv - baseline| / max|baseline|, baseline: "
        f"{', '.join(baselines) or 'none'}",
    ]
    for why in dict.fromkeys(missing.values()):  # TF fn and eager share one reason
        lines.append(f"missing: {why}")
    caveats: dict[str, list[str]] = {}  # one line per caveat, naming the layers it applies to
    for res in results:
        for lib, timing in res.timings.items():
            if res.unstable(lib):
                lines.append(
                    f"{res.layer.name}: {lib} unstable: median {timing.median * 1e3:.3f} "
                    f"ms, fastest round {min(timing.seconds) * 1e3:.3f} ms"
                )
        for lib, why in res.failures.items():
            lines.append(f"{res.layer.name}: {lib} failed: {why}")
        for lib in res.not_applicable:
            caveats.setdefault(f"{lib} does not apply to", []).append(res.layer.name)
        for lib, note in res.notes.items():
            caveats.setdefault(f"{lib}: {note}", []).append(res.layer.name)
    lines += [f"{caveat}: {', '.join(names)}" for caveat, names in caveats.items()]
    return "\n".join(lines)


def layer_record(res: LayerResult) -> dict:
    layer = res.layer
    record = asdict(layer)
    record.update(
        output=layer.output,
        flops=layer.flops,
        bytes=layer.bytes(_itemsize(res.dtype)),
        others_cpus=res.others_cpus,
        noisy=res.noisy,
        timings={lib: t.as_dict() for lib, t in res.timings.items()},
        speedups={p: res.speedup(p) for p in PEERS},
        rate={"value": rate(res), "unit": "GB/s" if layer.is_pool else "GFLOP/s"},
        errors={lib: (e if math.isfinite(e) else None) for lib, e in res.errors.items()},
        error_baseline=res.baseline,
        failures=res.failures,
        not_applicable=res.not_applicable,
        notes=res.notes,
    )
    return record


def write_json(path, results: list[LayerResult], meta: dict) -> None:
    """Every figure plus `meta` (machine, versions, threads, policy, date)."""
    doc = dict(meta)
    doc["layers"] = [layer_record(r) for r in results]
    doc["geomean_speedups"] = geomean_speedups(results)
    doc["geomean_speedups_fastest"] = geomean_fastest(results)
    with open(path, "w") as f:
        json.dump(doc, f, indent=2, allow_nan=False)  # strict JSON: no NaN literals
        f.write("\n")
