"""``SlackDriver``: plays the Slack side towards the app, over signed HTTP or Socket Mode.

Over HTTP, events go as JSON ``event_callback`` bodies, slash commands as form fields, and
interactions as ``payload=<json>`` forms, all signed with ``X-Slack-Signature`` v0 like
Slack. With ``socket_mode=True`` the same payloads go as Socket Mode envelopes over the
app's websocket to the twin, and the app's ack payload stands in for the HTTP body; the
one place the two differ is ``_deliver``.

The driver acts for a person: it finds buttons, menus and inputs by their visible words
in the twin's stored messages and views, issues trigger_ids and response_urls that the
twin accepts, and applies what the app answers (command bodies, view_submission
``response_action``) to the twin, so modal stacks and ephemerals stay consistent.

The driver is synchronous: a call returns when the app has answered the HTTP request, or
acked the envelope (the answer is then an ``httpx.Response`` built from the ack, with the
``SocketAck`` in ``response.extensions["socket_mode_ack"]``). Work an app does after its
ack (threads, lazy listeners) is awaited with ``twin.wait_for(...)``.
"""

from __future__ import annotations

from slacktwin.events import Events
from slacktwin.modals import Modals, SubmitResult

__all__ = ["SlackDriver", "SubmitResult"]


class SlackDriver(Events, Modals):
    """Sends Slack's requests (events, commands, interactions) to an app's Request URL, or
    with ``socket_mode=True`` over the app's Socket Mode connection to the twin.

    ``ack_timeout`` bounds the wait for each Socket Mode ack (``AckTimeout`` after it).
    Its gestures by kind: ``Events`` (``slacktwin.events``), commands, shortcuts and
    clicks (``slacktwin.interactions``), ``Modals`` (``slacktwin.modals``), on
    ``Transport`` (``slacktwin.transport``): connecting, people and places.
    """
