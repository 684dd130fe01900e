"""The bar chart of `fastconv bench --plot`: fastconv's speedup over each peer, per layer."""

from __future__ import annotations

from .measure import LayerResult
from .report import PEER_TITLES, geomean_speedups
from .libraries import PEERS

COLORS = {"tf-fn": "#ff8f00", "tf-eager": "#ffcc80", "torch": "#7e57c2"}


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot_speedups(path, results: list[LayerResult], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # a file, never a window: works headless and over ssh
    import matplotlib.pyplot as plt

    peers = [p for p in PEERS if any(r.speedup(p) is not None for r in results)]
    names = [r.layer.name for r in results] + ["geomean"]
    means = geomean_speedups(results)
    width = 0.8 / max(len(peers), 1)
    fig, ax = plt.subplots(figsize=(max(8.0, 0.55 * len(names) + 2), 5.5))
    for i, peer in enumerate(peers):
        values = [r.speedup(peer) for r in results] + [means[peer]]
        xs = [k + (i - (len(peers) - 1) / 2) * width for k in range(len(names))]
        # A missing figure is left as a gap (height 0 on a log axis would be an error).
        pts = [(x, v) for x, v in zip(xs, values) if v is not None]
        ax.bar([x for x, _ in pts], [v for _, v in pts], width, label=f"fastconv {PEER_TITLES[peer]}",
               color=COLORS[peer], edgecolor="black", linewidth=0.3)
    # Speedups span orders of magnitude (tiny layers: per-call overhead), hence the log axis;
    # the line at 1 separates "fastconv faster" (above) from "slower" (below).
    ax.set_yscale("log")
    ax.axhline(1.0, color="black", linewidth=1)
    ax.axvline(len(names) - 1.5, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylabel("speedup of fastconv (peer time / fastconv time, log scale)")
    ax.set_title(title, fontsize=9)
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
