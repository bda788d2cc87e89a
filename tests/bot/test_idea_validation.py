"""What a person types into the idea modal is checked on the server, whatever the client did."""

import pytest

from bot.errors import UserError
from bot.ideas.rules import validate
from storage import Database

TEAM = "T0VALID"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"title": ""}, "title", "short title"),
        ({"title": "   \n\t "}, "title", "short title"),
        ({"title": "x" * 151}, "title", "150 characters"),
        ({"title": "Fine", "description": "y" * 3001}, "description", "3000 characters"),
        ({"title": "Fine", "themes": ["Astrology"]}, "themes", "from the list"),
        ({"title": "Patient 943 476 5919"}, "title", "NHS number"),
        ({"title": "Fine", "challenge_id": 999}, "challenge", "doesn't exist"),
    ],
)
def test_bad_input_names_its_field(
    database: Database, fields: dict, field: str, words: str
) -> None:
    with database.session() as session, pytest.raises(UserError) as raised:
        validate(session, TEAM, **fields)
    assert raised.value.field == field
    assert words in raised.value.message


def test_good_input_is_tidied(database: Database) -> None:
    with database.session() as session:
        fields = validate(session, TEAM, title="  Protected   time\n for QI ", themes=["Frailty"])
    assert fields.title == "Protected time for QI"
    assert fields.themes == ("Frailty",)
