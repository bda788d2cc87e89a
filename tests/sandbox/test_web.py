"""The sandbox's web page without a browser: what it draws from untrusted text, and
`copbot sandbox` as a process that keeps its conversations across a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sandbox.web.blocks import Context, render_blocks
from sandbox.web.mrkdwn import to_html

NAMES = {"U1": "Priya Shah"}
JSON = "application/json"
CHANNELS = {"C1": "ideas"}


def draw(text: str) -> str:
    return to_html(text, NAMES.get, CHANNELS.get)


def test_mrkdwn_is_drawn_and_everything_else_is_escaped() -> None:
    assert draw("*bold* _it_ ~gone~ `x<y`") == (
        "<strong>bold</strong> <em>it</em> <del>gone</del> <code>x&lt;y</code>"
    )
    assert draw("hi <@U1> in <#C1>") == (
        'hi <span class="mention">@Priya Shah</span> in <span class="mention">#ideas</span>'
    )
    assert draw("<https://nhs.uk|the *NHS*>") == (
        '<a href="https://nhs.uk" target="_blank" rel="noopener noreferrer">'
        "the <strong>NHS</strong></a>"
    )
    assert "<ul><li>one</li><li>two</li></ul>" in draw("• one\n• two")
    assert draw("> said") == "<blockquote>said</blockquote>"
    assert "💡" in draw(":bulb: idea")
    # What people type cannot become markup or a script.
    hostile = draw('<script>alert(1)</script> <img src=x onerror=alert(1)> "q" &amp;')
    assert "<script" not in hostile and "<img" not in hostile
    assert "&lt;script&gt;" in hostile and "&quot;" not in hostile  # quotes are harmless text
    assert "href" not in draw("<javascript:alert(1)|click>")
    assert draw("&lt;!channel&gt;") == "&lt;!channel&gt;"


def test_block_kit_controls_have_labels_and_hostile_text_is_escaped() -> None:
    ctx = Context(user=NAMES.get, channel=CHANNELS.get, people=[("U1", "Priya Shah")])
    html = render_blocks(
        [
            {"type": "header", "block_id": "h", "text": {"type": "plain_text", "text": "<b>x"}},
            {
                "type": "input",
                "block_id": "t",
                "label": {"type": "plain_text", "text": "Title"},
                "element": {"type": "plain_text_input", "action_id": "a"},
            },
            {
                "type": "input",
                "block_id": "o",
                "optional": True,
                "label": {"type": "plain_text", "text": "Owner"},
                "element": {"type": "users_select", "action_id": "u"},
            },
            {
                "type": "actions",
                "block_id": "b",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "go",
                        "style": "danger",
                        "text": {"type": "plain_text", "text": "Forget me"},
                        "confirm": {
                            "title": {"type": "plain_text", "text": "Sure?"},
                            "text": {"type": "plain_text", "text": "'gone'"},
                            "confirm": {"type": "plain_text", "text": "Yes"},
                            "deny": {"type": "plain_text", "text": "No"},
                        },
                    }
                ],
            },
        ],
        ctx,
    )
    assert "&lt;b&gt;x" in html
    assert '<label class="bk-label" for="input-' in html
    assert 'Owner <span class="bk-optional">(optional)</span>' in html
    assert ">Priya Shah</option>" in html
    assert 'class="bk-btn danger"' in html and "data-confirm='" in html
    assert "'gone'" not in html  # the quote cannot end the attribute


@pytest.mark.skipif(sys.platform == "win32", reason="signals")
def test_copbot_sandbox_serves_the_page_and_keeps_conversations_across_a_restart(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}"}
    env.pop("SLACK_BOT_TOKEN", None)

    def start() -> tuple[subprocess.Popen[str], str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "sandbox", "--no-browser", "--port", "0"],
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        for line in process.stdout:
            if "open http://" in line:
                url = line.split("open ", 1)[1].strip()
                break
            assert time.monotonic() < deadline, "the sandbox did not start"
        else:
            pytest.fail("the sandbox stopped before printing its URL")
        return process, url

    def stop(process: subprocess.Popen[str]) -> None:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0

    process, url = start()
    try:
        page = httpx.get(url, timeout=30)
        assert page.status_code == 200 and "Act as" in page.text
        me = httpx.get(url + "api/people", timeout=30).json()["people"][0]["id"]
        sent = httpx.post(
            url + "api/send",
            json={"as": me, "at": "C0SBGENRL", "text": "Hello <b>all</b>"},
            timeout=60,
        )
        assert sent.status_code == 200, sent.text
        bad = httpx.post(
            url + "api/act", content=b"{not json", timeout=30, headers={"content-type": JSON}
        )
        assert bad.status_code == 400
        # Another site cannot drive the sandbox: no JSON, a foreign Origin or Host.
        reset = {"as": me}
        assert httpx.post(url + "api/reset", content=b"{}", timeout=30).status_code == 415
        foreign = httpx.post(
            url + "api/reset", json=reset, headers={"origin": "http://evil.example"}, timeout=30
        )
        assert foreign.status_code == 403
        rebound = httpx.get(url + "api/people", headers={"host": "evil.example"}, timeout=30)
        assert rebound.status_code == 400
        nobody = httpx.get(url + "api/screen", params={"as": "U0NOBODY"}, timeout=30)
        assert nobody.status_code == 400 and "nobody" in nobody.json()["error"].lower()
    finally:
        stop(process)

    process, url = start()
    try:
        screen = httpx.get(
            url + "api/screen", params={"as": me, "at": "C0SBGENRL"}, timeout=30
        ).json()
        assert "Hello &lt;b&gt;all&lt;/b&gt;" in screen["main"]
    finally:
        stop(process)


def test_reset_demo_starts_over_with_no_conversations_and_fresh_data(
    database_url: str, tmp_path: Path
) -> None:
    from sqlmodel import select

    from bot.config import Settings
    from sandbox.web.site import Site
    from storage import Database, Idea

    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    site = Site(settings, state_file=tmp_path / "twin.json")
    try:
        me = site.world.people[0].user_id
        site.send(me, "C0SBGENRL", "Before the reset", None)
        site.send(me, "C0SBIDEAS", "/idea", None)
        form = site.world.twin.current_modal(me)
        assert form is not None
        site.world.driver.fill(me, {"Title": "Weekend discharge lounge"})
        assert site.submit(me, form["id"], {}) == {}
        database = Database(site.world.deps.settings.database_url)
        with database.session() as session:
            assert len(session.exec(select(Idea)).all()) == 1
        database.dispose()
        site.save()
        assert (tmp_path / "twin.json").exists()
        assert "Before the reset" in site.screen(me, "C0SBGENRL", None)["main"]
        site.reset()
        assert "Before the reset" not in site.screen(me, "C0SBGENRL", None)["main"]
        saved = tmp_path / "twin.json"  # the page saves the new demo's state again soon
        assert not saved.exists() or "Before the reset" not in saved.read_text()
        database = Database(site.world.deps.settings.database_url)
        with database.session() as session:
            assert session.exec(select(Idea)).all() == []
        database.dispose()
    finally:
        site.close()
