"""Defaults from the field, shipped as editable option lists (DESIGN.md)."""

STAFF_GROUPS = (
    "Medical",
    "Nursing and midwifery",
    "Allied health professionals",
    "Pharmacy",
    "Health care science",
    "Dentistry",
    "Optometry",
    "Paramedics",
    "Physician associates",
    "Social work and social care",
    "Public health",
    "VCSE",
    "Management and administration",
    "Patient and citizen partners",
)

ORGANISATION_TYPES = (
    "Acute trust",
    "Community trust",
    "Mental health trust",
    "Ambulance trust",
    "General practice / PCN",
    "GP federation",
    "Local authority",
    "Adult or children's social care",
    "Care home",
    "Community pharmacy",
    "Hospice",
    "VCSE",
    "Healthwatch",
    "University",
    "Health innovation network",
    "ICB",
)

FOOTPRINT_LEVELS = ("Neighbourhood", "PCN", "Place", "System (ICS)", "Region", "National")

IMPROVEMENT_THEMES = (
    "Prevention",
    "Urgent and emergency care",
    "Discharge and flow",
    "Elective recovery",
    "Frailty",
    "Cancer",
    "Mental health",
    "Children and young people",
    "Medicines safety",
    "Health inequalities",
    "Workforce retention and wellbeing",
    "Digital and data",
    "Collaborative leadership",
    "Sharing learning",
)

EXCHANGE_FORMATS = (
    "Half-day swap",
    "Shadowing",
    "Mentoring",
    "Coaching",
    "Peer visit",
    "Action learning set",
    "Quad",
    "Big Room table",
)

CHALLENGE_TAGS = (
    "Diverse leaders in decisions",
    "A culture of shared learning",
    "Resources and protected time",
    "A support offer at all levels",
    "Transparent, equitable recruitment",
    "Population health outcomes",
    "Inequalities",
    "Productivity and value",
    "Social and economic development",
)

PERSONAL_INTERESTS = (
    "Walking and the outdoors",
    "Running",
    "Cycling",
    "Team sports",
    "Music",
    "Reading",
    "Cooking",
    "Gardening",
    "Arts and crafts",
    "Photography",
    "Travel",
    "Volunteering",
    "Faith and community",
    "Family life",
)

CAREER_STAGES = ("Student or trainee", "Early career", "Established", "Senior or consultant")
