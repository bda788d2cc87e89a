"""Erasure's text rules: what "forget me" rewrites in other people's rows, and what not."""

from __future__ import annotations

from bot.rights.erasure import FORMER, REMOVED, Needles, _clean

NEEDLES = Needles("U0MEMB001", ("Max Member", "max"), ("Huddle boards on every ward",))


def test_mentions_ids_names_and_their_words_are_replaced() -> None:
    text = "Thanks <@U0MEMB001|max> and Max member: Huddle boards on every ward (U0MEMB001)"
    assert NEEDLES.replace(text) == f"Thanks {FORMER} and {FORMER}: {REMOVED} ({FORMER})"


def test_a_short_handle_is_replaced_only_as_a_mention() -> None:
    assert NEEDLES.replace("ask @max") == f"ask {FORMER}"
    assert NEEDLES.replace("a max of 4 beds, maximum 6") == "a max of 4 beds, maximum 6"


def test_a_longer_handle_is_replaced_as_a_word_not_inside_words() -> None:
    needles = Needles("U1", ("maxine",), ())
    assert needles.replace("Maxine said; maxines") == f"{FORMER} said; maxines"


def test_their_id_leaves_lists_and_keys_and_others_stay() -> None:
    value = {
        "do_not_pair": ["U0MEMB001", "U0OTHER01"],
        "unmatchable": {"U0MEMB001": "no partner", "U0OTHER01": "paused"},
        "leads": ["U0LEAD001"],
    }
    assert _clean(value, NEEDLES) == {
        "do_not_pair": ["U0OTHER01"],
        "unmatchable": {"U0OTHER01": "paused"},
        "leads": ["U0LEAD001"],
    }
