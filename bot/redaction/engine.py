"""Presidio, built once per process: copbot's recognisers (``recognisers.FINDERS``) and
Presidio's GB phone recogniser on its no-op NLP engine, ``find`` (overlaps merged into the
strongest kind) and ``redact_identifiers`` (labels put in by its anonymizer)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from bot.redaction.recognisers import ALLOWED, FINDERS, LABELS, PRECEDENCE, Finding, normalise

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, RecognizerResult
    from presidio_anonymizer import AnonymizerEngine


# ---------------------------------------------------------------------- Presidio


class _Engines:
    """The analyzer and anonymizer, built once per process on first use (about 0.1 s)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: tuple[AnalyzerEngine, AnonymizerEngine] | None = None

    def get(self) -> tuple[AnalyzerEngine, AnonymizerEngine]:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = _build_engines()
        return self._built


def _build_engines() -> tuple[AnalyzerEngine, AnonymizerEngine]:
    for name in ("presidio-analyzer", "presidio-anonymizer"):  # one line per recogniser loaded
        logging.getLogger(name).setLevel(logging.WARNING)
    from presidio_analyzer import AnalyzerEngine, LocalRecognizer, RecognizerRegistry
    from presidio_analyzer import RecognizerResult as Result
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer
    from presidio_anonymizer import AnonymizerEngine

    class Finder(LocalRecognizer):
        """A copbot recogniser: the spans one of ``FINDERS`` returns, at full confidence."""

        def __init__(self, kind: str) -> None:
            self.kind = kind
            super().__init__(supported_entities=[kind], name=f"copbot_{kind.lower()}")

        def load(self) -> None:
            pass

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list:
            if self.kind not in entities:
                return []
            return [Result(self.kind, start, end, 1.0) for start, end in FINDERS[self.kind](text)]

    registry = RecognizerRegistry(supported_languages=["en"])
    for kind in FINDERS:
        registry.add_recognizer(Finder(kind))
    registry.add_recognizer(PhoneRecognizer(supported_regions=("GB",), leniency=1))
    # Every recogniser is self-contained, so the NLP engine is Presidio's no-op one: no
    # spaCy pipeline runs, no model is loaded or downloaded, and text of any length and
    # any code points (a lone surrogate) is fine.
    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    nlp.load()
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])
    return analyzer, AnonymizerEngine()


_ENGINES = _Engines()


def warm_up() -> threading.Thread:
    """Build Presidio in the background now (about 3 s cold, mostly importing spaCy), so the
    first request that checks or redacts text does not wait for it."""
    thread = threading.Thread(target=_ENGINES.get, name="copbot-redaction-warm-up", daemon=True)
    thread.start()
    return thread


def find(text: str, kinds: tuple[str, ...] | None = None) -> list[Finding]:
    """Identifiers in ``text``, in order, overlapping findings merged into the strongest kind.

    Spans refer to ``text`` as given (the normalised copy only serves detection).
    """
    if not text or not text.strip():
        return []
    analyzer, _ = _ENGINES.get()
    normal, where = normalise(text)
    wanted = list(kinds or LABELS)
    results: list[RecognizerResult] = analyzer.analyze(
        normal, language="en", entities=wanted, allow_list=list(ALLOWED)
    )
    spans = sorted(
        (where[r.start], where[r.end - 1] + 1, r.entity_type)
        for r in results
        if r.end > r.start and r.entity_type in LABELS
    )
    merged: list[list[Any]] = []
    for start, end, kind in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            if PRECEDENCE[kind] < PRECEDENCE[last[2]]:
                last[2] = kind
        else:
            merged.append([start, end, kind])
    return [Finding(kind, start, end, text[start:end]) for start, end, kind in merged]


def redact_identifiers(text: str, kinds: tuple[str, ...] | None = None) -> str:
    """Patient identifiers, contact details, titled names and beds (or only ``kinds``)
    replaced by labels.

    Only the identifiers change; everything else stays exactly as written.
    """
    findings = [f for f in find(text, kinds) if kinds is None or f.kind in kinds]
    if not findings:
        return text
    from presidio_anonymizer import RecognizerResult as Span
    from presidio_anonymizer.entities import OperatorConfig

    _, anonymizer = _ENGINES.get()
    operators = {
        kind: OperatorConfig("replace", {"new_value": label}) for kind, label in LABELS.items()
    }
    spans = [Span(f.kind, f.start, f.end, 1.0) for f in findings]
    return anonymizer.anonymize(text=text, analyzer_results=spans, operators=operators).text
