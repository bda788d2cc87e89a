"""The trend chart leads get with results: each scale question's average over the last
runs, drawn only from figures already safe to show (withheld runs are gaps)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from bot.pulse.questions import NPS_0_10, SCALE_1_5
from bot.pulse.results import TrendPoint


def trend_png(
    pulse_name: str, questions: Sequence[Mapping[str, Any]], points: Sequence[TrendPoint]
) -> bytes | None:
    """A PNG of the averages per run, or None when no run has a figure to show."""
    numeric = [n for n, q in enumerate(questions) if q.get("kind") in (SCALE_1_5, NPS_0_10)]
    shown = [
        n
        for n in numeric
        if any(n < len(point.means) and point.means[n] is not None for point in points)
    ]
    if not shown:
        return None
    # Imported when a chart is drawn, not when copbot starts (it takes seconds). A bare
    # Figure renders straight to PNG bytes, with no screen and no pyplot state.
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.subplots()
    labels = [f"{point.opens_at:%d %b}" for point in points]
    for n in shown:
        values = [point.means[n] if n < len(point.means) else None for point in points]
        text = str(questions[n].get("text", f"Question {n + 1}"))
        axes.plot(
            labels,
            [float("nan") if value is None else value for value in values],
            marker="o",
            label=text if len(text) <= 60 else text[:57] + "...",
        )
    axes.set_title(f"Pulse {pulse_name}: averages by run")
    axes.set_ylabel("Average answer")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small", loc="best")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
