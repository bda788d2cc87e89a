"""A learning digest from 10,000 captured messages.

Seeds one workspace's captured channels with ``--messages`` realistic messages (themes,
tips, barriers, thread replies, mentions, the odd email address or NHS number to redact),
then builds the digest the way ``/digest`` does (``bot.learning.digest.build``: gather
from the database, summarise, compose with permalinks) twice: with the LLM twin (a local
OpenAI-compatible server) and with the offline engine. Prints LLM calls made, tokens sent
against the raw token count of the messages, and wall time for each. Never asserts.

    .venv/bin/python bench/digest.py
    .venv/bin/python bench/digest.py --messages 2000 --budget 4000
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import openai  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.learning import digest  # noqa: E402
from bot.learning.summariser import Summariser  # noqa: E402
from bot.learning.tokens import count_tokens  # noqa: E402
from bot.workspaces import ensure_workspace  # noqa: E402
from llmtwin import LLMTwin  # noqa: E402
from storage import CaptureChannel, CapturedMessage, Database, Digest, utcnow  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

TEAM = "T0DIGESTBENCH"
CHANNELS = ("C0FRAILTY", "C0DISCHARGE", "C0WELLBEING")
THEMES = (
    "virtual wards",
    "discharge to assess",
    "frailty huddles",
    "social prescribing",
    "medicines reconciliation",
    "staff wellbeing",
    "community diagnostics",
    "same day emergency care",
)
WORKING = (
    "{t} helped us reduce readmissions by a fifth this quarter.",
    "Top tip: a daily ten minute check-in made {t} work much better.",
    "We saved two bed days per patient once {t} started on Mondays.",
    "Real success with {t}: families said they felt listened to.",
)
BARRIERS = (
    "The main barrier to {t} is a delay in social care assessments.",
    "We struggle to staff {t} at weekends; rotas are difficult.",
    "Sharing records for {t} across systems is still a problem.",
    "Lack of protected time makes {t} hard to sustain.",
)
CHATTER = (
    "Thanks <@U0{n:07d}>, that is really useful for {t}.",
    "Does anyone have the slides from the {t} session? Email me at jo{n}@nhs.net",
    "Patient 943 476 5919 was discussed at the {t} meeting (this should be redacted).",
    "Meeting moved to Thursday; agenda is {t} and the winter plan.",
)


def seed(database: Database, count: int, rng: random.Random) -> int:
    """Captured messages over the last week; returns the raw token count of their text."""
    raw = 0
    now = utcnow()
    with database.session() as session:
        ensure_workspace(session, TEAM)
        for channel in CHANNELS:
            session.add(CaptureChannel(team_id=TEAM, channel_id=channel))
        for n in range(count):
            theme = rng.choice(THEMES)
            pool = rng.choices((WORKING, BARRIERS, CHATTER), weights=(3, 3, 4))[0]
            text = rng.choice(pool).format(t=theme, n=n)
            raw += count_tokens(text)
            session.add(
                CapturedMessage(
                    team_id=TEAM,
                    channel_id=CHANNELS[n % len(CHANNELS)],
                    ts=f"{1_790_000_000 + n}.{n % 1_000_000:06d}",
                    thread_ts=f"{1_790_000_000 + n - 1}.000000" if n % 5 == 4 else None,
                    user_id=f"U0{n % 400:07d}",
                    text=text,
                    learning=n % 50 == 0,
                    captured_at=now - digest.PERIOD * rng.random(),
                )
            )
    return raw


class NoSlack:
    """Permalinks are the only Slack call a digest build makes: answered locally."""

    def permalink(self, channel: str, ts: str) -> str:
        return f"https://example.slack.com/archives/{channel}/p{ts.replace('.', '')}"


def build(database: Database, settings: Settings, summariser: Summariser) -> tuple[float, Digest]:
    started = time.perf_counter()
    with database.session() as session:
        draft = digest.build(
            session,
            NoSlack(),  # type: ignore[arg-type]
            settings,
            summariser,
            team_id=TEAM,
            requested_by="U0LEAD",
            channels=CHANNELS,
        )
    return time.perf_counter() - started, draft


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--budget", type=int, default=6000, help="tokens of data per LLM call")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder, LLMTwin(api_key="sk-bench") as llm:
        database = Database(f"sqlite:///{Path(folder) / 'digest.db'}")
        upgrade(database)
        raw = seed(database, args.messages, random.Random(args.seed))
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        client = openai.OpenAI(base_url=llm.base_url, api_key="sk-bench", max_retries=0)

        llm_seconds, llm_draft = build(
            database, settings, Summariser(client, token_budget=args.budget, timeout=60)
        )
        chat = llm.requests_to("/v1/chat/completions")
        sent = sum(
            count_tokens(m.get("content") or "") for r in chat for m in r.body.get("messages", [])
        )
        offline_seconds, offline_draft = build(
            database, settings, Summariser(None, token_budget=args.budget)
        )

    leaked = [s for s in ("943 476 5919", "9434765919", "@nhs.net", "<@U0") if s in str(chat)]
    print(f"digest of {args.messages:,} captured messages, {raw:,} tokens of raw text")
    print(f"{'engine':10} {'wall s':>8} {'LLM calls':>10} {'tokens sent':>12} {'sent/raw':>9}")
    print(
        f"{'LLM twin':10} {llm_seconds:8.2f} {len(chat):10d} {sent:12,d} {sent / raw:9.2f}"
        f"   ({llm_draft.engine}, {len(llm_draft.sections)} sections)"
    )
    print(
        f"{'offline':10} {offline_seconds:8.2f} {0:10d} {0:12,d} {0:9.2f}"
        f"   ({offline_draft.engine}, {len(offline_draft.sections)} sections)"
    )
    print(f"identifiers in what the model received: {leaked or 'none'}")
    print(f"cost per digest: {sent / max(len(chat), 1):,.0f} tokens a call on average")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
