"""The PNG plots of docs/benchmarks.md, from figures the benchmark scripts hand over (matplotlib, no screen)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

COLOURS = ("#c7c7c7", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, path: Path) -> None:
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    print(f"\nplot: {path}")


def stacked_turns(
    labels: Sequence[str],
    parts: Sequence[tuple[str, Sequence[float]]],
    target_secs: float,
    title: str,
    path: Path,
) -> None:
    """One horizontal bar per turn, its time (seconds) split into `parts`, with the target as a line."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(9, 0.3 * len(labels) + 2.0))
    left = [0.0] * len(labels)
    for (name, values), colour in zip(parts, COLOURS, strict=False):
        widths = [1000 * max(value, 0.0) for value in values]
        axes.barh(list(labels), widths, left=left, color=colour, label=name)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axes.axvline(
        1000 * target_secs,
        color="black",
        linestyle="--",
        linewidth=1,
        label=f"target {1000 * target_secs:.0f} ms",
    )
    axes.invert_yaxis()
    axes.set_xlabel("ms from end of speech to first response audio byte")
    axes.set_title(title)
    axes.legend(loc="upper center", bbox_to_anchor=(0.45, -0.14), ncol=3, fontsize=8)
    _save(figure, path)


def against_streams(
    series: Mapping[str, Sequence[tuple[int, float, float]]], keeps_up_secs: float, title: str, path: Path
) -> None:
    """Per workload, (streams, p99 frame lag s, p50 end of speech → final transcript s): two log plots."""
    plt = _pyplot()
    figure, (lag_axes, final_axes) = plt.subplots(1, 2, figsize=(11, 4.2))
    for (name, points), marker in zip(series.items(), "osd^v", strict=False):
        counts = [count for count, _, _ in points]
        lag_axes.plot(
            counts, [max(1000 * lag, 1.0) for _, lag, _ in points], marker=marker, label=f"p99, {name}"
        )
        final_axes.plot(counts, [final for _, _, final in points], marker=marker, label=name)
    lag_axes.axhline(
        1000 * keeps_up_secs,
        color="black",
        linestyle="--",
        linewidth=1,
        label=f"keeps up: ≤ {1000 * keeps_up_secs:.0f} ms",
    )
    lag_axes.set_ylabel("frame lag, ms (`speech_started` later than alone)")
    final_axes.set_ylabel("end of speech → final transcript, s (p50)")
    for axes in (lag_axes, final_axes):
        axes.set_xlabel("live 20 ms voice streams")
        axes.set_yscale("log")
        axes.legend(fontsize=8)
    figure.suptitle(title)
    _save(figure, path)
