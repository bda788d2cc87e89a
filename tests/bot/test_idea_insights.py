"""The read side of Ideas against a real database: search, lists, engagement, export."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from bot.ideas.index import index_idea
from bot.ideas.insights import (
    EXPORT_COLUMNS,
    OTHER_GROUPS,
    STATUS_LABELS,
    engagement,
    export_csv,
    export_rows,
    fold_small_groups,
    ideas_by,
    ideas_supported_by,
    most_supported_this_week,
    search,
    waiting_for_review,
)
from storage import (
    Challenge,
    Database,
    Idea,
    IdeaStatus,
    Member,
    Organisation,
    Support,
    Workspace,
)

TEAM = "T0INSIGHT"
ELSEWHERE = "T0ELSEWHR"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    with database.session() as session:
        session.add(Workspace(team_id=TEAM, name="Insight ICS"))
        session.add(Workspace(team_id=ELSEWHERE, name="Another ICS"))
        session.flush()
        yield session


def add_idea(
    session: Session,
    title: str,
    *,
    description: str = "",
    author: str | None = "U0AUTHOR1",
    submitted_by: str | None = None,
    anonymous: bool = False,
    status: IdeaStatus = IdeaStatus.NEW,
    created: datetime | None = None,
    decided: datetime | None = None,
    team: str = TEAM,
    themes: Sequence[str] = (),
    **fields: object,
) -> Idea:
    idea = Idea(
        team_id=team,
        title=title,
        description=description,
        author_id=author,
        submitted_by=submitted_by or author,
        is_anonymous=anonymous,
        status=status,
        created_at=created or days_ago(1),
        decided_at=decided,
        themes=list(themes),
        **fields,
    )
    session.add(idea)
    session.flush()
    index_idea(session, idea)
    session.flush()
    return idea


def support(session: Session, idea: Idea, user_id: str, when: datetime | None = None) -> None:
    assert idea.id is not None
    session.add(Support(idea_id=idea.id, user_id=user_id, created_at=when or days_ago(1)))
    idea.supporter_count += 1
    session.add(idea)
    session.flush()


def member(
    session: Session,
    user_id: str,
    name: str = "",
    staff_group: str | None = None,
    organisation: Organisation | None = None,
) -> Member:
    person = Member(
        team_id=TEAM,
        slack_user_id=user_id,
        display_name=name,
        staff_group=staff_group,
        organisation_id=organisation.id if organisation else None,
    )
    session.add(person)
    session.flush()
    return person


def organisation(session: Session, name: str, org_type: str) -> Organisation:
    org = Organisation(team_id=TEAM, name=name, org_type=org_type)
    session.add(org)
    session.flush()
    return org


# ------------------------------------------------------------------------- search


def test_search_ranks_more_matching_terms_then_rarer_words_and_merged_last(
    session: Session,
) -> None:
    challenge = Challenge(
        team_id=TEAM,
        title="Winter pressures",
        channel_id="C0WINTER1",
        opens_at=days_ago(30),
        closes_at=days_ago(-30),
    )
    session.add(challenge)
    session.flush()
    lounge = add_idea(
        session,
        "Discharge lounge for frail patients",
        description="A lounge so frail patients wait in comfort for transport.",
        challenge_id=challenge.id,
        permalink="https://example.slack.com/archives/C0IDEAS/p1",
        supporter_count=4,
    )
    duplicate = add_idea(session, "Discharge lounge for frail patients on ward 7")
    duplicate.status = IdeaStatus.MERGED
    duplicate.merged_into_id = lounge.id
    session.add(duplicate)
    # "discharge" is common, "frailty" rare: one-word matches rank by idf.
    for number in range(6):
        add_idea(session, f"Discharge paperwork checklist {number}")
    falls = add_idea(session, "Frail patients falls clinic")
    for number in range(10):
        add_idea(session, f"Staff parking permits {number}")
    add_idea(session, "Discharge lounge for frail patients", team=ELSEWHERE)

    hits = search(session, TEAM, "discharge lounge frail")

    assert hits[0].id == lounge.id
    assert hits[0].matched_terms == 3
    assert hits[0].challenge_title == "Winter pressures"
    assert hits[0].supporter_count == 4
    assert hits[0].permalink == "https://example.slack.com/archives/C0IDEAS/p1"
    assert hits[0].status_label == "New"
    assert hits[1].id == falls.id  # one term, but the rarer one
    assert all(hit.matched_terms == 1 for hit in hits[1:-1])
    assert hits[-1].id == duplicate.id  # three terms, yet merged: last
    assert hits[-1].merged_into_id == lounge.id
    assert len(hits) == 9  # both lounges, six checklists, the clinic; not the other team
    assert [hit.score for hit in hits[2:-1]] == sorted(
        (hit.score for hit in hits[2:-1]), reverse=True
    )
    first_two = search(session, TEAM, "discharge lounge frail", limit=2)
    assert [hit.id for hit in first_two] == [lounge.id, falls.id]


def test_matching_more_query_terms_beats_a_higher_score(session: Session) -> None:
    rare = add_idea(session, "Podiatry podiatry podiatry clinic")
    common = [add_idea(session, f"Discharge checklist {number}") for number in range(9)]
    for number in range(10):
        add_idea(session, f"Staff parking permits {number}")

    hits = search(session, TEAM, "discharge checklist podiatry")

    assert [hit.id for hit in hits] == [idea.id for idea in reversed(common)] + [rare.id]
    assert hits[-1].score > hits[0].score  # rarer and repeated, yet it matches one term
    assert hits[0].matched_terms == 2
    assert [hit.id for hit in search(session, TEAM, "discharge checklist podiatry", limit=1)] == [
        common[-1].id
    ]


@pytest.mark.parametrize("words", ["", "   ", "the and of", "a"])
def test_empty_or_stopword_queries_find_nothing(session: Session, words: str) -> None:
    add_idea(session, "The and of a discharge lounge")
    assert search(session, TEAM, words) == []


def test_search_with_no_matching_word_finds_nothing(session: Session) -> None:
    add_idea(session, "Discharge lounge")
    assert search(session, TEAM, "phlebotomy") == []
    assert search(session, ELSEWHERE, "discharge") == []


# -------------------------------------------------------------------------- lists


def test_ideas_by_lists_own_and_submitted_ideas_newest_first(session: Session) -> None:
    oldest = add_idea(session, "Oldest", author="U0ME00001", created=days_ago(9))
    credited = add_idea(
        session,
        "From my message",
        author="U0ME00001",
        submitted_by="U0REACTOR",
        created=days_ago(5),
    )
    on_behalf = add_idea(
        session, "I saved theirs", author="U0COLLEAG", submitted_by="U0ME00001", created=days_ago(3)
    )
    secret = add_idea(session, "My anonymous one", author="U0ME00001", anonymous=True)
    add_idea(session, "Not mine", author="U0SOMEONE")
    add_idea(session, "Mine elsewhere", author="U0ME00001", team=ELSEWHERE)

    mine = ideas_by(session, TEAM, "U0ME00001")

    assert [idea.id for idea in mine] == [secret.id, on_behalf.id, credited.id, oldest.id]
    assert [idea.id for idea in ideas_by(session, TEAM, "U0ME00001", limit=2)] == [
        secret.id,
        on_behalf.id,
    ]
    assert ideas_by(session, TEAM, "U0NOBODY1") == []


def test_ideas_supported_by_lists_most_recently_supported_first(session: Session) -> None:
    first = add_idea(session, "First", created=days_ago(10))
    second = add_idea(session, "Second", created=days_ago(9))
    third = add_idea(session, "Third", created=days_ago(8))
    support(session, second, "U0FAN0001", days_ago(6))
    support(session, first, "U0FAN0001", days_ago(2))
    support(session, third, "U0OTHER01", days_ago(1))

    supported = ideas_supported_by(session, TEAM, "U0FAN0001")

    assert [idea.id for idea in supported] == [first.id, second.id]
    assert supported[0].supporter_count == 1
    assert ideas_supported_by(session, ELSEWHERE, "U0FAN0001") == []


def test_most_supported_this_week_counts_only_recent_supports(session: Session) -> None:
    veteran = add_idea(session, "Lots of old support", created=days_ago(60))
    rising = add_idea(session, "Rising this week", created=days_ago(3))
    steady = add_idea(session, "One this week", created=days_ago(40))
    merged = add_idea(session, "Merged away", created=days_ago(5))
    add_idea(session, "Nobody", created=days_ago(2))
    for number in range(8):
        support(session, veteran, f"U0OLD{number:04d}", days_ago(8 + number))
    support(session, veteran, "U0NEW00001", days_ago(1))
    for number in range(3):
        support(session, rising, f"U0NEW{number:05d}", days_ago(number + 0.5))
    support(session, steady, "U0NEW00009", days_ago(6.9))
    for number in range(10):
        support(session, merged, f"U0MRG{number:04d}", days_ago(1))
    merged.status = IdeaStatus.MERGED
    merged.merged_into_id = rising.id
    session.add(merged)
    session.flush()

    week = most_supported_this_week(session, TEAM, NOW)

    assert [(idea.id, idea.supports_this_week) for idea in week] == [
        (rising.id, 3),
        (veteran.id, 1),
        (steady.id, 1),
    ]
    assert week[1].supporter_count == 9  # the card's count is all-time
    assert len(most_supported_this_week(session, TEAM, NOW, limit=1)) == 1
    assert most_supported_this_week(session, TEAM, NOW + timedelta(days=30)) == []


def test_waiting_for_review_lists_the_oldest_and_counts_them_all(session: Session) -> None:
    oldest = add_idea(session, "Waiting a month", created=days_ago(30))
    reviewing = add_idea(
        session, "Under review for ages", status=IdeaStatus.UNDER_REVIEW, created=days_ago(20)
    )
    add_idea(session, "Only 13 days", created=days_ago(13))
    newer = add_idea(session, "Waiting 18 days", created=days_ago(18))
    add_idea(session, "Decided long ago", status=IdeaStatus.IN_PROGRESS, created=days_ago(90))
    add_idea(session, "Turned down", status=IdeaStatus.NOT_TAKEN_FORWARD, created=days_ago(90))
    add_idea(session, "Merged", status=IdeaStatus.MERGED, created=days_ago(90))
    add_idea(session, "Elsewhere", created=days_ago(90), team=ELSEWHERE)

    waiting = waiting_for_review(session, TEAM, NOW)
    assert [idea.id for idea in waiting.ideas] == [oldest.id, reviewing.id, newer.id]
    assert waiting.total == 3
    assert waiting.ideas[1].status_label == "Under review"

    first = waiting_for_review(session, TEAM, NOW, limit=2)
    assert [idea.id for idea in first.ideas] == [oldest.id, reviewing.id]
    assert first.total == 3
    assert waiting_for_review(session, TEAM, NOW, days=25).total == 1


# --------------------------------------------------------------------- engagement


def test_engagement_totals(session: Session) -> None:
    one = add_idea(session, "One", author="U0ALICE01")
    two = add_idea(
        session, "Two", author="U0BOB0001", status=IdeaStatus.UNDER_REVIEW, anonymous=True
    )
    three = add_idea(session, "Three", author="U0ALICE01", status=IdeaStatus.IMPLEMENTED)
    bulb = add_idea(session, "Bulb", author="U0CAROL01", submitted_by="U0DAVE001")
    merged = add_idea(session, "Merged", author="U0ALICE01", status=IdeaStatus.MERGED)
    elsewhere = add_idea(session, "Elsewhere", author="U0ELSE001", team=ELSEWHERE)
    support(session, elsewhere, "U0ELSE002")  # supports in another workspace never count
    support(session, elsewhere, "U0EVE0001")
    support(session, one, "U0BOB0001")
    support(session, one, "U0EVE0001")
    support(session, two, "U0EVE0001")
    support(session, three, "U0FRANK01")
    support(session, bulb, "U0ALICE01")
    support(session, merged, "U0EVE0001")

    figures = engagement(session, TEAM, anonymity_min=3, now=NOW)

    assert figures.ideas == 5
    assert figures.ideas_by_status == {
        "new": 2,
        "under_review": 1,
        "in_progress": 0,
        "implemented": 1,
        "not_taken_forward": 0,
        "merged": 1,
    }
    assert figures.contributors == 4  # Alice, Bob (anonymously), Carol and Dave
    assert figures.supporters == 4  # Bob, Eve, Frank, Alice
    assert figures.supports == 5  # the merged idea's support was copied to the survivor
    assert figures.voices == 6
    assert figures.anonymity_min == 3


def profiles(session: Session) -> dict[str, Organisation]:
    orgs = {
        "Wye Valley": organisation(session, "Wye Valley NHS Trust", "Acute trust"),
        "Taurus": organisation(session, "Taurus Healthcare", "GP federation"),
        "Hospice": organisation(session, "St Michael's Hospice", "Hospice"),
    }
    return orgs


def test_anonymous_authors_never_appear_in_breakdowns(session: Session) -> None:
    orgs = profiles(session)
    nurses = [f"U0NURSE{number:02d}" for number in range(4)]
    for user_id in nurses:
        member(
            session, user_id, staff_group="Nursing and midwifery", organisation=orgs["Wye Valley"]
        )
    member(session, "U0PHARM01", staff_group="Pharmacy", organisation=orgs["Hospice"])
    member(session, "U0PHARM02", staff_group="Pharmacy", organisation=orgs["Hospice"])
    public = add_idea(session, "Named idea", author=nurses[0])
    for user_id in nurses[1:]:
        support(session, public, user_id)
    # The only pharmacists and the only hospice staff post anonymously and do nothing else.
    add_idea(session, "Secret one", author="U0PHARM01", anonymous=True)
    add_idea(session, "Secret two", author="U0PHARM02", anonymous=True)

    figures = engagement(session, TEAM, anonymity_min=3, now=NOW)

    assert figures.voices == 6  # the totals count them
    assert figures.contributors == 3
    assert figures.voices_by_staff_group.rows() == [("Nursing and midwifery", 4)]
    assert figures.voices_by_organisation_type.rows() == [("Acute trust", 4)]
    everything = repr(figures)
    assert "Pharmacy" not in everything
    assert "Hospice" not in everything
    assert OTHER_GROUPS not in [label for label, _ in figures.voices_by_staff_group.rows()]


def test_anonymous_posting_does_not_change_a_breakdown(session: Session) -> None:
    """A person counts through what they did in the open, never through an anonymous post."""
    for number in range(3):
        member(session, f"U0PHARM{number:02d}", staff_group="Pharmacy")
    named = add_idea(session, "Named", author="U0PHARM00")
    support(session, named, "U0PHARM01")
    support(session, named, "U0PHARM02")
    before = engagement(session, TEAM, anonymity_min=3, now=NOW)

    member(session, "U0PHARM03", staff_group="Pharmacy")
    add_idea(session, "Anonymous", author="U0PHARM03", anonymous=True)
    add_idea(session, "Also anonymous", author="U0PHARM01", anonymous=True)
    after = engagement(session, TEAM, anonymity_min=3, now=NOW)

    assert before.voices_by_staff_group.rows() == [("Pharmacy", 3)]
    assert after.voices_by_staff_group == before.voices_by_staff_group
    assert after.voices == before.voices + 1


def test_small_groups_fold_into_other(session: Session) -> None:
    orgs = profiles(session)
    people = {
        "Medical": 5,
        "Nursing and midwifery": 4,
        "Pharmacy": 2,
        "Paramedics": 1,
        "VCSE": 1,
    }
    idea = add_idea(session, "Shared idea", author=None, submitted_by=None)
    number = 0
    for staff_group, count in people.items():
        for _ in range(count):
            user_id = f"U0P{number:07d}"
            org = orgs["Wye Valley"] if staff_group == "Medical" else orgs["Taurus"]
            member(session, user_id, staff_group=staff_group, organisation=org)
            support(session, idea, user_id)
            number += 1

    figures = engagement(session, TEAM, anonymity_min=3, now=NOW)

    assert figures.voices_by_staff_group.rows() == [
        ("Medical", 5),
        ("Nursing and midwifery", 4),
        (OTHER_GROUPS, 4),
    ]
    assert not figures.voices_by_staff_group.suppressed
    types = figures.voices_by_organisation_type
    assert types.rows() == [("GP federation", 8), ("Acute trust", 5)]
    assert [group.detail.rows() for group in types.groups if group.detail] == [
        [("Taurus Healthcare", 8)],
        [("Wye Valley NHS Trust", 5)],
    ]


def test_people_without_a_profile_are_a_group_of_their_own(session: Session) -> None:
    idea = add_idea(session, "Shared idea", author="U0NOPROF1")
    for number in range(3):
        support(session, idea, f"U0NOPROF{number + 2}")
    member(session, "U0MEDIC01", staff_group="Medical")
    support(session, idea, "U0MEDIC01")

    figures = engagement(session, TEAM, anonymity_min=3, now=NOW)

    # Medical (1) alone would be derivable from the total: everyone folds together.
    assert figures.voices_by_staff_group.rows() == [(OTHER_GROUPS, 5)]
    assert fold_small_groups({"Not given": 4, "Medical": 1}, 3).rows() == [(OTHER_GROUPS, 5)]
    assert engagement(session, TEAM, 1, NOW).voices_by_staff_group.rows() == [
        ("Not given", 4),
        ("Medical", 1),
    ]


def test_other_grows_until_no_small_group_can_be_derived(session: Session) -> None:
    idea = add_idea(session, "Shared idea", author=None, submitted_by=None)
    groups = {"Medical": 7, "Nursing and midwifery": 4, "Pharmacy": 1}
    number = 0
    for staff_group, count in groups.items():
        for _ in range(count):
            user_id = f"U0P{number:07d}"
            member(session, user_id, staff_group=staff_group)
            support(session, idea, user_id)
            number += 1

    by_group = engagement(session, TEAM, anonymity_min=3, now=NOW).voices_by_staff_group

    # Pharmacy alone (1) would be derivable as 12 - 7 - 4: Nursing joins it.
    assert by_group.rows() == [("Medical", 7), (OTHER_GROUPS, 5)]


def test_too_few_people_to_show_any_breakdown(session: Session) -> None:
    idea = add_idea(session, "Small", author=None, submitted_by=None)
    member(session, "U0P0000001", staff_group="Medical")
    member(session, "U0P0000002", staff_group="Pharmacy")
    support(session, idea, "U0P0000001")
    support(session, idea, "U0P0000002")

    figures = engagement(session, TEAM, anonymity_min=3, now=NOW)

    assert figures.voices == 2
    assert figures.voices_by_staff_group.suppressed
    assert figures.voices_by_staff_group.rows() == []
    assert figures.voices_by_organisation_type.suppressed


def test_organisations_fold_within_their_type(session: Session) -> None:
    acute = [
        organisation(session, "Wye Valley NHS Trust", "Acute trust"),
        organisation(session, "Gloucestershire Hospitals", "Acute trust"),
        organisation(session, "Worcestershire Acute", "Acute trust"),
    ]
    idea = add_idea(session, "Shared idea", author=None, submitted_by=None)
    number = 0
    for org, count in zip(acute, (6, 4, 2), strict=True):
        for _ in range(count):
            user_id = f"U0P{number:07d}"
            member(session, user_id, staff_group="Medical", organisation=org)
            support(session, idea, user_id)
            number += 1

    types = engagement(session, TEAM, anonymity_min=3, now=NOW).voices_by_organisation_type

    assert types.rows() == [("Acute trust", 12)]
    detail = types.groups[0].detail
    assert detail is not None
    # Worcestershire (2) would be 12 - 6 - 4: Gloucestershire folds with it.
    assert detail.rows() == [("Wye Valley NHS Trust", 6), (OTHER_GROUPS, 6)]


@pytest.mark.parametrize(
    ("counts", "minimum", "rows", "suppressed"),
    [
        ({"A": 5, "B": 5}, 5, [("A", 5), ("B", 5)], False),
        ({"A": 10, "B": 6, "C": 2}, 5, [("A", 10), (OTHER_GROUPS, 8)], False),
        ({"A": 10, "B": 3, "C": 3}, 5, [("A", 10), (OTHER_GROUPS, 6)], False),
        ({"A": 4, "B": 4}, 5, [(OTHER_GROUPS, 8)], False),
        ({"A": 2, "B": 1}, 5, [], True),
        ({"A": 0}, 5, [], False),
        ({}, 5, [], False),
    ],
)
def test_fold_small_groups(
    counts: dict[str, int], minimum: int, rows: list[tuple[str, int]], suppressed: bool
) -> None:
    breakdown = fold_small_groups(counts, minimum)
    assert breakdown.rows() == rows
    assert breakdown.suppressed is suppressed


def test_no_small_group_is_ever_shown_or_derivable() -> None:
    chance = random.Random(3)
    for _ in range(2000):
        minimum = chance.randint(3, 8)
        counts = {f"G{n}": chance.randint(0, 15) for n in range(chance.randint(1, 8))}
        breakdown = fold_small_groups(counts, minimum)
        total = sum(counts.values())
        shown = {group.label for group in breakdown.groups}
        assert all(group.people >= minimum for group in breakdown.groups)
        if breakdown.suppressed:
            assert total < minimum and not breakdown.rows()
            continue
        assert breakdown.other == 0 or breakdown.other >= minimum
        assert sum(people for _, people in breakdown.rows()) == total
        hidden = [label for label, people in counts.items() if people and label not in shown]
        assert len(hidden) != 1 or breakdown.other == 0  # one hidden group = derivable


def test_decision_times(session: Session) -> None:
    # Posted 60 days ago and decided after 2, 10 and 40 days; one never decided.
    for days in (2, 10, 40):
        add_idea(
            session,
            f"Decided after {days}",
            status=IdeaStatus.IMPLEMENTED,
            created=days_ago(60),
            decided=days_ago(60 - days),
        )
    add_idea(session, "Never decided", created=days_ago(45))
    add_idea(session, "Too new to judge", created=days_ago(10))

    figures = engagement(session, TEAM, anonymity_min=3, now=NOW)
    assert figures.median_days_to_decision == pytest.approx(10)
    assert figures.decided_ideas == 3
    assert figures.ideas_30_days_old == 4
    assert figures.decided_within_30_days == 2
    assert figures.share_decided_within_30_days == pytest.approx(0.5)
    assert figures.waiting_over_14_days == 1  # "Never decided"; the new one is 10 days old

    add_idea(
        session,
        "Quick",
        status=IdeaStatus.IN_PROGRESS,
        created=days_ago(5),
        decided=days_ago(4.5),
    )
    figures = engagement(session, TEAM, anonymity_min=3, now=NOW)
    assert figures.median_days_to_decision == pytest.approx((2 + 10) / 2)
    assert figures.ideas_30_days_old == 4  # posted 5 days ago: not yet in the share


def test_no_decisions_yet(session: Session) -> None:
    figures = engagement(session, TEAM, anonymity_min=3, now=NOW)
    assert figures.ideas == 0
    assert figures.median_days_to_decision is None
    assert figures.share_decided_within_30_days is None
    assert figures.voices_by_staff_group.rows() == []


# ------------------------------------------------------------------------- export


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_export_columns_labels_names_and_dates(session: Session) -> None:
    member(session, "U0OWNER01", "Olu Owner")
    member(session, "U0AUTHOR1", "Asha Author")
    idea = add_idea(
        session,
        "Discharge lounge",
        description='A lounge, with "comfy" chairs\nand tea',
        themes=["Discharge and flow", "Frailty"],
        status=IdeaStatus.IN_PROGRESS,
        rationale="Funded by the ICB",
        owner_id="U0OWNER01",
        created=datetime(2026, 1, 5, 23, 30, tzinfo=UTC),
        decided=datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
        permalink="https://example.slack.com/archives/C0IDEAS/p2",
        supporter_count=7,
    )

    text = export_csv(session, TEAM)
    rows = read_csv(text)

    assert rows[0] == list(EXPORT_COLUMNS)
    assert rows[0] == [
        "ID",
        "Title",
        "Description",
        "Themes",
        "Status",
        "Rationale",
        "Owner",
        "Supporters",
        "Created",
        "Decided",
        "Permalink",
        "Author",
    ]
    assert rows[1] == [
        str(idea.id),
        "Discharge lounge",
        'A lounge, with "comfy" chairs\nand tea',
        "Discharge and flow; Frailty",
        "In progress",
        "Funded by the ICB",
        "Olu Owner",
        "7",
        "2026-01-05",
        "2026-02-01",
        "https://example.slack.com/archives/C0IDEAS/p2",
        "Asha Author",
    ]
    assert '"A lounge, with ""comfy"" chairs\nand tea"' in text
    assert len(rows) == 2


def test_export_never_names_an_anonymous_author(session: Session) -> None:
    member(session, "U0SECRET1", "Sam Secret")
    add_idea(session, "Quiet idea", author="U0SECRET1", anonymous=True)
    add_idea(session, "Bulb idea", author="U0SECRET1", submitted_by="U0REACTOR", anonymous=True)

    text = export_csv(session, TEAM)

    assert [row[-1] for row in read_csv(text)[1:]] == ["Anonymous", "Anonymous"]
    assert "Sam Secret" not in text
    assert "U0SECRET1" not in text
    assert [row["Author"] for row in export_rows(session, TEAM)] == ["Anonymous", "Anonymous"]


@pytest.mark.parametrize(
    "title",
    ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1"],
)
def test_export_defuses_spreadsheet_formulas(session: Session, title: str) -> None:
    member(session, "U0AUTHOR1", "=cmd|' /C calc'!A0")
    add_idea(session, title, description="-minus first", rationale="+plus")

    row = read_csv(export_csv(session, TEAM))[1]

    assert row[1] == f"'{title}"
    assert row[2] == "'-minus first"
    assert row[5] == "'+plus"
    assert row[-1] == "'=cmd|' /C calc'!A0"
    assert export_rows(session, TEAM)[0]["Title"] == title  # the data itself is unchanged


def test_export_for_one_challenge_and_every_status_label(session: Session) -> None:
    challenge = Challenge(
        team_id=TEAM, title="Frailty", channel_id="C0FRAIL01", opens_at=NOW, closes_at=NOW
    )
    session.add(challenge)
    session.flush()
    for status in IdeaStatus:
        add_idea(session, f"Idea {status}", status=status, challenge_id=challenge.id)
    add_idea(session, "Outside the challenge")
    add_idea(session, "Other team", team=ELSEWHERE, challenge_id=challenge.id)

    rows = export_rows(session, TEAM, challenge.id)

    assert [row["Status"] for row in rows] == [STATUS_LABELS[status] for status in IdeaStatus]
    assert [row["Status"] for row in rows] == [
        "New",
        "Under review",
        "In progress",
        "Implemented",
        "Not taken forward",
        "Merged",
    ]
    assert len(export_rows(session, TEAM)) == 7
    assert read_csv(export_csv(session, ELSEWHERE, challenge.id))[1][1] == "Other team"
