"""Redaction measured, not hoped: recall per identifier kind, false positives and time.

Generates a synthetic corpus in code (never real data; NHS numbers get valid check digits
from a seeded generator) and runs ``bot.redaction.find`` over it:

- at least 500 variants of each identifier kind, each inside an ordinary sentence: NHS
  numbers (groupings, separators including NBSP, thin and zero-width characters, dashes,
  full-width digits, prefixes such as ``NHS-``/``NHS#``/``NHS No:``, suffixes such as
  ``-A``), hospital numbers and MRNs (labelled and in trust shapes such as ``K1234567``),
  dates of birth (labelled in UK formats, and bare or bracketed after a name), UK
  postcodes, phone numbers, email addresses, titled names and ward bed references;
- at least 500 ordinary improvement sentences full of harmless numbers ("6 beds a day",
  "ward 7", "10:30 huddle", "2024/25", "band 6", recent dates, percentages, money...).

It prints, per kind, recall (the identifier is wholly inside what is redacted) and the
share labelled as the right kind; the false-positive rate (harmless sentences in which
anything was found, with examples); and the time to redact one message (``redact``, as on
the capture and model paths), with the one-off cost of building Presidio. Nothing is
asserted. Targets (issue 13): NHS numbers 100%, other numeric kinds >= 99%, titled names
>= 95%, false positives < 2%.

    .venv/bin/python bench/redaction.py                 # ~20 s
    .venv/bin/python bench/redaction.py --per-kind 2000 --seed 7
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STARTED = time.perf_counter()
from bot import redaction  # noqa: E402  (timed: the import is part of the cold start)

IMPORTED = time.perf_counter() - STARTED

NBSP, THIN, NARROW, FIGURE, IDEO = "\u00a0", "\u2009", "\u202f", "\u2007", "\u3000"
ZWSP, ZWJ, WJ, SHY = "\u200b", "\u200d", "\u2060", "\u00ad"

CARRIERS = [
    "Patient {x} waited 6 hours for transport on ward 7.",
    "Re {x}: discharge letter delayed again, pharmacy chased at 10:30.",
    "Can someone check {x} before the huddle?",
    "{x} was the third delayed discharge this week.",
    "Escalated ({x}) to the site team at 14:00.",
    "Family asked about {x}, so we rang back at 9am",
    "Note for handover - {x}",
    "{x}",
]


# ---------------------------------------------------------------------- identifiers


def nhs_number(rng: random.Random) -> str:
    while True:
        stem = "".join(rng.choice("0123456789") for _ in range(9))
        total = sum(int(d) * w for d, w in zip(stem, range(10, 1, -1), strict=True))
        check = (11 - total % 11) % 11
        number = stem + str(check)
        if check != 10 and redaction.is_valid_nhs_number(number):
            return number


def grouped(digits: str, sizes: list[int], sep: str) -> str:
    parts, at = [], 0
    for size in sizes:
        parts.append(digits[at : at + size])
        at += size
    return sep.join(parts)


NHS_SEPARATORS = [
    " ", ".", "-", "/", NBSP, THIN, NARROW, FIGURE, IDEO, ZWSP, ZWJ, WJ, SHY,
    "\u2013", "\u2011", "\u2212", " - ", " / ", "  ", " . ", "\n",
]  # fmt: skip
FREE_GROUPINGS = [[10], [3, 3, 4], [4, 3, 3], [3, 4, 3]]
ANY_GROUPINGS = [*FREE_GROUPINGS, [2, 2, 2, 2, 2], [1] * 10, [5, 5], [3, 3, 2, 2]]
NHS_PREFIXES = ["NHS ", "NHS-", "NHS#", "NHS No: ", "NHS no. ", "NHS number ", "nhs: ", "NHS"]
NHS_SUFFIXES = ["", "", "", "-A", "A", "/1", ".", ")"]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def nhs_variant(rng: random.Random) -> tuple[str, str]:
    number = nhs_number(rng)
    sep = rng.choice(NHS_SEPARATORS)
    if rng.random() < 0.35:
        written = rng.choice(NHS_PREFIXES) + grouped(number, rng.choice(ANY_GROUPINGS), sep)
    else:
        written = grouped(number, rng.choice(FREE_GROUPINGS), sep)
    if rng.random() < 0.05:
        written = written.translate(FULL_WIDTH)
    elif rng.random() < 0.05:
        written = f"({number[:3]}) {number[3:6]}-{number[6:]}"
    return written, rng.choice(NHS_SUFFIXES)


HOSPITAL_LABELS = [
    "hospital number", "Hospital No.", "Hosp no.", "hosp no", "MRN", "MRN:", "M.R.N.",
    "patient ID", "Patient no.", "unit number", "case note number", "CRN",
    "medical record number", "Hospital number:", "MRN #",
]  # fmt: skip
UPPER = "ABCDEFGHJKLMNPRSTUVWXYZ"


def hospital_value(rng: random.Random, bare: bool) -> str:
    digits = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    shapes: list[Callable[[], str]] = [
        lambda: rng.choice(UPPER) + digits(7),
        lambda: rng.choice(UPPER) + rng.choice(UPPER) + digits(7),
        lambda: rng.choice(UPPER) + rng.choice(UPPER) + digits(1) + "-" + digits(6),
        lambda: rng.choice(UPPER) * 1 + rng.choice(UPPER) + rng.choice(UPPER) + digits(6),
    ]
    if not bare:
        shapes += [lambda: digits(7), lambda: digits(8), lambda: rng.choice(UPPER) + digits(6)]
    return rng.choice(shapes)()


def hospital_variant(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.7:
        return f"{rng.choice(HOSPITAL_LABELS)} {hospital_value(rng, bare=False)}", ""
    return hospital_value(rng, bare=True), ""


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip
DOB_LABELS = ["DOB", "DOB:", "D.O.B.", "dob", "d.o.b", "date of birth", "Date of birth:",
              "born", "born on", "Born:", "birth date", "DoB -"]  # fmt: skip


def a_date(rng: random.Random, labelled: bool) -> str:
    year = rng.randint(1920, 2006)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    name = MONTHS[month - 1]
    forms = [
        f"{day:02d}/{month:02d}/{year}",
        f"{day}/{month}/{year}",
        f"{day:02d}.{month:02d}.{year}",
        f"{day:02d}-{month:02d}-{year}",
        f"{year}-{month:02d}-{day:02d}",
    ]
    worded = [
        f"{day} {name[:3]} {year}",
        f"{day} {name} {year}",
        f"{day}{'th' if 4 <= day <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th')}"
        f" of {name} {year}",
        f"{name} {day}, {year}",
    ]
    if labelled:
        return rng.choice(forms + worded + [f"{day:02d}/{month:02d}/{year % 100:02d}"])
    return rng.choice(forms)


def dob_variant(rng: random.Random) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.6:
        return f"{rng.choice(DOB_LABELS)} {a_date(rng, labelled=True)}", ""
    if roll < 0.8:
        return f"{rng.choice(TITLES)} {rng.choice(SURNAMES)} ({a_date(rng, labelled=False)})", ""
    return a_date(rng, labelled=False), ""


AREAS = [
    "HR",
    "B",
    "M",
    "SW",
    "EC",
    "W",
    "N",
    "LS",
    "G",
    "CF",
    "BT",
    "NE",
    "L",
    "S",
    "E",
    "OX",
    "CB",
    "BS",
    "NG",
    "LE",
    "DE",
    "ST",
    "WR",
    "GL",
    "TR",
    "EX",
    "PL",
    "YO",
    "HU",
]
INWARD = "ABDEFGHJLNPQRSTUWXYZ"  # fmt: skip


def postcode_variant(rng: random.Random) -> tuple[str, str]:
    area = rng.choice(AREAS)
    district = str(rng.randint(1, 29 if len(area) == 2 else 9))
    if area in ("SW", "EC", "W") and rng.random() < 0.3:
        district = str(rng.randint(1, 9)) + rng.choice("ABCDEHMNPRVWXY")
    inward = str(rng.randint(0, 9)) + rng.choice(INWARD) + rng.choice(INWARD)
    roll = rng.random()
    if roll < 0.55:
        return f"{area}{district} {inward}", ""
    if roll < 0.7:
        return f"{area}{district}{inward}", ""
    if roll < 0.85:
        return f"{area}{district}{NBSP}{inward}", ""
    return f"{area}{district} {inward}".lower(), ""


def phone_variant(rng: random.Random) -> tuple[str, str]:
    d = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    mobile = "7" + rng.choice("12345789") + d(2)
    rest = d(6)
    forms = [
        f"0{mobile} {rest}",
        f"0{mobile}{rest}",
        f"+44 {mobile} {rest}",
        f"+44 (0){mobile} {rest}",
        f"0044 {mobile} {rest}",
        f"0{mobile} {rest[:3]} {rest[3:]}",
        f"01{d(3)} {d(6)}",
        f"(01{d(3)}) {d(6)}",
        f"020 {rng.choice('378')}{d(3)} {d(4)}",
        f"0113 {d(3)} {d(4)}",
        f"0800 {d(3)} {d(4)}",
        f"0800-{d(3)}-{d(4)}",
        f"+44 20 {rng.choice('378')}{d(3)} {d(4)}",
        f"01{d(2)} {d(3)} {d(4)}",
    ]
    return rng.choice(forms), ""


FIRST = [
    "Jane",
    "John",
    "Amara",
    "Priya",
    "Mohammed",
    "Siobhan",
    "Wei",
    "Olu",
    "Grace",
    "Tomasz",
    "Aisha",
    "Rhys",
    "Niamh",
    "Kwame",
    "Fatima",
    "Liam",
    "Chloe",
    "Deepak",
]
SURNAMES = [
    "Smith",
    "Patel",
    "Jones",
    "O'Neill",
    "McDonald",
    "Smith-Jones",
    "Okafor",
    "Nguyen",
    "Kowalski",
    "Ahmed",
    "Williams",
    "MacLeod",
    "Brown",
    "Khan",
    "Evans",
    "D'Souza",
    "Taylor",
    "Hughes",
    "Begum",
    "Wright",
    "Van Dyke",
    "Oyelaran",
]
TITLES = ["Mr", "Mrs", "Ms", "Miss", "Dr", "Prof", "Sister", "Nurse", "Dr.", "Prof.", "Mrs."]


def name_variant(rng: random.Random) -> tuple[str, str]:
    title = rng.choice(TITLES)
    surname = rng.choice(SURNAMES)
    roll = rng.random()
    if roll < 0.4:
        written = f"{title} {surname}"
    elif roll < 0.75:
        written = f"{title} {rng.choice(FIRST)} {surname}"
    elif roll < 0.85:
        written = f"{title} {rng.choice(FIRST)[0]}. {surname}"
    elif roll < 0.93:
        written = f"{title} {surname}".upper()
    elif title[:2] in ("Mr", "Ms", "Dr"):
        written = f"{title.lower()} {surname}"  # a lower-case title, a capitalised name
    else:
        written = f"{title} {surname}"
    return written, ""


def bed_variant(rng: random.Random) -> tuple[str, str]:
    ward = rng.choice([str(rng.randint(1, 40)), f"{rng.randint(1, 40)}{rng.choice('ABC')}",
                       rng.choice("ABCDEF")])  # fmt: skip
    bay, bed = rng.randint(1, 8), rng.randint(1, 30)
    forms = [
        f"ward {ward} bed {bed}",
        f"Ward {ward}, bed {bed}",
        f"bay {bay} bed {bed}",
        f"Bay {bay}, Bed {bed}",
        f"bed {bed} on ward {ward}",
        f"Ward {ward} bay {bay} bed {bed}",
        f"bed {bed} in bay {bay}",
        f"side room {bay} on ward {ward}",
        f"{rng.choice(['Oak', 'Beech', 'Cedar', 'Willow'])} Ward bed {bed}",
        f"ward {ward} / bed {bed}",
    ]
    return rng.choice(forms), ""


def email_variant(rng: random.Random) -> tuple[str, str]:
    first = rng.choice(FIRST).lower()
    last = rng.choice(SURNAMES).lower().replace("'", "").replace(" ", "")
    domain = rng.choice(["nhs.net", "wvt.nhs.uk", "herefordshire.gov.uk", "gmail.com",
                         "example.org", "hotmail.co.uk", "trust.nhs.uk"])  # fmt: skip
    local = rng.choice(
        [f"{first}.{last}", f"{first[0]}{last}", f"{first}.{last}{rng.randint(1, 99)}"]
    )
    return f"{local}@{domain}", ""


KINDS: dict[str, tuple[str, Callable[[random.Random], tuple[str, str]]]] = {
    "NHS number": (redaction.NHS_NUMBER, nhs_variant),
    "hospital number": (redaction.HOSPITAL_NUMBER, hospital_variant),
    "date of birth": (redaction.DATE_OF_BIRTH, dob_variant),
    "postcode": (redaction.POSTCODE, postcode_variant),
    "phone": (redaction.PHONE, phone_variant),
    "email": (redaction.EMAIL, email_variant),
    "titled name": (redaction.NAME, name_variant),
    "ward bed": (redaction.BED, bed_variant),
}


# ---------------------------------------------------------------------- harmless text

FRAGMENTS = [
    lambda r: f"{r.randint(2, 12)} beds a day",
    lambda r: f"ward {r.randint(1, 40)}",
    lambda r: f"the {r.randint(7, 16)}:{r.choice(['00', '15', '30', '45'])} huddle",
    lambda r: f"{r.choice(['2022/23', '2023/24', '2024/25', '2025/26'])}",
    lambda r: f"band {r.randint(2, 8)}",
    lambda r: f"{r.randint(5, 99)}% of patients",
    lambda r: f"{r.randint(1, 30)}/{r.randint(1, 12)}/{r.randint(2019, 2026)}",
    lambda r: f"{r.randint(1, 28)} {r.choice(MONTHS)} {r.randint(2020, 2026)}",
    lambda r: f"Q{r.randint(1, 4)} {r.randint(2021, 2026)}",
    lambda r: f"the {r.choice([4, 12, 18, 62])}-week target",
    lambda r: f"{r.randint(1, 9)},{r.randint(100, 999)} patients",
    lambda r: f"{r.choice(['0.5', '1.0', '2.6', '0.8'])} WTE",
    lambda r: f"{r.randint(10, 20)}-{r.randint(21, 40)} people",
    lambda r: f"PDSA cycle {r.randint(1, 6)}",
    lambda r: f"£{r.randint(1, 99)},{r.randint(100, 999)}",
    lambda r: f"{r.randint(2, 9)} PCNs",
    lambda r: f"a {r.randint(6, 12)}-week sprint",
    lambda r: f"NEWS2 of {r.randint(0, 9)}",
    lambda r: f"{r.randint(60, 99)}.{r.randint(0, 9)}% bed occupancy",
    lambda r: f"{r.choice(['111', '999'])} calls",
    lambda r: f"{r.randint(100, 999)} referrals in {r.randint(2019, 2025)}",
    lambda r: f"room {r.randint(1, 9)}.{r.randint(10, 40)}",
    lambda r: f"extension {r.randint(1000, 9999)}",
    lambda r: f"ST{r.randint(1, 8)} and F{r.randint(1, 2)} doctors",
    lambda r: f"the M{r.choice([5, 6, 50, 62, 4])}",
    lambda r: f"version {r.randint(1, 4)}.{r.randint(0, 9)}",
    lambda r: f"{r.randint(2, 30)} minutes",
    lambda r: f"bay areas on level {r.randint(1, 6)}",
    lambda r: f"Sister-led clinics on {r.choice(['Monday', 'Tuesday', 'Friday'])}",
    lambda r: f"Nurse Practitioner rotas for {r.randint(2, 9)} sites",
    lambda r: f"a {r.randint(20, 60)}-minute MS Teams call",
    lambda r: f"{r.randint(2, 12)} of {r.randint(13, 40)} beds",
    lambda r: f"the {r.randint(2019, 2025)} staff survey",
    lambda r: f"{r.randint(1, 5)} in {r.randint(6, 20)} staff",
    lambda r: f"{r.randint(1, 4)}{r.choice(['st', 'nd', 'rd', 'th'])} floor",
    lambda r: f"{r.randint(1000, 99999)} contacts a year",
    # Harder: numbers that look like identifiers at a glance.
    lambda r: "24/7 cover",
    lambda r: f"{r.choice(['1:1', '2:1'])} nursing",
    lambda r: f"the {r.randint(2019, 2023)}-{r.randint(2024, 2026)} audit",
    lambda r: f"ext. {r.randint(1000, 9999)}",
    lambda r: f"cohort {r.randint(1, 9)} of {r.randint(2020, 2026)}",
    lambda r: f"{r.randint(2, 12)} x {r.randint(10, 30)}-minute slots",
    lambda r: f"scores of {r.randint(1, 5)}, {r.randint(1, 5)} and {r.randint(1, 5)}",
    lambda r: f"in {r.randint(2019, 2025)} {r.randint(100, 999)} patients",
    lambda r: "the NHS began on 5 July 1948",
    lambda r: f"{r.randint(1, 28)}.{r.randint(1, 12)}.{r.randint(2020, 2026)} go-live",
    lambda r: f"{r.randint(2020, 2026)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d} launch",
    lambda r: f"ward {r.randint(1, 30)} and ward {r.randint(31, 40)}",
    lambda r: f"{r.randint(100, 999)} {r.randint(100, 999)} {r.randint(1000, 9999)} calls logged",
    lambda r: "Dr Foster benchmarking data",
    lambda r: f"the {r.choice(['Mr', 'Mrs'])} and {r.choice(['Ms', 'Mx'])} titles on forms",
]
SENTENCES = [
    "We cut waits with {a} and {b}.",
    "Our discharge team reported {a}, {b} and {c}.",
    "Since {a} we have seen {b}.",
    "Tip: plan {a} around {b}.",
    "{a} helped, but {b} is still a barrier.",
    "Idea: share {a} across {b} and {c}.",
    "At {a} we reviewed {b}.",
    "The pilot ran for {a} with {b}.",
]


def harmless(rng: random.Random) -> str:
    template = rng.choice(SENTENCES)
    parts = {k: rng.choice(FRAGMENTS)(rng) for k in "abc"}
    return template.format(**parts)


# ---------------------------------------------------------------------- measuring


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-kind", type=int, default=600)
    parser.add_argument("--harmless", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    built = time.perf_counter()
    redaction.find("warm up: Mrs Jane Smith 943 476 5919")
    build = time.perf_counter() - built
    print(f"cold start: import {IMPORTED * 1000:.0f} ms, Presidio built {build * 1000:.0f} ms")
    print(f"corpus: {args.per_kind} variants per kind x {len(KINDS)} kinds, "
          f"{args.harmless} harmless sentences (seed {args.seed})\n")  # fmt: skip

    print(f"{'kind':<16} {'variants':>8} {'recall':>8} {'right label':>12}  missed (first 3)")
    timings: list[float] = []
    for name, (kind, make) in KINDS.items():
        found = right = 0
        missed: list[str] = []
        for _ in range(args.per_kind):
            written, suffix = make(rng)
            carrier = rng.choice(CARRIERS)
            before, after = carrier.split("{x}")
            text = before + written + suffix + after
            start, end = len(before), len(before) + len(written)
            started = time.perf_counter()
            findings = redaction.find(text)
            timings.append(time.perf_counter() - started)
            spans = [(f.start, f.end, f.kind) for f in findings]
            inside = all(
                any(s <= i < e for s, e, _ in spans) for i in range(start, end) if text[i].isalnum()
            )
            if inside:
                found += 1
                if any(k == kind and s < end and e > start for s, e, k in spans):
                    right += 1
            elif len(missed) < 3:
                missed.append(repr(written))
        recall = 100 * found / args.per_kind
        labelled = 100 * right / args.per_kind
        print(
            f"{name:<16} {args.per_kind:>8} {recall:>7.2f}% {labelled:>11.2f}%  {', '.join(missed)}"
        )

    flagged: list[str] = []
    for _ in range(args.harmless):
        text = harmless(rng)
        started = time.perf_counter()
        findings = redaction.find(text)
        timings.append(time.perf_counter() - started)
        if findings:
            flagged.append(f"{text!r} -> {[f.text for f in findings]}")
    rate = 100 * len(flagged) / args.harmless
    print(f"\nfalse positives: {len(flagged)} of {args.harmless} harmless sentences ({rate:.2f}%)")
    for line in flagged[:5]:
        print(f"  {line}")

    print("\ntime to find identifiers in one message (find):")
    ms = sorted(t * 1000 for t in timings)
    mean, p50 = statistics.fmean(ms), ms[len(ms) // 2]
    p95, p99 = ms[int(len(ms) * 0.95)], ms[int(len(ms) * 0.99)]
    print(
        f"  {len(ms)} messages: mean {mean:.2f} ms, p50 {p50:.2f}, p95 {p95:.2f}, "
        f"p99 {p99:.2f}, max {ms[-1]:.2f}"
    )
    message = " ".join(harmless(rng) for _ in range(8)) + " Mrs Jane Smith 943 476 5919 HR1 2ER."
    for label, text in (("a 1,000-character message", message[:1000]),
                        ("a 40,000-character thread", (message + " ") * 40)):  # fmt: skip
        runs = 50 if len(text) < 5000 else 5
        started = time.perf_counter()
        for _ in range(runs):
            redaction.redact(text)
        took = (time.perf_counter() - started) / runs * 1000
        print(f"  redact, {label}: {took:.1f} ms")


if __name__ == "__main__":
    main()
