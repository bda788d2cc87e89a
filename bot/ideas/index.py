"""The term index behind search and similar ideas: plain rows, so it works on any database."""

from __future__ import annotations

from collections import Counter, OrderedDict

from sqlmodel import Session, col, delete, func, select

from bot.similarity import DocumentFrequency, terms
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


def document_frequency(session: Session, team_id: str) -> DocumentFrequency:
    """How many of the team's ideas use each word, and how many ideas there are: TF-IDF
    weighs words by the whole community's ideas, not just the candidates in hand."""

    def lookup(words: list[str]) -> tuple[dict[str, int], int]:
        counts = session.exec(
            select(IdeaTerm.term, func.count())
            .where(IdeaTerm.team_id == team_id, col(IdeaTerm.term).in_(sorted(set(words))))
            .group_by(col(IdeaTerm.term))
        )
        total = session.exec(
            select(func.count()).select_from(Idea).where(Idea.team_id == team_id)
        ).one()
        return {term: int(n) for term, n in counts}, int(total)

    return lookup


class EmbeddingCache(OrderedDict[int, list[float]]):
    """Idea embeddings kept between requests, newest last; the oldest go past ``size``."""

    def __init__(self, size: int = 2000) -> None:
        super().__init__()
        self.size = size

    def __setitem__(self, key: int, value: list[float]) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)
