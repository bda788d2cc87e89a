"""Browser tests: Debian's Chromium, driven by Playwright, against the sandbox's page.

The page is served in process (the twin, copbot over HTTP and the demo community, as
``copbot sandbox`` runs them); Chromium is launched by its path, so nothing is downloaded.
On a machine without Chromium (or Playwright) these tests are not collected and one
notice says why; every other test runs as usual.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings

CHROMIUM = os.environ.get("COPBOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "browser"


def _why_not() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (install Debian's: apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    return None


WHY_NOT = _why_not()
collect_ignore_glob = ["test_*.py"] if WHY_NOT else []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if WHY_NOT:
        terminalreporter.write_line(f"NOTICE: browser tests skipped: {WHY_NOT}", yellow=True)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield launched
        launched.close()


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """The sandbox behind the page, on a clean database, saving to a temporary file."""
    from handlers.web import BackgroundServer
    from sandbox.web.app import create_app
    from sandbox.web.site import Site

    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    running = Site(settings, state_file=tmp_path / "twin.json")
    server = BackgroundServer(create_app(running)).start()
    running.url = server.url
    try:
        yield running
    finally:
        server.stop()
        running.close()


def run_axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A and AA rules on the page; the script comes from a Python
    package that bundles it, so nothing is fetched."""
    import axe_playwright_python

    script = Path(axe_playwright_python.__file__).with_name("axe.min.js")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=script.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))}));
        }"""
    )
    return list(result)


class Walk:
    """A person at the page: acts as people do, keeps a screenshot of each step and
    checks each screen with axe-core."""

    def __init__(self, page: Any, site: Any, name: str) -> None:
        self.page = page
        self.site = site
        self.folder = SHOTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.step = 0
        self.checked: list[str] = []

    # ---------------------------------------------------------------- seeing

    def shot(self, what: str) -> Path:
        """A screenshot of the screen as it is now, checked with axe-core too: every
        screen a walk keeps a picture of has no serious or critical violation."""
        self.step += 1
        slug = re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")
        path = self.folder / f"{self.step:02d}-{slug}.png"
        self.page.screenshot(path=str(path), full_page=False)
        self.axe(what)
        return path

    def axe(self, what: str) -> None:
        """No serious or critical WCAG 2.1 A/AA violation on the screen as it is now."""
        found = run_axe(self.page)
        bad = [v for v in found if v.get("impact") in ("serious", "critical")]
        self.checked.append(what)
        assert not bad, f"axe-core on '{what}':\n" + "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']}; "
            + "; ".join(n["target"][0] if n.get("target") else "?" for n in v["nodes"][:4])
            for v in bad
        )

    def settled(self, timeout: float = 20.0) -> None:
        """Wait until the page has drawn the sandbox's latest state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            drawn = self.page.evaluate(
                "() => document.body.hasAttribute('aria-busy') ? null : window.__copbotVersion"
            )
            if drawn is not None and drawn == self.site.version():
                return
            self.page.wait_for_timeout(100)
        raise TimeoutError("the page did not catch up with the sandbox")

    # ---------------------------------------------------------------- acting

    def act_as(self, name: str) -> None:
        self.page.get_by_label("Act as").select_option(label=self._person_label(name))
        self.settled()

    def _person_label(self, name: str) -> str:
        for person in self.site.world.people:
            if name.lower() in person.real_name.lower():
                role = (
                    "workspace admin"
                    if person.is_admin
                    else ("lead" if person.is_lead else "member")
                )
                return f"{person.real_name} ({role})"
        raise LookupError(name)

    def open(self, where: str) -> None:
        """A sidebar entry: '#ideas', 'copbot · Home', 'copbot · Messages', a group DM."""
        self.page.locator("nav .conv", has_text=where).first.click()
        self.settled()
        if where == "copbot · Home":  # copbot draws it after the event: slower when busy
            self.page.locator("#messages .home").wait_for(timeout=60000)
            self.settled()

    def send(self, text: str) -> None:
        box = self.page.get_by_label("Message", exact=True)
        box.fill(text)
        box.press("Enter")
        self.settled()

    @property
    def modal(self) -> Any:
        return self.page.get_by_role("dialog")

    def press(self, label: str, within: Any = None) -> None:
        scope = within if within is not None else self.page
        scope.get_by_role("button", name=label, exact=True).first.click()
        # A jump runs days of scheduled work: allow it time on a busy machine.
        self.settled(timeout=120.0 if label.startswith("Jump") else 20.0)

    def message(self, containing: str) -> Any:
        return self.page.locator("#messages article", has_text=containing).last


@pytest.fixture
def walk(browser: Any, site: Any, request: pytest.FixtureRequest) -> Iterator[Walk]:
    context = browser.new_context(
        viewport={"width": 1360, "height": 900}, accept_downloads=True, locale="en-GB"
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site.url)
    page.wait_for_function("() => window.__copbotVersion !== undefined")
    person = Walk(page, site, request.node.name)
    person.settled()
    yield person
    try:
        page.screenshot(path=str(person.folder / "zz-last-screen.png"))
        person.axe("the last screen")
    finally:
        context.close()
    assert not errors, "the page raised JavaScript errors:\n" + json.dumps(errors, indent=1)
