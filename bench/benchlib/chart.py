"""The report's figures as a PNG: one panel per metric, one bar per pair (median), whiskers from
the lowest to the highest run. weft ↔ weft is drawn in the accent colour."""
from __future__ import annotations

from pathlib import Path

from .report import METRICS, label, pair_order

ACCENT, WEFT_CROSS, OTHER = "#c0392b", "#e59866", "#7f8c8d"


def draw(path: Path, title: str, summaries: dict, aead_bound_MBps: float | None) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = pair_order(list(summaries.keys()))
    panels = [k for k in METRICS if any(summaries.get(p, {}).get(k) for p in keys)]
    columns = 2
    rows = (len(panels) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(14, 3.2 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, metric in zip(axes.flat, panels):
        name, fmt, higher = METRICS[metric]
        pairs = [p for p in keys if summaries.get(p, {}).get(metric)]
        stats = [summaries[p][metric] for p in pairs]
        y = range(len(pairs))
        colours = [ACCENT if p == "weft" else WEFT_CROSS if "weft" in p else OTHER for p in pairs]
        medians = [s.median for s in stats]
        whiskers = [[s.median - s.low for s in stats], [s.high - s.median for s in stats]]
        ax.barh(list(y), medians, xerr=whiskers, color=colours, capsize=3)
        ax.set_yticks(list(y), [label(p) for p in pairs], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"{name} {'↑' if higher else '↓'}", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        if metric.startswith("perf_") and aead_bound_MBps:
            ax.axvline(aead_bound_MBps, color="black", linestyle="--", linewidth=1)
            ax.text(aead_bound_MBps, len(pairs) - 0.5, " AEAD bound", fontsize=7, va="bottom")
        for i, s in enumerate(stats):  # after the whisker, so the two do not overlap
            ax.text(s.high, i, " " + format(s.median, fmt), va="center", fontsize=7)
    fig.suptitle(title, fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=90)
    plt.close(fig)
