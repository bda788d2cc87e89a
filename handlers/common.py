"""What every handler shares: dependencies, the actor, running work after the ack, and
turning failures into a kind answer instead of a traceback.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, field
from datetime import date
from datetime import time as clock_time
from typing import Any

from slack_bolt import Ack, BoltContext, BoltRequest, BoltResponse
from slack_bolt.kwargs_injection import build_required_kwargs
from slack_bolt.util.utils import get_arg_names_of_callable
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient
from sqlmodel import Session

from bot.config import Settings
from bot.errors import UserError
from bot.ideas.index import EmbeddingCache, document_frequency
from bot.ids import as_id
from bot.logs import Scrub
from bot.ratelimit import RateLimiter
from bot.roles import Actor
from bot.runtime import Runtime
from bot.similarity import Ranker, make_ranker
from bot.slack import WebClientPort
from bot.text import escape
from handlers.kit import notice
from storage import Database

log = logging.getLogger("copbot.handlers")
log.addFilter(Scrub())

APOLOGY = (
    "Sorry, something went wrong on our side and nothing was changed. Please try again in a minute."
)


class ActorCache:
    """Who is acting, remembered for a few seconds so acks skip the database.

    Per process: a role granted or removed here is forgotten at once; other processes
    see it within ``ttl`` seconds.
    """

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._items: dict[tuple[str, str], tuple[Actor, float]] = {}
        self._lock = threading.Lock()

    def get(self, team_id: str, user_id: str) -> Actor | None:
        found = self._items.get((team_id, user_id))
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def put(self, actor: Actor) -> None:
        with self._lock:
            if len(self._items) > 50_000:
                self._items.clear()
            self._items[(actor.team_id, actor.user_id)] = (actor, time.monotonic() + self.ttl)

    def forget_everywhere(self, user_id: str) -> None:
        """Forget a person in every workspace (after "forget me", which erases them all)."""
        with self._lock:
            self._items = {k: v for k, v in self._items.items() if k[1] != user_id}

    def forget(self, team_id: str, user_ids: Iterable[str] | None = None) -> None:
        with self._lock:
            if user_ids is None:
                self._items = {k: v for k, v in self._items.items() if k[0] != team_id}
            for user_id in user_ids or ():
                self._items.pop((team_id, user_id), None)


class Pool(ThreadPoolExecutor):
    """A thread pool that can tell whether everything it was given has finished."""

    def __init__(self, workers: int, name: str) -> None:
        super().__init__(workers, thread_name_prefix=name)
        self._unfinished = 0
        self._count_lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._count_lock:
            self._unfinished += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _: Future[Any]) -> None:
        with self._count_lock:
            self._unfinished -= 1

    @property
    def idle(self) -> bool:
        return self._unfinished == 0


@dataclass(frozen=True)
class Deps:
    """Shared for the app's lifetime; put on every request's context by middleware."""

    settings: Settings
    db: Database
    runtime: Runtime | None = None  # the scheduler and deliverer, where this process has them
    embeddings: EmbeddingCache = field(default_factory=EmbeddingCache)
    actors: ActorCache = field(default_factory=ActorCache)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    background: Pool = field(default_factory=lambda: Pool(2, "copbot-background"))
    after_ack: Pool = field(default_factory=lambda: Pool(16, "copbot-after-ack"))

    @property
    def idle(self) -> bool:
        """No work after an ack, and no background refresh, is still running or queued."""
        return self.background.idle and self.after_ack.idle

    def ranker(self, session: Session, team_id: str) -> Ranker:
        """Similar-idea ranking: embeddings when an LLM is configured, else TF-IDF."""
        return make_ranker(
            self.settings,
            cache=self.embeddings,
            document_frequency=document_frequency(session, team_id),
        )


def ack_only(ack: Ack) -> None:
    """For listeners whose work all happens after the ack."""
    ack()


def subcommand(command: dict[str, Any]) -> tuple[str, str]:
    """``/pulse results weekly`` -> ("results", "weekly")."""
    word, _, rest = (command.get("text") or "").strip().partition(" ")
    return word.lower(), rest.strip()


def deps(context: BoltContext) -> Deps:
    return context["deps"]


def parse_id(raw: Any, what: str = "That item") -> int:
    """An id from a button value or a form's private metadata; anything else (a forged or
    stale value) is answered kindly instead of reaching the database."""
    value = as_id(raw)
    if value is None:
        raise UserError(f"{what} no longer exists.")
    return value


def throttle(context: BoltContext, kind: str) -> None:
    """Refuse an expensive request (``bot.ratelimit.LIMITS``) beyond the member's limit."""
    who = actor(context)
    deps(context).limiter.check(who.team_id, who.user_id, kind)


