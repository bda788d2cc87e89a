"""Learning use cases: capture, reflections, digests and case studies. Each owns its
unit of work and reaches Slack outside it; listeners make one call here."""

from __future__ import annotations

from typing import Any

from bot import retention, workspaces
from bot.config import Settings
from bot.errors import UserError
from bot.learning import capture, casestudy, digest, messages, usage
from bot.learning.summariser import CaseStudyDraft, make_summariser
from bot.learning.usage import UsageLine
from bot.platform.messenger import Refused
from bot.platform.rendering import render
from bot.roles import Actor, Role
from bot.slack import SlackPort
from storage import CaseStudy, Database, Digest, Workspace

# ------------------------------------------------------------------------------ capture


def keep_message(db: Database, settings: Settings, team_id: str, event: dict[str, Any]) -> None:
    """Keep, update or forget a message from a captured channel."""
    with db.session() as session:
        capture.on_message(session, team_id, event, settings)


def mark_learning(db: Database, team_id: str, channel: str, ts: str) -> None:
    with db.session() as session:
        capture.mark_learning(session, team_id, channel, ts)


def enable_capture(db: Database, slack: SlackPort, who: Actor, channel: str) -> bool:
    """Capture starts only once copbot is in the channel: it joins a public channel; a
    private one the lead must invite it to first (nothing is saved until then). True when
    capture was turned on now (then the channel hears of it: ``announce_capture``)."""
    who.require(Role.LEAD, "turn on learning capture")
    if channel:
        _be_in(slack, channel)
    with db.session() as session:
        return capture.enable(session, who, channel)


def _be_in(slack: SlackPort, channel: str) -> None:
    """Make sure copbot is a member of ``channel`` (to hear its messages), or say what the
    lead must do. Slack answers ``channel_not_found`` for a private channel copbot is not
    in, so its name is unknown to copbot then."""
    try:
        info = slack.channel_info(channel)
    except Refused as error:
        if error.code == "channel_not_found":
            raise UserError(
                "Invite @copbot to that private channel first, then try again.", field="channel"
            ) from None
        raise
    if info.get("is_member"):
        return
    name = f"#{info.get('name')}" if info.get("name") else "that channel"
    if info.get("is_archived"):
        raise UserError(f"{name} is archived.", field="channel")
    if info.get("is_private") or info.get("is_im") or info.get("is_mpim"):
        raise UserError(f"Invite @copbot to {name} first, then try again.", field="channel")
    slack.join_channel(channel)


def announce_capture(db: Database, slack: SlackPort, who: Actor, channel: str) -> None:
    """The plain notice in the channel (copbot is already a member)."""
    with db.session() as session:
        days = retention.of(session.get(Workspace, who.team_id)).messages
    slack.post_message(channel, capture.notice_text(who.user_id, days))


def disable_capture(db: Database, who: Actor, channel: str) -> None:
    with db.session() as session:
        capture.disable(session, who, channel)


def exclude_me(db: Database, who: Actor) -> None:
    with db.session() as session:
        capture.exclude_me(session, who.team_id, who.user_id)


def include_me(db: Database, who: Actor) -> None:
    with db.session() as session:
        capture.include_me(session, who.team_id, who.user_id)


def reflect(db: Database, who: Actor, text: str) -> None:
    """``/copbot learned <text>``: kept for the digest, without the person's name."""
    with db.session() as session:
        capture.reflect(session, who.team_id, who.user_id, text)


# ------------------------------------------------------------------------------- digest


def usage_this_month(db: Database, who: Actor) -> list[UsageLine]:
    with db.session() as session:
        return usage.usage_this_month(session, who.team_id)


def request_digest(db: Database, who: Actor) -> int | None:
    """Write down that the lead is owed a preview (before the ack); ``prepare_digest``
    does the work after it."""
    with db.session() as session:
        return digest.request(session, team_id=who.team_id, user_id=who.user_id)


def prepare_digest(db: Database, slack: SlackPort, settings: Settings, digest_id: int) -> None:
    """Read, summarise and send the lead their private preview (slow: after the ack)."""
    digest.prepare(db.session, slack, settings, make_summariser(settings), digest_id)


