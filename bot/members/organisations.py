"""The community's list of organisations, and a member's own profile (staff group and
organisation, a new one added to the list on the way)."""

from __future__ import annotations

from sqlmodel import Session, func, select

from bot import audit
from bot.defaults import ORGANISATION_TYPES, STAFF_GROUPS
from bot.errors import UserError
from storage import Member, Organisation

ORGANISATION_ADDED = "organisation.added"


def organisations(session: Session, team_id: str) -> list[Organisation]:
    query = select(Organisation).where(Organisation.team_id == team_id).order_by(Organisation.name)
    return list(session.exec(query))


def organisation_named(session: Session, team_id: str, name: str) -> Organisation | None:
    query = select(Organisation).where(
        Organisation.team_id == team_id, func.lower(Organisation.name) == name.strip().lower()
    )
    return session.exec(query).first()


def add_organisation(
    session: Session, team_id: str, name: str, org_type: str, added_by: str | None = None
) -> Organisation:
    """Add to the community's list (members may add their own, ``added_by``), or return the
    existing one."""
    name = " ".join(name.split())
    if not 2 <= len(name) <= 200:
        raise UserError("An organisation's name needs 2 to 200 characters.", field="new_org")
    existing = organisation_named(session, team_id, name)
    if existing:
        return existing
    if org_type not in ORGANISATION_TYPES:
        raise UserError("Choose what kind of organisation it is.", field="org_type")
    organisation = Organisation(team_id=team_id, name=name, org_type=org_type)
    session.add(organisation)
    session.flush()
    if added_by:  # a member's own: "forget me" finds it here (bot.rights)
        audit.record(
            session,
            team_id=team_id,
            actor_id=added_by,
            action=ORGANISATION_ADDED,
            target=f"organisation:{organisation.id}",
        )
    return organisation


def update_profile(
    session: Session,
    member: Member,
    *,
    staff_group: str | None,
    organisation_id: int | None = None,
    new_organisation: str | None = None,
    new_organisation_type: str | None = None,
) -> Member:
    if staff_group is not None and staff_group not in STAFF_GROUPS:
        raise UserError("Choose your staff group from the list.", field="staff_group")
    if new_organisation and organisation_id:
        raise UserError(
            "Choose your organisation from the list or add a new one, not both.",
            field="new_org",
        )
    if new_organisation:
        organisation = add_organisation(
            session,
            member.team_id,
            new_organisation,
            new_organisation_type or "",
            added_by=member.slack_user_id,
        )
        organisation_id = organisation.id
    elif organisation_id is not None:
        organisation = session.get(Organisation, organisation_id)
        if organisation is None or organisation.team_id != member.team_id:
            raise UserError("That organisation is not in this community's list.", field="org")
    member.staff_group = staff_group
    member.organisation_id = organisation_id
    session.add(member)
    return member
