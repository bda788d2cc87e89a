"""The read side of Ideas: search, my lists, engagement figures and CSV exports.

Plain functions over a Session returning frozen dataclasses, so App Home, slash commands,
challenge summaries and the bench share them. Built for one workspace holding 100,000
ideas and 1,000,000 supports: every figure is an SQL aggregate over an index, and no
function loads all ideas or supports into Python (the export, which is the whole table by
definition, streams the columns it needs). In three parts: ``lists``, ``engagement`` and
``export``; callers import the names from here.
"""

from __future__ import annotations

from bot.ideas.insights.engagement import (
    Breakdown,
    Engagement,
    GroupCount,
    engagement,
    fold_small_groups,
)
from bot.ideas.insights.export import EXPORT_COLUMNS, export_csv, export_rows
from bot.ideas.insights.lists import (
    ANONYMOUS,
    AWAITING_REVIEW,
    NOT_GIVEN,
    OTHER_GROUPS,
    STATUS_LABELS,
    IdeaHit,
    IdeaItem,
    TrendingIdea,
    WaitingIdeas,
    ideas_by,
    ideas_supported_by,
    most_supported_this_week,
    search,
    status_label,
    waiting_for_review,
)

__all__ = [
    "ANONYMOUS",
    "AWAITING_REVIEW",
    "EXPORT_COLUMNS",
    "NOT_GIVEN",
    "OTHER_GROUPS",
    "STATUS_LABELS",
    "Breakdown",
    "Engagement",
    "GroupCount",
    "IdeaHit",
    "IdeaItem",
    "TrendingIdea",
    "WaitingIdeas",
    "engagement",
    "export_csv",
    "export_rows",
    "fold_small_groups",
    "ideas_by",
    "ideas_supported_by",
    "most_supported_this_week",
    "search",
    "status_label",
    "waiting_for_review",
]
