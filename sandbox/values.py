"""Dates, times and numbers as people type them, read the way Slack's date picker,
time picker and number input would take them."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

_MONTHS = {
    name: number
    for number in range(1, 13)
    for name in (
        date(2000, number, 1).strftime("%b").lower(),
        date(2000, number, 1).strftime("%B").lower(),
    )
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_date(text: str, today: date) -> str | None:
    """ISO date for what a person types: 2026-01-15, 15 Jan (the next one), 15/01,
    15/01/2026, today, tomorrow, a weekday (the next one) or +N days; None if unreadable."""
    text = text.strip().lower().replace(",", " ")
    try:
        if text == "today":
            return today.isoformat()
        if text == "tomorrow":
            return (today + timedelta(days=1)).isoformat()
        if re.fullmatch(r"\+\d{1,3}", text):
            return (today + timedelta(days=int(text[1:]))).isoformat()
        for n, name in enumerate(_WEEKDAYS):
            if len(text) >= 3 and name.startswith(text):
                return (today + timedelta(days=(n - today.weekday() - 1) % 7 + 1)).isoformat()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text).isoformat()
        if found := re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?", text):
            day, month, year = found.groups()
            return _dated(today, int(day), int(month), year)
        words = text.split()
        if len(words) in (2, 3):
            if words[0].isdigit() and words[1] in _MONTHS:
                day, month = int(words[0]), _MONTHS[words[1]]
            elif words[1].isdigit() and words[0] in _MONTHS:
                day, month = int(words[1]), _MONTHS[words[0]]
            else:
                return None
            year = words[2] if len(words) == 3 and words[2].isdigit() else None
            if len(words) == 3 and year is None:
                return None
            return _dated(today, day, month, year)
    except ValueError:
        return None
    return None


def _dated(today: date, day: int, month: int, year: str | None) -> str:
    if year is not None:
        full = int(year) + (2000 if len(year) == 2 else 0)
        return date(full, month, day).isoformat()
    found = date(today.year, month, day)
    return (found if found >= today else date(today.year + 1, month, day)).isoformat()


def parse_time(text: str) -> str | None:
    """HH:MM for 09:30, 9.30, 930, 9am, 2pm, 2:15pm; None if unreadable."""
    found = re.fullmatch(r"(\d{1,2})(?:[:.h]?(\d{2}))?\s*(am|pm)?", text.strip().lower())
    if not found:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    if found.group(3):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if found.group(3) == "pm" else 0)
    elif found.group(2) is None:
        return None  # a bare "9" could be either; ask for 09:00 or 9am
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def parse_number(text: str, element: dict[str, Any]) -> str | None:
    """The number as typed, if it is one the input takes (whole, within its range)."""
    try:
        value = float(text)
    except ValueError:
        return None
    if not element.get("is_decimal_allowed") and not value.is_integer():
        return None
    low, high = element.get("min_value"), element.get("max_value")
    if (low is not None and value < float(low)) or (high is not None and value > float(high)):
        return None
    return text
