"""Cost and audit of language-model calls: one row a call (model, tokens, time), never
its content; ``/digest usage`` shows a lead the month's totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case
from sqlmodel import Session, col, func, select

from bot.learning.summariser import Usage
from storage import LLMCall, utcnow


def record_usage(
    session: Session, team_id: str, purpose: str, usage: Sequence[Usage], requested_by: str | None
) -> None:
    for call in usage:
        session.add(
            LLMCall(
                team_id=team_id,
                purpose=purpose,
                model=call.model,
                tokens_in=call.tokens_in,
                tokens_out=call.tokens_out,
                duration_ms=call.duration_ms,
                ok=call.ok,
                error=call.error[:200],
                requested_by=requested_by,
            )
        )


@dataclass(frozen=True)
class UsageLine:
    model: str
    calls: int
    failed: int
    tokens_in: int
    tokens_out: int
    seconds: float


def usage_this_month(
    session: Session, team_id: str, now: datetime | None = None
) -> list[UsageLine]:
    now = now or utcnow()
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rows = session.exec(
        select(
            LLMCall.model,
            func.count(),
            func.sum(case((col(LLMCall.ok), 0), else_=1)),
            func.sum(LLMCall.tokens_in),
            func.sum(LLMCall.tokens_out),
            func.sum(LLMCall.duration_ms),
        )
        .where(LLMCall.team_id == team_id, col(LLMCall.at) >= start)
        .group_by(col(LLMCall.model))
        .order_by(col(LLMCall.model))
    ).all()
    return [
        UsageLine(model, calls, int(failed or 0), int(t_in or 0), int(t_out or 0), (ms or 0) / 1000)
        for model, calls, failed, t_in, t_out, ms in rows
    ]