def actor(context: BoltContext) -> Actor:
    """The person acting, resolved by the member middleware before any listener runs."""
    found = context.get("actor")
    if found is None:
        raise UserError("I couldn't tell who you are. Please try again.")
    return found


def slack(context: BoltContext) -> WebClientPort:
    return WebClientPort(context.client)


def ack_then(ack_fn: Callable[..., None], *after: Callable[..., None]) -> Callable[..., None]:
    """One listener: ``ack_fn`` answers Slack at once, then each ``after`` function runs in
    the background with the same request and the same Bolt arguments.

    Used instead of Bolt's lazy listeners, which deep-copy the whole request for each
    (a third of a click's cost) and start even when the ack function refused the request.
    A failure in ``ack_fn`` goes to the app's error handler and nothing runs after it; a
    failure after the ack is logged with context and answered kindly where the person is.
    """
    ack_names = get_arg_names_of_callable(ack_fn)
    after_names = [(fn, get_arg_names_of_callable(fn)) for fn in after]

    def listener(request: BoltRequest, logger: logging.Logger) -> None:
        ack_fn(**_arguments(ack_fn, ack_names, request, logger))
        work = request.context["deps"].after_ack
        for fn, names in after_names:  # each keeps this request's context (its request ID)
            work.submit(copy_context().run, _run_after_ack, fn, names, request, logger)

    listener.__name__ = listener.__qualname__ = ack_fn.__name__
    return listener


def _arguments(
    fn: Callable[..., None], names: list[str], request: BoltRequest, logger: logging.Logger
) -> dict[str, Any]:
    return build_required_kwargs(
        logger=logger,
        required_arg_names=names,
        request=request,
        response=None,
        this_func=fn,
        next_keys_required=False,
    )


def _run_after_ack(
    fn: Callable[..., None], names: list[str], request: BoltRequest, logger: logging.Logger
) -> None:
    try:
        fn(**_arguments(fn, names, request, logger))
    except Exception as error:
        tell_about_error(error, request.body, request.context)


# What an action ID carries after its name (a pulse answer's question and value,
# "pulse_answer_0_4"; a theme's index, "pulse_challenge:1"): never logged.
_ACTION_VALUE = re.compile(r"(?:[_:]\d+)+$")


def describe(body: dict[str, Any]) -> str:
    """A log-friendly summary of a request: its kind and ids, never its text, tokens or
    the values a person chose."""
    if "command" in body:
        return f"command {body.get('command')} user={body.get('user_id')}"
    kind = body.get("type", "unknown")
    if kind == "event_callback":
        event = body.get("event") or {}
        return f"event {event.get('type')} id={body.get('event_id')}"
    user = (body.get("user") or {}).get("id")
    ids = [_ACTION_VALUE.sub("", str(a.get("action_id"))) for a in body.get("actions") or []]
    callback = (body.get("view") or {}).get("callback_id") or body.get("callback_id")
    return f"{kind} user={user} actions={ids} callback={callback}"


# A submitted form whose values don't have the shapes copbot's own form gives them (a
# forged or out-of-date view) fails while being read; it is answered like bad input.
UNREADABLE = (TypeError, ValueError, LookupError, AttributeError)
FORM_UNREADABLE = "Sorry, I couldn't read this form. Please close it and start again."


def message_for(error: Exception, body: dict[str, Any]) -> str:
    if isinstance(error, UserError):
        return error.message
    if body.get("type") == "view_submission" and isinstance(error, UNREADABLE):
        log.warning("unreadable form on %s: %s", describe(body), type(error).__name__)
        return FORM_UNREADABLE
    log.exception("handler failed on %s", describe(body), exc_info=error)
    return APOLOGY


