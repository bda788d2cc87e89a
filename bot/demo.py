"""A realistic demo community: a fictional integrated care system and 40 of its staff.

Used by ``copbot seed-demo`` and the sandbox. Every name here is invented.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from bot import members
from bot.workspaces import ensure_workspace
from storage import Member, utcnow

TEAM_ID = "T0DEMOICS"
TEAM_NAME = "Riverside and Vale ICS"

ORGANISATIONS = (
    ("Riverside University Hospitals NHS Trust", "Acute trust"),
    ("Vale Community Health NHS Trust", "Community trust"),
    ("Riverside and Vale Mental Health Partnership", "Mental health trust"),
    ("Western Counties Ambulance Service", "Ambulance trust"),
    ("Northgate Primary Care Network", "General practice / PCN"),
    ("Millbrook GP Federation", "GP federation"),
    ("Vale County Council", "Local authority"),
    ("Riverside Adult Social Care", "Adult or children's social care"),
    ("Willow House Care Home", "Care home"),
    ("Kingsway Community Pharmacy", "Community pharmacy"),
    ("St Columba's Hospice", "Hospice"),
    ("Riverside Carers' Network", "VCSE"),
    ("Healthwatch Vale", "Healthwatch"),
    ("University of Riverside", "University"),
    ("Southern Health Innovation Network", "Health innovation network"),
    ("Riverside and Vale ICB", "ICB"),
)


@dataclass(frozen=True)
class DemoPerson:
    user_id: str
    display_name: str
    real_name: str
    title: str
    staff_group: str
    organisation: str
    tz: str = "Europe/London"
    is_admin: bool = False
    is_lead: bool = False


def _person(
    n: int, display: str, real: str, title: str, group: str, org: int, **kw: object
) -> DemoPerson:
    return DemoPerson(f"U0DEMO{n:03d}", display, real, title, group, ORGANISATIONS[org][0], **kw)  # type: ignore[arg-type]


PEOPLE = (
    _person(
        1,
        "amara",
        "Amara Okafor",
        "Ward sister, frailty unit",
        "Nursing and midwifery",
        0,
        is_lead=True,
    ),
    _person(2, "tom.h", "Tom Hughes", "GP partner", "Medical", 4, is_lead=True),
    _person(
        3,
        "priya",
        "Priya Raman",
        "Head of improvement",
        "Management and administration",
        15,
        is_admin=True,
    ),
    _person(4, "gareth", "Gareth Jones", "Paramedic team leader", "Paramedics", 3),
    _person(
        5,
        "siobhan",
        "Siobhan Murphy",
        "Community matron",
        "Nursing and midwifery",
        1,
        tz="Europe/Dublin",
    ),
    _person(6, "kwame", "Kwame Mensah", "Consultant geriatrician", "Medical", 0),
    _person(
        7, "helen.w", "Helen Walker", "Occupational therapist", "Allied health professionals", 1
    ),
    _person(8, "farah", "Farah Iqbal", "Clinical pharmacist", "Pharmacy", 4),
    _person(
        9,
        "dan",
        "Daniel Price",
        "Social worker, hospital discharge",
        "Social work and social care",
        7,
    ),
    _person(10, "lucy", "Lucy Chen", "Physiotherapist", "Allied health professionals", 0),
    _person(11, "mo", "Mohammed Ali", "Community pharmacist", "Pharmacy", 9),
    _person(12, "bea", "Beatrice Osei", "Care home manager", "Social work and social care", 8),
    _person(13, "rhys", "Rhys Evans", "Mental health nurse", "Nursing and midwifery", 2),
    _person(
        14, "anna.k", "Anna Kowalska", "Healthcare scientist, pathology", "Health care science", 0
    ),
    _person(15, "james", "James Whitfield", "Public health consultant", "Public health", 6),
    _person(16, "grace", "Grace Adeyemi", "Volunteer coordinator", "VCSE", 11),
    _person(17, "ellie", "Ellie Thompson", "Physician associate", "Physician associates", 4),
    _person(18, "sam.r", "Sam Rowe", "Dental practice lead", "Dentistry", 5),
    _person(19, "nadia", "Nadia Haddad", "Optometrist", "Optometry", 5),
    _person(20, "joan", "Joan Fletcher", "Patient partner", "Patient and citizen partners", 12),
    _person(21, "olu", "Olumide Bakare", "Emergency medicine registrar", "Medical", 0),
    _person(22, "kate", "Kate Morgan", "Hospice nurse specialist", "Nursing and midwifery", 10),
    _person(23, "raj", "Rajesh Patel", "Practice manager", "Management and administration", 4),
    _person(
        24,
        "megan",
        "Megan Lloyd",
        "Speech and language therapist",
        "Allied health professionals",
        1,
    ),
    _person(25, "ivan", "Ivan Petrov", "Data analyst", "Management and administration", 15),
    _person(26, "zainab", "Zainab Hussain", "Health visitor", "Nursing and midwifery", 1),
    _person(27, "chris", "Chris Barker", "Reablement worker", "Social work and social care", 7),
    _person(28, "ade", "Adeola Johnson", "Lecturer in nursing", "Nursing and midwifery", 13),
    _person(
        29, "fiona", "Fiona MacLeod", "Improvement advisor", "Management and administration", 14
    ),
    _person(30, "tariq", "Tariq Rahman", "Psychiatrist", "Medical", 2),
    _person(31, "sophie", "Sophie Turner", "Midwife", "Nursing and midwifery", 0),
    _person(32, "ben", "Ben Carter", "Advanced paramedic practitioner", "Paramedics", 3),
    _person(33, "lin", "Lin Zhao", "Dietitian", "Allied health professionals", 0),
    _person(34, "peter", "Peter Okonkwo", "Carers' support worker", "VCSE", 11),
    _person(35, "ruth", "Ruth Goldberg", "Deputy director of nursing", "Nursing and midwifery", 15),
    _person(36, "hamza", "Hamza Sheikh", "GP trainee", "Medical", 4),
    _person(37, "claire", "Claire Dubois", "Podiatrist", "Allied health professionals", 1),
    _person(38, "wendy", "Wendy Marsh", "Senior care assistant", "Social work and social care", 8),
    _person(39, "noah", "Noah Williams", "Pharmacy technician", "Pharmacy", 0),
    _person(40, "aisha", "Aisha Bello", "Community connector", "VCSE", 11),
)


def seed(session: Session, team_id: str = TEAM_ID) -> int:
    """Load the organisations and people; running it again changes nothing. Returns new members."""
    ensure_workspace(session, team_id, TEAM_NAME)
    organisations = {
        name: members.add_organisation(session, team_id, name, kind) for name, kind in ORGANISATIONS
    }
    created = 0
    for person in PEOPLE:
        if members.find(session, team_id, person.user_id):
            continue
        session.add(
            Member(
                team_id=team_id,
                slack_user_id=person.user_id,
                display_name=person.display_name,
                real_name=person.real_name,
                tz=person.tz,
                staff_group=person.staff_group,
                organisation_id=organisations[person.organisation].id,
                is_slack_admin=person.is_admin,
                is_lead=person.is_lead,
                profile_refreshed_at=utcnow(),
            )
        )
        created += 1
    return created
