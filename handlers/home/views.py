"""How App Home looks: the member's Home tab with every feature's section, and the
profile, community settings and leads modals it opens."""

from __future__ import annotations

from typing import Any

from bot.defaults import ORGANISATION_TYPES, STAFF_GROUPS
from bot.errors import UserError
from bot.home.actions import CommunityForm, Home, ProfileForm
from bot.members import Lead
from bot.text import escape
from bot.workspaces import CommunitySettings
from handlers.common import form_values
from handlers.exchange import views as exchange_views
from handlers.home.ids import HomeId
from handlers.ideas import views as idea_views
from handlers.ideas.ids import IdeaId
from handlers.kit import button, input_block, option, plain_text, section, static_select
from handlers.learning import views as learning_views
from handlers.nudges import views as nudge_views
from handlers.privacy import views as privacy_views
from handlers.pulse import views as pulse_views
from storage import Member, Organisation

# What the community keeps, how long: the retention setting, its input and its label.
RETENTION_LABELS = (
    ("messages", HomeId.KEEP_MESSAGES, "Keep captured messages (days)"),
    ("audit", HomeId.KEEP_AUDIT, "Keep the audit log (days)"),
    ("outbox", HomeId.KEEP_OUTBOX, "Keep sent messages (days)"),
)


def _channel(channel: str | None) -> str:
    return f"<#{channel}>" if channel else "_not set_"


def home_page(home: Home) -> dict[str, Any]:
    """A member's Home tab: welcome and profile (and for leads the community's settings),
    then each feature's part."""
    view = home_view(
        home.member,
        home.organisation,
        is_lead=home.is_lead,
        community=home.community,
        leads=home.leads,
    )
    view["blocks"] += idea_views.home_blocks(
        home.own_ideas,
        home.supported_ideas,
        home.trending_ideas,
        home.waiting_ideas,
        home.engagement,
    )
    view["blocks"] += pulse_views.home_section(home.pulses)
    view["blocks"] += exchange_views.home_section(
        home.exchanges_open,
        home.exchanges_joined,
        exchange_views.exchange_lines(home.matches),
        home.programmes,
    )
    view["blocks"] += learning_views.home_section(
        home.captured_channels, home.capture_excluded, home.is_lead
    )
    view["blocks"] += nudge_views.home_section(home.nudges, home.now)
    view["blocks"] += privacy_views.home_section(home.audit)
    return view


def home_view(
    member: Member,
    organisation: Organisation | None,
    *,
    is_lead: bool,
    community: CommunitySettings,
    leads: list[Lead],
) -> dict[str, Any]:
    name = escape(member.name)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain_text("Welcome to copbot")},
        section(
            f"Hello {name}. copbot helps our improvement community work together, here in Slack:\n"
            "• *Ideas*: share an idea in seconds, support others, and hear what happened.\n"
            "• *Pulse checks*: a one-tap weekly check-in, anonymous by default.\n"
            "• *Exchanges*: meet colleagues across organisations and professions.\n"
            "• *Learning*: short digests and case studies of what works.\n"
            "Type `/copbot help` for every command.",
            button("Share an idea", IdeaId.HOME_SHARE_IDEA, primary=True),
        ),
        {"type": "divider"},
        {"type": "header", "text": plain_text("Your profile")},
        section(
            f"*Staff group:* {escape(member.staff_group or 'not set')}\n"
            f"*Organisation:* {escape(organisation.name) if organisation else 'not set'}"
            + (f" ({escape(organisation.org_type)})" if organisation else "")
            + f"\n*Time zone:* {escape(member.tz or community.timezone)} (from Slack)",
            button("Edit profile", HomeId.EDIT_PROFILE),
        ),
    ]
    if is_lead:
        blocks += [
            {"type": "divider"},
            {"type": "header", "text": plain_text("Community settings (leads)")},
            section(
                f"*Ideas channel:* {_channel(community.ideas_channel)}\n"
                f"*Digest channel:* {_channel(community.digest_channel)}\n"
                f"*Knowledge hub channel:* {_channel(community.hub_channel)}\n"
                f"*Time zone:* {escape(community.timezone)}\n"
                f"*Anonymity minimum:* {community.anonymity_min} answers",
                button("Edit settings", HomeId.EDIT_SETTINGS),
            ),
            section(
                "*Leads:* "
                + (", ".join(f"<@{lead.user_id}>" for lead in leads) or "_none named yet_"),
                button("Manage leads", HomeId.MANAGE_LEADS),
            ),
        ]
    return {"type": "home", "blocks": blocks}


def profile_form(view: dict[str, Any]) -> ProfileForm:
    values = form_values(view)
    return ProfileForm(
        staff_group=values.get(HomeId.STAFF_GROUP),
        organisation_id=int(values[HomeId.ORGANISATION])
        if values.get(HomeId.ORGANISATION)
        else None,
        new_organisation=values.get(HomeId.NEW_ORGANISATION) or None,
        new_organisation_type=values.get(HomeId.ORGANISATION_TYPE),
    )


