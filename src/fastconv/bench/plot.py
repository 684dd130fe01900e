"""The bar chart of `fastconv bench --plot`: fastconv's speedup over each peer, per layer."""

from __future__ import annotations

import textwrap

from .measure import UNSTABLE, LayerResult
from .report import PEER_TITLES, geomean_speedups
from .libraries import PEERS

COLORS = {"tf-fn": "#ff8f00", "tf-eager": "#ffcc80", "torch": "#7e57c2"}


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot_speedups(path, results: list[LayerResult], title: str, footnote: str = "") -> None:
    """Bars per layer and peer, log scale; a noisy layer's bars (LayerResult.noisy) are
    hatched, so that a noisy figure does not pass for a measured one."""
    import matplotlib

    matplotlib.use("Agg")  # a file, never a window: works headless and over ssh
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    peers = [p for p in PEERS if any(r.speedup(p) is not None for r in results)]
    names = [r.layer.name for r in results] + ["geomean"]
    means = geomean_speedups(results)
    width = 0.8 / max(len(peers), 1)
    fig, ax = plt.subplots(figsize=(max(8.0, 0.55 * len(names) + 2), 5.5))
    for i, peer in enumerate(peers):
        values = [r.speedup(peer) for r in results] + [means[peer]]
        xs = [k + (i - (len(peers) - 1) / 2) * width for k in range(len(names))]
        shaky = [r.noisy for r in results] + [False]
        # A missing figure is left as a gap (height 0 on a log axis would be an error).
        pts = [(x, v, h) for x, v, h in zip(xs, values, shaky) if v is not None]
        bars = ax.bar(
            [x for x, _, _ in pts],
            [v for _, v, _ in pts],
            width,
            color=COLORS[peer],
            edgecolor="black",
            linewidth=0.3,
        )
        for bar, (_, _, noisy) in zip(bars, pts):
            if noisy:
                bar.set_hatch("///")
    # Speedups span orders of magnitude (tiny layers: per-call overhead), hence the log axis;
    # the line at 1 separates "fastconv faster" (above) from "slower" (below).
    ax.set_yscale("log")
    ax.axhline(1.0, color="black", linewidth=1)
    ax.axvline(len(names) - 1.5, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylabel("speedup of fastconv (peer time / fastconv time, log scale)")
    ax.set_title(title, fontsize=9, pad=24)
    ax.grid(axis="y", which="both", alpha=0.3)
    # Plain swatches (a legend drawn from the bars would copy a hatched first bar), above the
    # axes in one row: inside, the legend would hide the tallest bars.
    swatches = [
        Patch(
            facecolor=COLORS[p],
            edgecolor="black",
            linewidth=0.3,
            label=f"fastconv {PEER_TITLES[p]}",
        )
        for p in peers
    ]
    ax.legend(
        handles=swatches,
        fontsize=8,
        ncols=max(len(peers), 1),
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        frameon=False,
    )
    footnote = footnote[:1].upper() + footnote[1:]
    note = (
        f"Hatched: noisy layer (some library's median > {UNSTABLE}x its fastest round, or "
        f"other processes took CPU meanwhile). {footnote}"
    )
    wrap = int(fig.get_figwidth() * 16)  # characters of 7-pt text per line, roughly
    fig.text(0.01, 0.01, textwrap.fill(note.strip(), wrap), fontsize=7, color="dimgray")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
