"""The term index behind search and similar ideas: plain rows, so it works on any database."""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session, col, delete

from bot.similarity import terms
from storage import Idea, IdeaTerm

MAX_TERMS = 60


def idea_text(idea: Idea) -> str:
    return f"{idea.title}\n{idea.description}\n{' '.join(idea.themes)}"


def index_idea(session: Session, idea: Idea) -> None:
    """(Re)write the idea's terms; title words count twice."""
    assert idea.id is not None
    session.exec(delete(IdeaTerm).where(col(IdeaTerm.idea_id) == idea.id))
    counts = Counter(terms(idea_text(idea))) + Counter(terms(idea.title))
    for term, weight in counts.most_common(MAX_TERMS):
        session.add(IdeaTerm(team_id=idea.team_id, term=term[:64], idea_id=idea.id, weight=weight))
