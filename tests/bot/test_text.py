from bot.text import escape, truncate


def test_mentions_and_broadcasts_cannot_form() -> None:
    escaped = escape("<!channel> hi <@U123> and <!here|here> @here @Channel a&b")
    assert "<" not in escaped and ">" not in escaped
    assert "&lt;!channel&gt;" in escaped
    assert "a&amp;b" in escaped
    assert "@here" not in escaped and "@Channel" not in escaped


def test_truncate_keeps_short_text_and_marks_cuts() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("a" * 20, 10) == "a" * 9 + "…"
