"""Roles, decided on the server for every action: the one helper every handler uses."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from bot.config import Settings
from bot.errors import NotAllowed
from storage import Member


class Role(IntEnum):
    MEMBER = 1
    LEAD = 2
    ADMIN = 3


def role_of(member: Member, settings: Settings) -> Role:
    """Slack admins and owners administer; COPBOT_LEADS and leads named in App Home lead."""
    if member.is_slack_admin:
        return Role.ADMIN
    if member.is_lead or member.slack_user_id in settings.leads:
        return Role.LEAD
    return Role.MEMBER


@dataclass(frozen=True)
class Actor:
    """Who is acting in this request, resolved once by the member middleware."""

    team_id: str
    user_id: str
    name: str
    role: Role

    @property
    def is_lead(self) -> bool:
        return self.role >= Role.LEAD

    def require(self, role: Role, doing: str) -> None:
        """Refuse with a plain message unless the actor holds ``role``; ``doing`` ends
        the sentence "Only leads can ...".
        """
        if self.role < role:
            who = "workspace admins" if role is Role.ADMIN else "leads"
            raise NotAllowed(f"Only {who} can {doing}. Nothing was changed.")
