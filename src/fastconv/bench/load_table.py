"""The threads-under-load figures (`under_load.run_levels`) as a table, one row per load level
and layer: plain text for a terminal, or Markdown to paste into a README, plus the notes
that say what each column means, and the same figures as JSON records.

`targets` maps (busy, layer name) to the most fastconv's default-thread / 1-thread ratio may
be at that load; rows with a target say whether it was met.
"""

from __future__ import annotations

from .libraries import PEERS, TF_EAGER, TF_FN, TORCH
from .report import _ms, _x
from .under_load import FC_DEFAULT, FC_ONE, TF_MODES, LoadRow

TF_TAGS = {TF_FN: "fn", TF_EAGER: "eager"}


def target_met(row: LoadRow, targets: dict | None) -> tuple[float | None, bool | None]:
    """(the row's target ratio, whether it was met), (None, None) where it has none."""
    limit = (targets or {}).get((row.busy, row.layer.name))
    if limit is None or row.ratio is None:
        return limit, None
    return limit, row.ratio <= limit


def _target_cell(row: LoadRow, targets) -> str:
    limit, met = target_met(row, targets)
    if limit is None:
        return ""
    return f"<= {limit:.2f} " + ("-" if met is None else "ok" if met else "MISS")


def _cells(row: LoadRow, targets) -> list[str]:
    tf_mode, tf_seconds = row.fastest(TF_MODES)
    tf = "-" if tf_mode is None else f"{_ms(tf_seconds)} {TF_TAGS[tf_mode]}"
    others = "-" if row.others_cpus is None else f"{row.others_cpus:.1f}"
    return [
        str(row.busy),
        row.layer.name,
        others,
        _ms(row.seconds(FC_ONE)),
        _ms(row.seconds(FC_DEFAULT)),
        _x(row.ratio),
        _target_cell(row, targets),
        tf,
        _ms(row.seconds(TORCH)),
        _x(row.vs_best_peer),
    ]


def format_load_table(
    rows: list[LoadRow], targets: dict | None = None, markdown: bool = False
) -> str:
    n = rows[0].threads if rows else 0
    head = [
        "busy",
        "layer",
        "others",
        "fastconv 1t ms",
        f"fastconv {n}t ms",
        f"{n}t / 1t",
        "target",
        "TF ms",
        "torch ms",
        "vs best peer",
    ]
    body = [_cells(row, targets) for row in rows]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    left = (1,)  # the layer name; everything else is a figure

    def pad(cells):
        return [
            c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ]

    if markdown:
        rule = [("-" * (w - 1) + ":") if i not in left else "-" * w for i, w in enumerate(widths)]
        return "\n".join(f"| {' | '.join(cells)} |" for cells in [pad(head), rule, *map(pad, body)])
    lines = ["  ".join(pad(cells)).rstrip() for cells in [head, *body]]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def format_load_notes(rows: list[LoadRow], targets: dict | None = None) -> str:
    n = rows[0].threads if rows else 0
    lines = [
        "busy: spinner processes, each keeping a core busy, started before the level's layers; "
        "others: CPUs that other processes (spinners included) kept busy, on average, meanwhile",
        f"ms: medians of interleaved rounds; {n}t / 1t: fastconv at its default {n} thread(s) "
        f"over fastconv at 1 thread, under the same load (above 1: the extra threads cost time)",
        "TF ms: the faster of tf.function (fn) and eager; TF's intra-op pool is sized when TF "
        "initializes, so it keeps all cores at every load; torch runs at the same thread count",
        f"vs best peer: the fastest peer's median over fastconv {n}t's (above 1: fastconv is "
        f"faster)",
    ]
    verdicts = [met for met in (target_met(row, targets)[1] for row in rows) if met is not None]
    if verdicts:
        lines.append(
            f"targets met: {sum(verdicts)} of {len(verdicts)} "
            f"(target: the most {n}t / 1t may be at that load)"
        )
    for row in rows:
        for label, why in row.failures.items():
            lines.append(f"busy {row.busy}, {row.layer.name}: {label} failed: {why}")
    return "\n".join(lines)


def load_records(rows: list[LoadRow], targets: dict | None = None) -> list[dict]:
    records = []
    for row in rows:
        limit, met = target_met(row, targets)
        best_peer, _ = row.fastest(PEERS)
        records.append(
            {
                "busy": row.busy,
                "layer": row.layer.name,
                "fastconv_default_threads": row.threads,
                "others_cpus": row.others_cpus,
                "timings": {label: t.as_dict() for label, t in row.timings.items()},
                "default_over_one_thread": row.ratio,
                "target": limit,
                "target_met": met,
                "best_peer": best_peer,
                "vs_best_peer": row.vs_best_peer,
                "failures": row.failures,
            }
        )
    return records
