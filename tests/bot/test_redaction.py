"""Redaction before text leaves for a language model: identifiers, contacts, people, pings."""

from __future__ import annotations

import pytest

from bot.redaction import Labeller, redact

VALID_NHS = "9434765919"  # NHS Digital's published test number: a valid check digit


@pytest.mark.parametrize("written", [VALID_NHS, "943 476 5919", "943-476-5919"])
def test_a_valid_nhs_number_is_redacted_however_it_is_written(written: str) -> None:
    assert redact(f"Patient {written} was discharged late") == (
        "Patient [NHS number] was discharged late"
    )


@pytest.mark.parametrize("number", ["9434765918", "1111111111", "12345678901"])
def test_ten_digit_numbers_that_fail_the_check_are_left_alone(number: str) -> None:
    text = f"Reference {number} on the rota"
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Email jane.doe@nhs.net for the slides", "Email [email] for the slides"),
        ("<mailto:jane@nhs.net|jane@nhs.net> has them", "[email] has them"),
        ("Ring 07700 900123 today", "Ring [phone] today"),
        ("Ring 07700900123 today", "Ring [phone] today"),
        ("Ring +44 7700 900123 today", "Ring [phone] today"),
        ("Ring +44 (0)20 7946 0958 today", "Ring [phone] today"),
        ("Ring 020 7946 0958 today", "Ring [phone] today"),
        ("Ring (01432) 355444 today", "Ring [phone] today"),
        ("Ring 0113 496 0000 today", "Ring [phone] today"),
        ("Ring 0800-123-4567 today", "Ring [phone] today"),
        ("She lives at HR1 2ER now", "She lives at [postcode] now"),
        ("Parliament is SW1A 1AA", "Parliament is [postcode]"),
        ("Near M1 1AE and B33 8TH", "Near [postcode] and [postcode]"),
        ("typed as hr1 2er", "typed as [postcode]"),
        ("DOB: 12/03/1956, frail", "[date of birth], frail"),
        ("date of birth 3rd March 1956", "[date of birth]"),
        ("born on 12 March 1956", "[date of birth]"),
        ("d.o.b. 1956-03-12", "[date of birth]"),
        ("dob is March 3, 1956", "[date of birth]"),
        ("MRN 1234567 on ward 7", "[hospital number] on ward 7"),
        ("hospital number: RWA123456", "[hospital number]"),
        ("Hosp No. K123456", "[hospital number]"),
        ("patient id 99887766", "[hospital number]"),
    ],
)
def test_identifiers_and_contact_details_become_labels(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "We cut waits from 4 hours to 90 minutes on Ward 7 in Q3 2024.",
        "The meeting on 12/03/2024 at 10:30 had 1,200 patients' feedback and 0.5 WTE.",
        "A&E, the M62 and the 5th floor; m62 5th junction; COVID 19; URGENT and WARD12.",
        "Team Person 1 works with NHS England on the 4-hour target.",
    ],
)
def test_ordinary_improvement_talk_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_mentions_become_person_labels_consistently_within_a_job() -> None:
    people = Labeller()
    first = redact("<@U0AAA1111> and <@U0BBB2222|bob> agreed with <@U0AAA1111>", people)
    second = redact("<@U0BBB2222> then <@U0CCC3333>; U0AAA1111 wrote the plan", people)
    assert first == "Person 1 and Person 2 agreed with Person 1"
    assert second == "Person 2 then Person 3; Person 1 wrote the plan"
    assert people.label("U0BBB2222") == "Person 2"
    # A new job starts again: labels mean nothing outside their job.
    assert redact("<@U0CCC3333>", Labeller()) == "Person 1"


def test_pings_disappear_in_every_form() -> None:
    text = (
        "<!channel> <!here> <!everyone> <!here|here> @channel @here @Everyone "
        "<!subteam^S0123|@nurses> &lt;!channel&gt; <<!here>!here> please read"
    )
    cleaned = redact(text)
    assert cleaned == "please read"


def test_channel_references_links_and_dates_become_their_words() -> None:
    text = (
        "See <#C0123|discharge-group> and <#C0456>: <https://example.org/a|the guide>, "
        "<https://example.org/b> by <!date^1392734382^{date}|Feb 18, 2014>. A&amp;E too."
    )
    assert redact(text) == (
        "See #discharge-group and #channel: the guide, https://example.org/b by Feb 18, 2014. "
        "A&E too."
    )


def test_everything_at_once_leaves_no_identifier_or_ping() -> None:
    text = (
        "<!here> <@U0AAA1111> says patient 943 476 5919 (DOB 01/02/1940, HR1 2ER, "
        "07700 900123, jo@example.org, MRN 7654321) waited 5 days"
    )
    cleaned = redact(text)
    assert cleaned == (
        "Person 1 says patient [NHS number] ([date of birth], [postcode], [phone], [email], "
        "[hospital number]) waited 5 days"
    )