def tell_about_error(error: Exception, body: dict[str, Any], context: BoltContext) -> None:
    """After the ack: answer where the person is, trying each way in turn: the
    response_url; a modal while the trigger is fresh (App Home has no response_url),
    only for a refusal, since an unexpected failure may be Slack's views API itself;
    else a DM to them. Events have nobody to answer.
    """
    if body.get("type") == "event_callback":
        message_for(error, body)  # logs it
        return
    message = message_for(error, body)
    client: WebClient = context.client
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    response_url = body.get("response_url") or next(
        (url["response_url"] for url in body.get("response_urls") or []), None
    )
    ways: list[Callable[[], Any]] = []
    if response_url:
        ways.append(lambda: _sent(WebhookClient(response_url).send(text=message).status_code))
    if body.get("trigger_id") and isinstance(error, UserError):
        modal = notice_modal("Sorry", message)
        ways.append(lambda: client.views_open(trigger_id=body["trigger_id"], view=modal))
    if user:
        ways.append(lambda: client.chat_postMessage(channel=user, text=message))
    for way in ways:
        try:
            way()
            return
        except Exception as failure:
            log.warning("could not answer %s this way: %s", describe(body), failure)
    log.error("could not tell the person about an error on %s", describe(body))


def _sent(status: int) -> None:
    if status != 200:
        raise OSError(f"response_url answered {status}")


def error_response(error: Exception, body: dict[str, Any], context: BoltContext) -> BoltResponse:
    """At ack time: the HTTP answer Slack shows the person, always a 2xx."""
    message = message_for(error, body)
    if "command" in body:
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": message})
    if body.get("type") == "view_submission":
        return BoltResponse(status=200, body=view_error(body.get("view") or {}, error, message))
    if body.get("type") in ("block_actions", "shortcut", "message_action"):
        tell_about_error(UserError(message), body, context)
    return BoltResponse(status=200, body="")


def view_error(view: dict[str, Any], error: Exception, message: str) -> dict[str, Any]:
    """Show the message on the field it concerns, else on the first input, else as a modal."""
    inputs = [
        block.get("block_id")
        for block in view.get("blocks") or []
        if isinstance(block, dict) and block.get("type") == "input"
    ]
    field = error.field if isinstance(error, UserError) else None
    block_id = field if field in inputs else (inputs[0] if inputs else None)
    if block_id:
        return {"response_action": "errors", "errors": {block_id: message}}
    return {"response_action": "update", "view": notice_modal("Sorry", message)}


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal telling the person ``text``, which may hold their own words: escaped."""
    return notice(title, escape(text))


def ephemeral(text: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An ack body for a slash command that only the person sees."""
    reply: dict[str, Any] = {"response_type": "ephemeral", "text": text}
    if blocks:
        reply["blocks"] = blocks
    return reply


def form_values(view: dict[str, Any]) -> dict[str, Any]:
    """A modal's submitted values keyed by block_id, whatever the input element."""
    values: dict[str, Any] = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        for element in actions.values():
            values[block_id] = _element_value(element)
    return values


def _element_value(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind in ("static_select", "external_select", "radio_buttons"):
        option = element.get("selected_option")
        return option["value"] if option else None
    if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        return [option["value"] for option in element.get("selected_options") or []]
    if kind == "users_select":
        return element.get("selected_user")
    if kind == "multi_users_select":
        return element.get("selected_users") or []
    if kind == "conversations_select":
        return element.get("selected_conversation")
    if kind == "multi_conversations_select":
        return element.get("selected_conversations") or []
    if kind == "channels_select":
        return element.get("selected_channel")
    if kind == "datepicker":
        return _valid(element.get("selected_date"), date.fromisoformat)
    if kind == "timepicker":
        return _valid(element.get("selected_time"), clock_time.fromisoformat)
    value = element.get("value")
    return value.strip() if isinstance(value, str) else value


def _valid(value: Any, parse: Callable[[str], Any]) -> str | None:
    """A picker's value only if it parses (a forged one reads as not chosen)."""
    try:
        parse(value)
    except (TypeError, ValueError):
        return None
    return value
