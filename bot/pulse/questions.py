"""Question kinds, the starter bank, and checking what a lead writes or a member answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import UserError
from bot.privacy import refuse_patient_identifiers

SCALE_1_5 = "scale_1_5"
NPS_0_10 = "nps_0_10"
YES_NO = "yes_no"
SINGLE_CHOICE = "single_choice"
FREE_TEXT = "free_text"
KINDS = (SCALE_1_5, NPS_0_10, YES_NO, SINGLE_CHOICE, FREE_TEXT)
NUMERIC = (SCALE_1_5, NPS_0_10)
RANGES = {SCALE_1_5: (1, 5), NPS_0_10: (0, 10), YES_NO: (0, 1)}

MAX_QUESTIONS = 5
QUESTION_MAX = 300
OPTION_MAX = 75  # Slack's limit for an option's text
MAX_OPTIONS = 10
TEXT_ANSWER_MAX = 3000

# DESIGN.md "Defaults from the field": offered in the designer, editable, not hard-coded logic.
STARTER_QUESTIONS: tuple[dict[str, Any], ...] = (
    {"kind": SCALE_1_5, "text": "How are you feeling about improvement work this week?"},
    {"kind": FREE_TEXT, "text": "What is working well?"},
    {"kind": FREE_TEXT, "text": "What is getting in the way?"},
    {"kind": SCALE_1_5, "text": "I can raise a concern and be heard"},
    {"kind": YES_NO, "text": "This week I connected with someone from another organisation"},
    {"kind": NPS_0_10, "text": "How likely are you to recommend this community to a colleague?"},
)


@dataclass(frozen=True)
class Answer:
    """One member's answer to one question, before it is stored."""

    question: int
    value: int | None = None
    text: str | None = None


def clean_questions(raw: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """1 to 5 questions, each non-empty, of a known kind; choices need 2-10 distinct options."""
    if not raw:
        raise UserError("Add at least one question.", field="questions")
    if len(raw) > MAX_QUESTIONS:
        raise UserError(
            f"A pulse has at most {MAX_QUESTIONS} questions, so it takes seconds to answer.",
            field="questions",
        )
    cleaned: list[dict[str, Any]] = []
    for number, question in enumerate(raw, start=1):
        kind = str(question.get("kind") or "")
        text = " ".join(str(question.get("text") or "").split())
        if kind not in KINDS:
            raise UserError(f"Question {number} needs a kind from the list.", field="questions")
        if not text:
            raise UserError(f"Question {number} is empty. Write a question.", field="questions")
        if len(text) > QUESTION_MAX:
            raise UserError(
                f"Question {number} is too long; keep it under {QUESTION_MAX} characters.",
                field="questions",
            )
        item: dict[str, Any] = {"kind": kind, "text": text}
        if kind == SINGLE_CHOICE:
            options = [" ".join(str(o).split()) for o in question.get("options") or []]
            options = [option for option in options if option]
            unique = len({option.lower() for option in options}) == len(options)
            if not 2 <= len(options) <= MAX_OPTIONS or not unique:
                raise UserError(
                    f"Question {number} needs 2 to {MAX_OPTIONS} different options.",
                    field="questions",
                )
            if any(len(option) > OPTION_MAX for option in options):
                raise UserError(
                    f"Options in question {number} must be under {OPTION_MAX} characters.",
                    field="questions",
                )
            item["options"] = options
        cleaned.append(item)
    return cleaned


def check_answer(questions: Sequence[Mapping[str, Any]], answer: Answer) -> Answer:
    """The answer if it fits its question; a forged or stale value is refused, not clamped."""
    if not 0 <= answer.question < len(questions):
        raise UserError("That question is not in this pulse.", field="answer")
    question = questions[answer.question]
    kind = question["kind"]
    if kind == FREE_TEXT:
        text = (answer.text or "").strip()
        if answer.value is not None or len(text) > TEXT_ANSWER_MAX:
            raise UserError(f"Keep your answer under {TEXT_ANSWER_MAX} characters.", field="answer")
        refuse_patient_identifiers(text, field="answer")
        return Answer(answer.question, None, text or None)
    if answer.text is not None or answer.value is None or isinstance(answer.value, bool):
        raise UserError("That answer doesn't fit the question.", field="answer")
    low, high = RANGES.get(kind, (0, len(question.get("options") or []) - 1))
    if not low <= int(answer.value) <= high:
        raise UserError("That answer doesn't fit the question.", field="answer")
    return Answer(answer.question, int(answer.value), None)
