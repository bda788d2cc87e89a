"""Privacy use cases: what copbot keeps about me, my data as a file, "forget me", and
the audit log for admins. Each owns its unit of work and reaches Slack after it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot import audit
from bot.config import Settings
from bot.rights import erasure, export
from bot.rights.redraw import clean_storage, redraw
from bot.roles import Actor
from bot.slack import SlackPort
from storage import AuditEntry, Database, utcnow

# A request still naming its member this long after it was made was cut short by a crash.
FINISH_AFTER = timedelta(minutes=2)
FORGOTTEN_DM = "Done: copbot has forgotten you. If you use copbot again it will start afresh."


def summary(db: Database, who: Actor) -> export.Summary:
    with db.session() as session:
        return export.summary(session, who.team_id, who.user_id)


def send_my_data(db: Database, slack: SlackPort, who: Actor) -> None:
    """Everything linked to the person, as a JSON file in their DM."""
    with db.session() as session:
        data = export.export(session, who.team_id, who.user_id)
    slack.upload_file(
        who.user_id,
        "copbot-my-data.json",
        data,
        title="Your copbot data",
        comment="Everything copbot holds that is linked to you.",
    )


def request_forget(db: Database, who: Actor) -> None:
    """Recorded (and committed) before the confirmation's ack, so a crash in the work
    after it is finished by the scheduled ``finish_forgets``."""
    with db.session() as session:
        erasure.request_forget(session, who.team_id, who.user_id)


def forget_me(db: Database, slack: SlackPort, settings: Settings, who: Actor) -> None:
    carry_out(db, slack, settings, who.team_id, who.user_id)


def finish_forgets(
    db: Database, slack: SlackPort, settings: Settings, now: datetime | None = None
) -> int:
    """Carry out requests a crash cut short; returns how many."""
    cutoff = (now or utcnow()) - FINISH_AFTER
    with db.session() as session:
        waiting = session.execute(
            select(AuditEntry.team_id, AuditEntry.actor_id)
            .where(
                AuditEntry.action == erasure.REQUESTED,
                AuditEntry.actor_id.is_not(None),  # type: ignore[union-attr]
                AuditEntry.at < cutoff,  # type: ignore[operator]
            )
            .distinct()
        ).all()
    for team_id, user_id in waiting:
        carry_out(db, slack, settings, team_id, user_id)
    return len(waiting)


def carry_out(
    db: Database, slack: SlackPort, settings: Settings, team_id: str, user_id: str
) -> None:
    """Forget the person, redraw what Slack shows, clean the files, and tell them."""
    with db.session() as session:
        done = erasure.forget(session, team_id, user_id, settings)
    redraw(db, slack, done)
    clean_storage(db, done)
    slack.post_message(user_id, FORGOTTEN_DM)


def send_audit_log(db: Database, slack: SlackPort, who: Actor) -> None:
    """The whole audit log as CSV, in the admin's DM."""
    with db.session() as session:
        csv_text = audit.export_csv(session, who.team_id)
    slack.upload_file(
        who.user_id, "copbot-audit-log.csv", csv_text, title="Audit log", comment="The audit log."
    )
