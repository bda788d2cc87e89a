"""What learning says to people, as typed domain messages; ``handlers/learning/views.py``
draws them. A digest's section texts are already escaped mrkdwn
(``bot.learning.digest.compose``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage import Digest


def progress_text(messages: int, channels: int) -> str:
    return (
        f"Reading {messages:,} messages from {channels:,} "
        f"{'channel' if channels == 1 else 'channels'}…"
    )


@dataclass(frozen=True)
class DigestContent:
    """What a digest says: its period, the summariser's notice and its sections."""

    period_start: datetime
    period_end: datetime
    notice: str | None
    sections: tuple[tuple[str, str], ...]  # (title, mrkdwn text)

    @classmethod
    def of(cls, digest: Digest) -> DigestContent:
        return cls(
            digest.period_start,
            digest.period_end,
            digest.notice,
            tuple((s["title"], s["text"]) for s in digest.sections),
        )


@dataclass(frozen=True)
class DigestPreview:
    """The lead's private preview, with Publish and Edit."""

    digest_id: int
    content: DigestContent

    def fallback(self) -> str:
        return "Your learning digest preview"


@dataclass(frozen=True)
class PublishedDigest:
    """The digest as its channel sees it."""

    content: DigestContent

    def fallback(self) -> str:
        return "Learning digest"


@dataclass(frozen=True)
class DigestPublishedNote:
    """The lead's preview once published: the digest, and where it went."""

    content: DigestContent
    channel: str | None

    def fallback(self) -> str:
        return "Learning digest (published)"


@dataclass(frozen=True)
class CaseStudyPost:
    """A case study in the knowledge hub: its title, each field written, and the
    conversation it came from."""

    title: str
    fields: tuple[tuple[str, str], ...]  # (label, text), as written
    source_permalink: str | None

    def fallback(self) -> str:
        return f"Case study: {self.title}"
