"""Tables, one module per area, all registered on ``SQLModel.metadata`` by importing
this package (Alembic's ``env.py`` and ``storage`` do). Times are aware UTC throughout
(``storage.db.utcnow``). A new table goes in its area's module and is named here."""

from storage.models.community import (
    AuditEntry,
    ForgottenPerson,
    Member,
    Organisation,
    ProcessedEvent,
    Workspace,
)
from storage.models.exchange import (
    ExchangeFeedback,
    ExchangeInterest,
    ExchangeMatch,
    ExchangeMatchMember,
    ExchangeProgramme,
    ExchangeRound,
)
from storage.models.ideas import (
    Challenge,
    Idea,
    IdeaDraft,
    IdeaStatus,
    IdeaSubscriber,
    IdeaTerm,
    Support,
)
from storage.models.learning import (
    CaptureChannel,
    CapturedMessage,
    CaptureOptOut,
    CaseStudy,
    Digest,
    LearningMark,
    LLMCall,
    Reflection,
)
from storage.models.messaging import (
    NudgePreference,
    OutboxMessage,
    OutboxStatus,
)
from storage.models.pulse import (
    Pulse,
    PulseAnswer,
    PulseBallot,
    PulseParticipation,
    PulseRun,
)

__all__ = [
    "AuditEntry",
    "CaptureChannel",
    "CaptureOptOut",
    "CapturedMessage",
    "CaseStudy",
    "Challenge",
    "Digest",
    "ExchangeFeedback",
    "ExchangeInterest",
    "ExchangeMatch",
    "ExchangeMatchMember",
    "ExchangeProgramme",
    "ExchangeRound",
    "ForgottenPerson",
    "Idea",
    "IdeaDraft",
    "IdeaStatus",
    "IdeaSubscriber",
    "IdeaTerm",
    "LLMCall",
    "LearningMark",
    "Member",
    "NudgePreference",
    "Organisation",
    "OutboxMessage",
    "OutboxStatus",
    "ProcessedEvent",
    "Pulse",
    "PulseAnswer",
    "PulseBallot",
    "PulseParticipation",
    "PulseRun",
    "Reflection",
    "Support",
    "Workspace",
]
