import pytest

from bot.errors import UserError
from bot.privacy import (
    is_valid_nhs_number,
    nhs_numbers,
    patient_identifiers,
    refuse_patient_identifiers,
)

VALID = "9434765919"  # a valid check digit (NHS Digital's published test number)


def test_modulus_11_check_digit() -> None:
    assert is_valid_nhs_number(VALID)
    assert not is_valid_nhs_number("9434765918")  # wrong check digit
    assert not is_valid_nhs_number("1111111111")  # repeated digits
    assert not is_valid_nhs_number("943476591")


@pytest.mark.parametrize("written", [VALID, "943 476 5919", "943-476-5919"])
def test_nhs_numbers_are_found_however_they_are_written(written: str) -> None:
    assert nhs_numbers(f"Patient {written} was discharged late") == [VALID]


def test_other_ten_digit_numbers_are_not_nhs_numbers() -> None:
    assert nhs_numbers("Call 0161496000 or see ref 9434765918") == []
    assert nhs_numbers("Order 19434765919 is longer") == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("DOB: 12/03/1948, frail", "a date of birth"),
        ("date of birth 3rd March 1950", "a date of birth"),
        ("MRN 12345678 waited 9 hours", "a hospital or patient number"),
        ("patient id: RX123456", "a hospital or patient number"),
    ],
)
def test_other_patient_identifiers(text: str, kind: str) -> None:
    assert patient_identifiers(text) == [kind]


def test_ordinary_improvement_text_passes() -> None:
    text = "Discharge lounge opens at 8am; 30 patients a week wait over 4 hours (2024 audit)."
    assert patient_identifiers(text) == []
    refuse_patient_identifiers(text, "description")


def test_refusal_names_what_was_found_and_the_field() -> None:
    with pytest.raises(UserError) as raised:
        refuse_patient_identifiers(f"Mrs B, {VALID}", "description")
    assert "an NHS number" in raised.value.message
    assert raised.value.field == "description"
