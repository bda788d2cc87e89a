"""Similar ideas: terms for the index, TF-IDF offline, embeddings via the LLM twin, fallback."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import openai
import pytest

from bot.config import Settings
from bot.similarity import (
    Candidate,
    EmbeddingRanker,
    Match,
    TfidfRanker,
    make_ranker,
    stem,
    terms,
)
from llmtwin import LLMTwin

KEY = "sk-test"
QUERY = "an earlier discharge lounge"
IDEAS = [
    Candidate(1, "Discharge lounge to free beds earlier"),
    Candidate(2, "Protected time for QI training"),
    Candidate(3, "Car parking for night shift staff"),
    Candidate(4, "Weekly huddle for ward nurses"),
    Candidate(5, "Pharmacy to prioritise discharge medicines"),
]


@pytest.fixture
def llm() -> Iterator[LLMTwin]:
    with LLMTwin(api_key=KEY) as twin:
        yield twin


@pytest.fixture
def client(llm: LLMTwin) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=llm.base_url, api_key=KEY, max_retries=0, timeout=5) as client:
        yield client


# ---------------------------------------------------------------------- terms


def test_terms_drop_stopwords_and_filler_and_fold_plurals() -> None:
    assert terms("The nurses have ideas for the wards, thanks team!") == ["nurs", "ward"]
    assert terms("Beds") == terms("bed") == ["bed"]
    assert terms("policies") == terms("policy") == ["policy"]


def test_terms_fold_common_endings_to_one_key() -> None:
    forms = ["discharge", "discharges", "discharged", "discharging"]
    assert {stem(word) for word in forms} == {"discharg"}
    assert terms("educated education educate") == ["educ"] * 3
    assert terms("stopped planned waiting") == ["stop", "plan", "wait"]
    assert terms("earlier earliest early") == ["early"] * 3
    assert terms("care caring staff staffing") == ["care", "caring", "staff", "staff"]


def test_terms_drop_mentions_links_punctuation_and_bare_numbers() -> None:
    text = (
        "Hey <@U01NURSE> and <!here>, see <https://nhs.example/discharge|the lounge plan> "
        "or https://example.org/beds?x=1 :tada: (24/7) A&amp;E covid-19 covid19 a1c "
        "email me@example.org <#C01IDEAS|ideas>"
    )
    assert terms(text) == ["see", "loung", "plan", "ae", "covid", "covid19", "a1c", "email"]


def test_terms_are_stable_and_keep_repeats_for_term_frequency() -> None:
    text = "Frailty hub: frailty nurses visit care homes. Café outreach for frailty."
    assert terms(text) == terms(text)
    assert terms(text).count("frailty") == 3
    assert "cafe" in terms(text)
    assert terms("") == [] and terms("the and of :+1:") == []


# ---------------------------------------------------------------------- TF-IDF


def test_tfidf_ranks_the_related_idea_first_and_ignores_unrelated_ones() -> None:
    matches = TfidfRanker().rank(QUERY, IDEAS)
    assert [m.id for m in matches] == [1, 5]  # 5 shares "discharge"; nothing else does
    assert matches[0].score > 0.6 > 0.2 <= matches[1].score < matches[0].score
    assert all(0.0 < m.score <= 1.0 for m in matches)


def test_tfidf_returns_nothing_for_an_unrelated_query() -> None:
    assert TfidfRanker().rank("Better rota for physiotherapists", IDEAS) == []
    assert TfidfRanker().rank("", IDEAS) == []
    assert TfidfRanker().rank(QUERY, []) == []


def test_limit_threshold_and_ordering_are_deterministic() -> None:
    ideas = [Candidate(i, "Ward huddle every morning") for i in (19, 13, 17)] + IDEAS
    ranker = TfidfRanker()
    first = ranker.rank("morning ward huddle", ideas, limit=2)
    assert first == [Match(13, 1.0), Match(17, 1.0)]  # ties go by id
    assert first == ranker.rank("morning ward huddle", list(reversed(ideas)), limit=2)
    assert [m.id for m in ranker.rank("morning ward huddle", ideas, limit=10)] == [13, 17, 19, 4]
    assert ranker.rank("morning ward huddle", ideas, limit=10, threshold=0.99) == [
        *first,
        Match(19, 1.0),
    ]
    assert ranker.rank("morning ward huddle", ideas, limit=0) == []


def test_corpus_document_frequencies_weigh_common_words_down() -> None:
    ideas = [Candidate(1, "Weekend discharge rota"), Candidate(2, "Pharmacy discharge checklist")]
    asked: list[list[str]] = []

    def corpus(common: str, rare: str):  # type: ignore[no-untyped-def]
        def document_frequency(words: list[str]) -> tuple[dict[str, int], int]:
            asked.append(words)
            return {common: 90, rare: 2, "discharg": 60}, 100

        return document_frequency

    query = "weekend pharmacy discharge"
    weekend_common = TfidfRanker(corpus("weekend", "pharmacy")).rank(query, ideas, threshold=0)
    pharmacy_common = TfidfRanker(corpus("pharmacy", "weekend")).rank(query, ideas, threshold=0)
    assert [m.id for m in weekend_common] == [2, 1]
    assert [m.id for m in pharmacy_common] == [1, 2]
    assert set(asked[0]) == {"weekend", "pharmacy", "discharg", "rota", "checklist"}


# ---------------------------------------------------------------------- embeddings


def test_embeddings_rank_the_related_idea_first(client: openai.OpenAI) -> None:
    matches = EmbeddingRanker(client, "text-embedding-3-small").rank(QUERY, IDEAS)
    assert [m.id for m in matches] == [1]
    assert 0.55 <= matches[0].score <= 1.0
    everything = EmbeddingRanker(client, "text-embedding-3-small", threshold=0.0)
    assert [m.id for m in everything.rank(QUERY, IDEAS, limit=2)] == [1, 5]


def test_embeddings_batch_the_query_and_candidates_into_one_request(
    llm: LLMTwin, client: openai.OpenAI
) -> None:
    long_text = "Discharge lounge " + "with many details " * 500
    ideas = [*IDEAS, Candidate(6, long_text), Candidate(7, "   ")]
    EmbeddingRanker(client, "text-embedding-3-small").rank(QUERY, ideas)
    (request,) = llm.requests
    assert request.path == "/v1/embeddings" and request.status == 200
    sent = request.body["input"]
    assert sent[0] == QUERY
    assert sent[1:6] == [idea.text for idea in IDEAS]
    assert len(sent) == 7  # the blank idea is not sent
    assert sent[6].startswith("Discharge lounge") and len(sent[6]) == 2000
    assert request.body["encoding_format"] == "float"


def test_the_cache_saves_re_embedding_known_ideas(llm: LLMTwin, client: openai.OpenAI) -> None:
    cache: dict[int, list[float]] = {}
    ranker = EmbeddingRanker(client, "text-embedding-3-small", cache=cache)
    first = ranker.rank(QUERY, IDEAS)
    assert set(cache) == {1, 2, 3, 4, 5}
    second = ranker.rank(QUERY, [*IDEAS, Candidate(6, "Earlier discharge lounge opening")])
    first_request, second_request = llm.requests
    assert len(first_request.body["input"]) == 6
    assert second_request.body["input"] == [QUERY, "Earlier discharge lounge opening"]
    assert [m.id for m in second] == [6, 1] and second[1] == first[0]


def test_cached_vectors_of_another_size_are_embedded_again(
    llm: LLMTwin, client: openai.OpenAI
) -> None:
    cache = {1: [1.0, 0.0, 0.0]}  # e.g. from another model
    matches = EmbeddingRanker(client, "text-embedding-3-small", cache=cache).rank(QUERY, IDEAS)
    assert [m.id for m in matches] == [1]
    assert len(cache[1]) == 256
    assert [len(r.body["input"]) for r in llm.requests] == [5, 1]


def test_embedding_failures_fall_back_to_tfidf_with_one_warning(
    llm: LLMTwin, caplog: pytest.LogCaptureFixture
) -> None:
    llm.fail(status=500, times=2)
    with openai.OpenAI(base_url=llm.base_url, api_key=KEY, max_retries=1) as retrying:
        ranker = EmbeddingRanker(retrying, "text-embedding-3-small")
        with caplog.at_level(logging.WARNING, logger="bot.similarity"):
            matches = ranker.rank(QUERY, IDEAS)
    assert matches == TfidfRanker().rank(QUERY, IDEAS)
    assert [m.id for m in matches] == [1, 5]
    assert [r.status for r in llm.requests] == [500, 500]  # the client retried once
    (warning,) = caplog.records
    assert "embeddings request" in warning.getMessage()
    assert "HTTP 500" in warning.getMessage() and "tf-idf" in warning.getMessage()
    assert ranker.cache == {}


# ---------------------------------------------------------------------- choosing an engine


def test_make_ranker_is_tfidf_without_a_key() -> None:
    ranker = make_ranker(Settings(_env_file=None, openai_api_key=None))  # type: ignore[call-arg]
    assert isinstance(ranker, TfidfRanker) and ranker.name == "tf-idf"
    assert [m.id for m in ranker.rank(QUERY, IDEAS)] == [1, 5]


def test_make_ranker_uses_embeddings_with_a_key_and_a_tight_budget(llm: LLMTwin) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        openai_api_key=KEY,
        openai_base_url=llm.base_url,
    )
    ranker = make_ranker(settings, timeout=0.3)
    assert isinstance(ranker, EmbeddingRanker) and ranker.name == "embeddings"
    assert ranker.model == "text-embedding-3-small"
    assert [m.id for m in ranker.rank(QUERY, IDEAS)] == [1]

    llm.slow(seconds=3.0, times=1)
    started = time.monotonic()
    # TF-IDF's answer: a retry would have reached the twin again and got embeddings' [1].
    assert [m.id for m in ranker.rank(QUERY, IDEAS)] == [1, 5]
    assert time.monotonic() - started < 2.0
