"""Field-grade redaction (issue 13): every identifier variant reproduced on the old main is
redacted now, valid NHS numbers are found however they are written, harmless numbers pass,
the refusal at input names the field and what to remove, and nothing touches the network."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap

import openai
import pytest

from bot.config import Settings
from bot.errors import UserError
from bot.llm import llm_client
from bot.redaction import (
    LABELS,
    find,
    is_valid_nhs_number,
    redact,
    redact_identifiers,
    refuse_patient_identifiers,
)
from llmtwin import LLMTwin

NBSP, ZWSP, THIN, NARROW = "\u00a0", "\u200b", "\u2009", "\u202f"

# Each variant from the issue, as it reached the model on the old main.
REPRODUCTION = [
    ("943.476.5919", "[NHS number]"),
    (f"943{NBSP}476{NBSP}5919", "[NHS number]"),
    ("9434 765 919", "[NHS number]"),
    (f"943{ZWSP}476{ZWSP}5919", "[NHS number]"),
    ("NHS-9434765919", "[NHS number]"),
    ("9434765919-A", "[NHS number]-A"),
    ("943/476/5919", "[NHS number]"),
    ("Mr Smith (01/02/1950)", "[name] ([date of birth])"),
    ("hospital number RJ1-234567", "[hospital number]"),
    ("K1234567", "[hospital number]"),
    ("Mrs Jane Smith", "[name]"),
    ("Dr Patel", "[name]"),
]


@pytest.mark.parametrize(("variant", "expected"), REPRODUCTION)
def test_every_reproduced_variant_is_redacted(variant: str, expected: str) -> None:
    assert redact(f"Seen today: {variant}, waited 5 hours") == (
        f"Seen today: {expected}, waited 5 hours"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "/copbot learned Mrs Jane Smith at HR1 2ER, NHS 943.476.5919",
            "/copbot learned [name] at [postcode], [NHS number]",
        ),
        ("Mrs Jane Smith, 84, on ward 7 bed 12, HR1 2ER", "[name], 84, on [bed], [postcode]"),
        ("Mrs Jane Smith HR1 2ER", "[name] [postcode]"),
        ("(943) 476-5919 and 943\n476\n5919", "([NHS number] and [NHS number]"),
        ("⁹⁴³ ⁴⁷⁶ ⁵⁹¹⁹ and Mrs Smith's daughter", "[NHS number] and [name] daughter"),
        ("NHS# 943 476 5919 and NHS No: 94 34 76 59 19", "[NHS number] and [NHS number]"),
        (f"NHS number{NARROW}943{THIN}476{THIN}5919", "[NHS number]"),
        ("９４３ ４７６ ５９１９ in full-width digits", "[NHS number] in full-width digits"),
        ("born 1950-02-01, DOB 1 Feb 1950", "[date of birth], [date of birth]"),
        ("Hosp no. 1234567 and MRN: K123456", "[hospital number] and [hospital number]"),
        ("bay 3 bed 4 then bed 12 on ward 7", "[bed] then [bed]"),
        ("Prof. A. O'Neill-Khan met Sister McDonald", "[name] met [name]"),
        ("ring 07700 900123 or mail jo@example.org", "ring [phone] or mail [email]"),
    ],
)
def test_identifiers_in_context_become_readable_labels(text: str, expected: str) -> None:
    assert redact(text) == expected


def valid_nhs_numbers(count: int, seed: int) -> list[str]:
    """Synthetic NHS numbers with valid check digits (never real people's)."""
    rng = random.Random(seed)
    found: list[str] = []
    while len(found) < count:
        stem = "".join(rng.choice("0123456789") for _ in range(9))
        total = sum(int(d) * w for d, w in zip(stem, range(10, 1, -1), strict=True))
        check = (11 - total % 11) % 11
        if check != 10 and is_valid_nhs_number(stem + str(check)):
            found.append(stem + str(check))
    return found


NHS_FORMS = [
    lambda n: n,
    lambda n: f"{n[:3]} {n[3:6]} {n[6:]}",
    lambda n: f"{n[:3]}.{n[3:6]}.{n[6:]}",
    lambda n: f"{n[:3]}-{n[3:6]}-{n[6:]}",
    lambda n: f"{n[:3]}/{n[3:6]}/{n[6:]}",
    lambda n: f"{n[:4]} {n[4:7]} {n[7:]}",
    lambda n: f"{n[:3]}{NBSP}{n[3:6]}{NBSP}{n[6:]}",
    lambda n: f"{n[:3]}{ZWSP}{n[3:6]}{ZWSP}{n[6:]}",
    lambda n: f"{n[:3]}\u2013{n[3:6]}\u2013{n[6:]}",
    lambda n: f"NHS-{n}",
    lambda n: f"NHS#{n}",
    lambda n: f"NHS No: {' '.join(n)}",
    lambda n: f"{n}-A",
]


def test_nhs_number_recall_is_complete_on_a_fixed_sample() -> None:
    numbers = valid_nhs_numbers(60, seed=13)
    missed = []
    for number in numbers:
        for form in NHS_FORMS:
            written = form(number)
            redacted = redact(f"Patient {written} was discharged late")
            if number[-4:] in redacted.replace(" ", ""):
                missed.append(written)
    assert missed == []  # 60 numbers x 13 forms: recall 100%


@pytest.mark.parametrize("number", ["9434765918", "1111111111", "12345678901"])
def test_ten_digit_numbers_that_fail_the_check_are_not_nhs_numbers(number: str) -> None:
    assert [f.kind for f in find(f"Reference {number} on the rota")] == []


HARMLESS = [
    "We moved to 6 beds a day on ward 7 after the 10:30 huddle.",
    "Targets for 2024/25: band 6 nurses in post by Q3, 95% within 4 hours.",
    "The 12/03/2024 meeting had 1,200 replies, 0.5 WTE and 3 PDSA cycles.",
    "Nurse Practitioner rotas and Sister led clinics on the M62 corridor.",
    "MS Teams call at 9am with 15-25 people from 3 trusts and 2 PCNs.",
    "Bed occupancy was 92.5% and 14 of 30 beds were free by 11:00.",
    "Ward 12, ward B and bay areas were redesigned in 2023-24.",
]


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_numbers_are_left_alone_and_accepted(text: str) -> None:
    assert redact(text) == text
    refuse_patient_identifiers(text, "description")  # raises nothing


@pytest.mark.parametrize(
    ("field", "text", "named", "kind"),
    [
        ("description", "Patient 943.476.5919 waited", "The description", "an NHS number"),
        ("reflection", "Mr Smith (01/02/1950) was frail", "Your reflection", "a date of birth"),
        ("answer", "hospital number RJ1-234567", "Your answer", "a hospital or patient number"),
        ("offers", "born 1950-02-01", "I can offer", "a date of birth"),
        ("impact", "K1234567 went home", "Impact", "a hospital or patient number"),
    ],
)
def test_refusal_names_the_field_and_what_to_remove(
    field: str, text: str, named: str, kind: str
) -> None:
    with pytest.raises(UserError) as raised:
        refuse_patient_identifiers(text, field)
    message = raised.value.message
    assert message.startswith(f"{named} contains {kind}")
    assert raised.value.field == field
    assert "Please remove it" in message


def test_postcodes_and_titled_names_are_redacted_but_not_refused() -> None:
    refuse_patient_identifiers("Mrs Jane Smith at HR1 2ER", "title")
    assert redact("Mrs Jane Smith at HR1 2ER") == "[name] at [postcode]"


def test_a_uk_mobile_in_international_form_is_a_phone_not_an_nhs_number() -> None:
    assert is_valid_nhs_number("7249888986")  # its last ten digits pass the check
    for written in ("+44 7249 888986", "+44 (0)7249 888986", "0044 7249 888986"):
        refuse_patient_identifiers(f"Ring me on {written}", "offers")  # raises nothing
        assert redact(f"Ring me on {written}") == "Ring me on [phone]"


def test_dr_foster_is_benchmarking_data_not_a_person() -> None:
    assert redact("Dr Foster data and Dr Fosters notes") == "Dr Foster data and [name] notes"


def test_odd_and_long_text_is_handled() -> None:
    assert redact("\ud800 half a pair, NUL\x00 and Mrs Jane Smith") == (
        "\ud800 half a pair, NUL\x00 and [name]"
    )
    assert redact("Arabic-Indic digits ٩٤٣ ٤٧٦ ٥٩١٩") == "Arabic-Indic digits [NHS number]"
    long = "long " * 12_000 + "943 476 5919"
    assert redact(long).endswith("long [NHS number]")


def test_only_identifiers_change_and_odd_characters_elsewhere_stay() -> None:
    text = f"Café{NBSP}team: NHS 943 476 5919 — ok"
    assert redact_identifiers(text) == f"Café{NBSP}team: [NHS number] — ok"
    assert set(LABELS.values()) >= {"[NHS number]", "[name]", "[postcode]"}


def test_redaction_uses_no_network() -> None:
    """A fresh process with sockets blocked builds Presidio and redacts every kind."""
    script = textwrap.dedent(
        """
        import socket

        def refuse(*args, **kwargs):
            raise RuntimeError("network use during redaction")

        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        from bot.redaction import redact, refuse_patient_identifiers
        text = (
            "Mrs Jane Smith 943.476.5919 DOB 1 Feb 1950 MRN 1234567 HR1 2ER ward 7 bed 12 "
            "jo@example.org https://www.example.co.uk 020 7946 0958 or +44 7700 900123"
        )
        print(redact(text))
        try:
            refuse_patient_identifiers(text, "description")
        except Exception as refused:
            print(type(refused).__name__)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "network use" not in done.stderr
    printed = done.stdout.splitlines()
    assert printed[0] == (
        "[name] [NHS number] [date of birth] [hospital number] [postcode] [bed] [email] "
        "https://www.example.co.uk [phone] or [phone]"
    )
    assert printed[1] == "UserError"


def test_every_client_copbot_makes_redacts_chat_responses_and_embeddings() -> None:
    """The last guard: a caller that forgot to redact still sends nothing identifying."""
    secret = "Mrs Jane Smith, NHS 943.476.5919, HR1 2ER"
    with LLMTwin(api_key="sk-test") as llm:
        settings = Settings(_env_file=None, openai_api_key="sk-test", openai_base_url=llm.base_url)  # type: ignore[call-arg]
        client = llm_client(settings)
        assert client is not None
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": secret}]
        )
        client.embeddings.create(model="text-embedding-3-small", input=[secret, "plain"])
        with pytest.raises(openai.NotFoundError):  # the twin has no /responses; it records it
            client.responses.create(model="gpt-4o-mini", input=secret, instructions=secret)
        sent = json.dumps([r.body for r in llm.requests], ensure_ascii=False)
    for part in ("Jane", "Smith", "943", "5919", "HR1 2ER"):
        assert part not in sent
    assert sent.count("[name], [NHS number], [postcode]") == 4
    assert '"plain"' in sent and '"gpt-4o-mini"' in sent