def community_form(view: dict[str, Any]) -> CommunityForm:
    """The settings modal as submitted; an anonymity minimum that isn't a whole number is
    refused on its field."""
    values = form_values(view)
    try:
        anonymity_min = int(values.get(HomeId.ANONYMITY_MIN) or "")
    except ValueError:
        raise UserError("Enter a whole number.", field=HomeId.ANONYMITY_MIN) from None
    return CommunityForm(
        ideas_channel=values.get(HomeId.IDEAS_CHANNEL),
        digest_channel=values.get(HomeId.DIGEST_CHANNEL),
        hub_channel=values.get(HomeId.HUB_CHANNEL),
        timezone=values.get(HomeId.TIMEZONE) or "",
        anonymity_min=anonymity_min,
        keep={name: values.get(block) for name, block, _ in RETENTION_LABELS},
    )


def leads_form(view: dict[str, Any]) -> list[str]:
    """The people chosen in the leads modal."""
    return list(form_values(view).get(HomeId.LEADS_INPUT) or [])


def profile_modal(member: Member, organisations: list[Organisation]) -> dict[str, Any]:
    org_options = [option(org.name, str(org.id)) for org in organisations][:100]
    blocks = [
        input_block(
            HomeId.STAFF_GROUP,
            "Staff group",
            static_select([option(group) for group in STAFF_GROUPS], member.staff_group),
        ),
    ]
    if org_options:
        blocks.append(
            input_block(
                HomeId.ORGANISATION,
                "Organisation",
                static_select(org_options, str(member.organisation_id)),
                optional=True,
            )
        )
    blocks += [
        input_block(
            HomeId.NEW_ORGANISATION,
            "Or add your organisation",
            {"type": "plain_text_input", "max_length": 200},
            optional=True,
            hint="Only if it is not in the list.",
        ),
        input_block(
            HomeId.ORGANISATION_TYPE,
            "Organisation type",
            static_select([option(kind) for kind in ORGANISATION_TYPES], None),
            optional=True,
        ),
    ]
    return {
        "type": "modal",
        "callback_id": HomeId.PROFILE,
        "title": plain_text("Your profile"),
        "submit": plain_text("Save"),
        "close": plain_text("Cancel"),
        "blocks": blocks,
    }


def settings_modal(community: CommunitySettings) -> dict[str, Any]:
    def channel_picker(initial: str | None) -> dict[str, Any]:
        element: dict[str, Any] = {
            "type": "conversations_select",
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        }
        if initial:
            element["initial_conversation"] = initial
        return element

    return {
        "type": "modal",
        "callback_id": HomeId.SETTINGS,
        "title": plain_text("Community settings"),
        "submit": plain_text("Save"),
        "close": plain_text("Cancel"),
        "blocks": [
            input_block(
                HomeId.IDEAS_CHANNEL,
                "Ideas channel",
                channel_picker(community.ideas_channel),
                optional=True,
            ),
            input_block(
                HomeId.DIGEST_CHANNEL,
                "Digest channel",
                channel_picker(community.digest_channel),
                optional=True,
            ),
            input_block(
                HomeId.HUB_CHANNEL,
                "Knowledge hub channel",
                channel_picker(community.hub_channel),
                optional=True,
                hint="Where case studies are published; the digest channel if empty.",
            ),
            input_block(
                HomeId.TIMEZONE,
                "Time zone",
                {"type": "plain_text_input", "initial_value": community.timezone},
                hint="A name like Europe/London; used for scheduled nudges.",
            ),
            input_block(
                HomeId.ANONYMITY_MIN,
                "Anonymity minimum",
                {
                    "type": "number_input",
                    "is_decimal_allowed": False,
                    "min_value": "3",
                    "initial_value": str(community.anonymity_min),
                },
                hint="No anonymous result is shown for fewer answers than this (at least 3).",
            ),
            *(
                input_block(
                    block,
                    label,
                    {
                        "type": "number_input",
                        "is_decimal_allowed": False,
                        "min_value": "1",
                        "max_value": "3650",
                        "initial_value": str(getattr(community.retention, name)),
                    },
                    optional=True,
                )
                for name, block, label in RETENTION_LABELS
            ),
        ],
    }


def leads_modal(leads: list[Lead]) -> dict[str, Any]:
    named = [lead.user_id for lead in leads if lead.removable]
    fixed = [lead for lead in leads if not lead.removable]
    picker: dict[str, Any] = {"type": "multi_users_select"}
    if named:
        picker["initial_users"] = named
    blocks: list[dict[str, Any]] = [
        input_block(
            HomeId.LEADS_INPUT,
            "Leads",
            picker,
            optional=True,
            hint="People who run this community.",
        ),
    ]
    if fixed:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "Always leads: "
                        + ", ".join(f"<@{lead.user_id}> ({lead.source})" for lead in fixed),
                    }
                ],
            }
        )
    return {
        "type": "modal",
        "callback_id": HomeId.LEADS,
        "title": plain_text("Leads"),
        "submit": plain_text("Save"),
        "close": plain_text("Cancel"),
        "blocks": blocks,
    }