def publish_digest(
    db: Database, slack: SlackPort, settings: Settings, who: Actor, digest_id: int
) -> None:
    """Post the draft to the digest channel, record it, and mark the lead's preview."""
    with db.session() as session:
        draft = digest.publishable(session, who, digest_id)
        channel = workspaces.community_settings(session, who.team_id, settings).digest_channel
    if not channel:
        raise UserError("Choose a digest channel in copbot's Home tab first.")
    content = messages.DigestContent.of(draft)
    published = render(messages.PublishedDigest(content))
    ts = slack.post_message(channel, published.text, blocks=published.blocks)
    with db.session() as session:
        draft = digest.mark_published(session, who, digest_id, channel, ts)
    if draft.preview_channel and draft.preview_ts:
        note = render(messages.DigestPublishedNote(content, draft.published_channel))
        slack.update_message(draft.preview_channel, draft.preview_ts, note.text, blocks=note.blocks)


def digest_to_edit(db: Database, who: Actor, digest_id: int) -> Digest:
    with db.session() as session:
        return digest.publishable(session, who, digest_id)


def edit_digest(db: Database, who: Actor, digest_id: int, texts: list[str]) -> None:
    with db.session() as session:
        digest.edit(session, who, digest_id, texts)


def redraw_preview(db: Database, slack: SlackPort, digest_id: int) -> None:
    """The lead's preview redrawn after an edit."""
    with db.session() as session:
        draft = session.get(Digest, digest_id)
    if draft is None or not draft.preview_channel or not draft.preview_ts:
        return
    preview = render(messages.DigestPreview(digest_id, messages.DigestContent.of(draft)))
    slack.update_message(
        draft.preview_channel, draft.preview_ts, preview.text, blocks=preview.blocks
    )


# --------------------------------------------------------------------------- case study


def draft_case_study(
    db: Database, slack: SlackPort, settings: Settings, who: Actor, channel: str, ts: str
) -> CaseStudyDraft:
    """A first draft from a thread (slow: the thread is read and summarised); the model's
    use is recorded. A thread that can't be used is refused with a UserError."""
    sources = casestudy.thread_sources(slack, channel, ts, who.user_id)
    draft = casestudy.draft(make_summariser(settings), sources)
    with db.session() as session:
        usage.record_usage(session, who.team_id, "case_study", draft.usage, who.user_id)
    return draft


def save_case_study(
    db: Database,
    settings: Settings,
    who: Actor,
    values: dict[str, Any],
    meta: dict[str, Any],
) -> tuple[int, str]:
    """Check and keep the lead's case study; returns it and the hub channel to post to."""
    fields = casestudy.validate(values)
    with db.session() as session:
        hub = workspaces.community_settings(session, who.team_id, settings).hub_channel
        if not hub:
            raise UserError("A lead needs to choose a knowledge hub channel in copbot's Home tab.")
        study = casestudy.save(
            session,
            who.team_id,
            who.user_id,
            fields,
            engine=str(meta.get("engine") or "offline"),
            source_channel=meta.get("channel"),
            source_ts=meta.get("ts"),
            source_permalink=None,
        )
        return study.id or 0, hub


def publish_case_study(db: Database, slack: SlackPort, study_id: int, hub: str) -> None:
    """Post the case study to the hub and keep where it is (and its source thread)."""
    with db.session() as session:
        study = session.get(CaseStudy, study_id)
        assert study is not None
    if study.source_channel and study.source_ts:  # the post links the thread it came from
        study.source_permalink = slack.permalink(study.source_channel, study.source_ts)
    post = render(casestudy.post(study))
    ts = slack.post_message(hub, post.text, blocks=post.blocks)
    permalink = slack.permalink(hub, ts)
    with db.session() as session:
        kept = session.get(CaseStudy, study_id)
        assert kept is not None
        kept.source_permalink, kept.channel_id = study.source_permalink, hub
        kept.ts, kept.permalink = ts, permalink
        session.add(kept)


def search_case_studies(db: Database, who: Actor, words: str) -> list[CaseStudy]:
    with db.session() as session:
        return casestudy.search(session, who.team_id, words)
