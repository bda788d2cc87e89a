"""The rules of docs/architecture.md, checked on every `make test`.

- The import contracts, by import-linter (`.importlinter`): handlers -> bot -> storage, no
  slack_bolt in bot or storage, no Slack in storage, bot.platform importing no feature,
  and features importing each other only through the declared list.
- Rule 2 and rule 3, read from the source (AST): no listener opens a database session or
  calls the Slack client; no Slack call runs while a session is open.
- Rule 5: no module over 500 lines.

Each is a ratchet. Today's violations are listed here (or in `.importlinter`) with why; a
new one fails, naming file:line and the rule, and a listed one that is gone fails until
its line is removed, so the lists only shrink.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept() -> None:
    """A new cross-feature import fails with the chain import-linter found; a line in
    `ignore_imports` that matches nothing fails too (import-linter's default)."""
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command, "import-linter is a dev dependency: pip install -e '.[dev]'"
    result = subprocess.run(
        [command, "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# --------------------------------------------------------------------------- AST rules
# Rule 2 (no Slack call inside a session) and rule 3 (thin listeners) of
# docs/architecture.md, read from the source. Both are ratchets: today's violations are
# listed below by (file, function); a new one fails naming file:line and the rule, and a
# listed one that is gone fails too, so the lists can only shrink.

BOLT_LISTENERS = frozenset(
    {
        "action", "attachment_action", "block_action", "block_suggestion", "command",
        "dialog_cancellation", "dialog_submission", "dialog_suggestion", "event",
        "function", "global_shortcut", "message", "message_shortcut", "options",
        "shortcut", "step", "view", "view_closed", "view_submission",
    }
)  # fmt: skip
SLACK_API = (
    "admin_", "api_", "apps_", "auth_", "bookmarks_", "bots_", "calls_", "chat_",
    "conversations_", "dnd_", "emoji_", "files_", "functions_", "im_", "pins_",
    "reactions_", "reminders_", "search_", "stars_", "team_", "usergroups_", "users_",
    "views_", "workflows_",
)  # fmt: skip
# The outbound port (bot.platform.Messenger) and the reads of bot.slack.SlackPort.
PORT_METHODS = frozenset(
    {
        "post", "post_message", "post_ephemeral", "update_message", "publish_home",
        "open_conversation", "upload_file", "history", "user_info", "permalink",
        "channel_members", "list_users", "thread", "find_tagged", "identity", "message_at",
    }
)  # fmt: skip

# What a Slack port or client is called when it is handed on (`slack(context)` included).
PORT_NAMES = frozenset({"client", "messenger", "port", "slack", "web_client"})

LISTENER_SESSION = "a listener opens a database session (rule 3: listeners are thin)"
LISTENER_CLIENT = "a listener calls the Slack client directly (rule 3: listeners are thin)"
SLACK_IN_SESSION = "a Slack call runs while a session is open (rule 2)"


@dataclass(frozen=True)
class Finding:
    rule: str
    path: str
    function: str
    line: int
    call: str


def _name(node: ast.AST) -> str:
    """The last name in an expression: `deps(context).db.session` -> `session`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def _opens_session(call: ast.Call) -> bool:
    return _name(call.func) in ("session", "Session") and not isinstance(call.func, ast.Call)


def _defers(call: ast.Call) -> bool:
    """`after_commit(session, effect)`: the effect runs after the commit, not in the session."""
    return _name(call.func) == "after_commit"


def _calls_client(call: ast.Call) -> bool:
    """`client.chat_postMessage(...)`, `context.client.views_open(...)` and the like."""
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and (func.attr.startswith(SLACK_API) or func.attr == "api_call")
        and "client" in _name(func.value).lower()
    )


def _calls_slack(call: ast.Call) -> bool:
    """The client, or a port method on anything but a database session or HTTP library."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    return _calls_client(call) or (
        func.attr in PORT_METHODS and _name(func.value) not in ("session", "requests", "httpx")
    )


def _hands_port(call: ast.Call) -> bool:
    """`publish.post_card(session, port, idea)`: the callee gets Slack with the session."""
    args = [*call.args, *(keyword.value for keyword in call.keywords)]
    return any(
        _name(arg) in PORT_NAMES or (isinstance(arg, ast.Attribute) and arg.attr == "client")
        for arg in args
    )


def _source(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


def _registered(tree: ast.Module) -> set[str]:
    """Functions handed to Bolt: `app.action(X)(f)`, `app.view(X)(ack_then(f, g))`,
    `@app.event("x")`. Middleware and error handlers are not listeners."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Call):
            inner = node.func.func
            if isinstance(inner, ast.Attribute) and inner.attr in BOLT_LISTENERS:
                for arg in node.args:
                    names |= {n.id for n in ast.walk(arg) if isinstance(n, ast.Name)}
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Attribute) and target.attr in BOLT_LISTENERS:
                    names.add(node.name)
    return names


def _reachable(tree: ast.Module) -> set[str]:
    """The registered listeners and the module's functions they use, so moving a session
    into a `_helper` beside the listener does not hide it."""
    functions = _functions(tree)
    seen: set[str] = set()
    todo = [name for name in _registered(tree) if name in functions]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in ast.walk(functions[name]):
            if isinstance(node, ast.Name) and node.id in functions and node.id not in seen:
                todo.append(node.id)
    return seen


def _listener_modules() -> list[Path]:
    return sorted(ROOT.glob("handlers/*/listeners.py")) + sorted(ROOT.glob("handlers/*.py"))


def _where(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name


def listener_findings(paths: list[Path] | None = None) -> list[Finding]:
    found = []
    for path in _listener_modules() if paths is None else paths:
        tree, where = _source(path), _where(path)
        functions = _functions(tree)
        for name in sorted(_reachable(tree)):
            for node in ast.walk(functions[name]):
                if not isinstance(node, ast.Call):
                    continue
                if _opens_session(node):
                    found.append(
                        Finding(LISTENER_SESSION, where, name, node.lineno, ast.unparse(node.func))
                    )
                elif _calls_client(node):
                    found.append(
                        Finding(LISTENER_CLIENT, where, name, node.lineno, ast.unparse(node.func))
                    )
    return found


def _walk_body(nodes: list[ast.stmt]) -> Iterator[ast.AST]:
    """Everything a `with` body runs, but not the bodies of functions it only defines, nor
    the effects it hands to `after_commit`."""
    todo: list[ast.AST] = list(nodes)
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.Call) and _defers(node):
            continue
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))


def _session_blocks(node: ast.AST, scope: str) -> Iterator[tuple[str, ast.With | ast.AsyncWith]]:
    for child in ast.iter_child_nodes(node):
        inner = scope
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            inner = child.name if scope == "<module>" else f"{scope}.{child.name}"
        if isinstance(child, (ast.With, ast.AsyncWith)) and any(
            isinstance(item.context_expr, ast.Call) and _opens_session(item.context_expr)
            for item in child.items
        ):
            yield inner, child
        yield from _session_blocks(child, inner)


def session_findings(paths: list[Path] | None = None) -> list[Finding]:
    found = []
    if paths is None:
        paths = sorted(ROOT.glob("bot/**/*.py")) + sorted(ROOT.glob("handlers/**/*.py"))
    for path in paths:
        where = _where(path)
        for scope, block in _session_blocks(_source(path), "<module>"):
            for node in _walk_body(block.body):
                if isinstance(node, ast.Call) and (_calls_slack(node) or _hands_port(node)):
                    found.append(
                        Finding(SLACK_IN_SESSION, where, scope, node.lineno, ast.unparse(node.func))
                    )
    return found


# The exceptions to rules 2 and 3, by file and function: none left (there were 84
# listeners opening a session, 32 calling the client and 17 Slack calls inside a session).
# A listener makes one bot.<feature>.actions call and shows its answer through
# handlers/screens.py; a use case calls Slack after its commit (or queues outbox rows).
LISTENERS_OPENING_SESSIONS: dict[str, tuple[str, ...]] = {}
LISTENERS_CALLING_CLIENT: dict[str, tuple[str, ...]] = {}
SLACK_INSIDE_SESSIONS: dict[str, tuple[str, ...]] = {}


def _ratchet(findings: list[Finding], allowed: dict[str, tuple[str, ...]], name: str) -> None:
    """New findings fail with file:line and the rule; listed entries with no finding fail
    with "remove it from the list"."""
    listed = {(path, function) for path, functions in allowed.items() for function in functions}
    new = [f for f in findings if (f.path, f.function) not in listed]
    gone = sorted(listed - {(f.path, f.function) for f in findings})
    problems = [
        f"{f.path}:{f.line} in {f.function}: {f.rule} ({f.call}). See docs/architecture.md."
        for f in new
    ] + [
        f"{path} {function} is listed in {name} but no longer breaks the rule: "
        "remove it from the list."
        for path, function in gone
    ]
    assert not problems, "\n".join(problems)


def test_listeners_open_no_session() -> None:
    found = [f for f in listener_findings() if f.rule == LISTENER_SESSION]
    _ratchet(found, LISTENERS_OPENING_SESSIONS, "LISTENERS_OPENING_SESSIONS")


def test_listeners_call_no_slack_client() -> None:
    found = [f for f in listener_findings() if f.rule == LISTENER_CLIENT]
    _ratchet(found, LISTENERS_CALLING_CLIENT, "LISTENERS_CALLING_CLIENT")


def test_no_slack_call_inside_a_session() -> None:
    _ratchet(session_findings(), SLACK_INSIDE_SESSIONS, "SLACK_INSIDE_SESSIONS")


# --------------------------------------------------------------------------- size rule
MAX_LINES = 500
SIZED = ("bot", "handlers", "storage", "sandbox", "slacktwin", "llmtwin")

# Modules allowed over 500 lines, with their line count as a ceiling: none (there were 21).
OVERSIZED: dict[str, int] = {}


def module_sizes() -> dict[str, int]:
    sizes = {}
    for top in SIZED:
        for path in sorted((ROOT / top).glob("**/*.py")):
            where = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in where:
                sizes[where] = len(path.read_text(encoding="utf-8").splitlines())
    return sizes


def size_problems(sizes: dict[str, int], ceilings: dict[str, int]) -> list[str]:
    problems = []
    for where, lines in sorted(sizes.items()):
        ceiling = ceilings.get(where, MAX_LINES)
        if lines > ceiling:
            allowed = "its listed ceiling" if where in ceilings else "the limit"
            problems.append(
                f"{where}: {lines} lines, over {allowed} of {ceiling} (rule 5: no module "
                f"over {MAX_LINES} lines): split it, see docs/architecture.md."
            )
        elif where in ceilings and lines <= MAX_LINES:
            problems.append(
                f"{where}: {lines} lines, no longer over {MAX_LINES}: remove it from OVERSIZED."
            )
    problems += [
        f"{where} is listed in OVERSIZED but does not exist: remove it from the list."
        for where in sorted(set(ceilings) - set(sizes))
    ]
    return problems


def test_no_module_over_500_lines() -> None:
    problems = size_problems(module_sizes(), OVERSIZED)
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- the checks fail
# Each ratchet must be able to fail both ways: a new violation, and a listed one gone.

SAMPLE = """
from slack_bolt import App


def register(app: App) -> None:
    app.action("x")(ack_then(ack_only, thick))
    app.view("y")(thin)


def thick(context, client):
    _helper(context)
    client.chat_postMessage(channel="C1", text="hi")


def _helper(context):
    with deps(context).db.session() as session:
        port.post_message("C1", "hi")
        publish.refresh_card(session, slack(context), 1)
        after_commit(session, partial(publish.refresh_card, slack(context), 1))


def thin(ack):
    ack()
"""


def test_the_ast_rules_find_a_new_violation_and_name_its_line(tmp_path: Path) -> None:
    sample = tmp_path / "listeners.py"
    sample.write_text(SAMPLE, encoding="utf-8")
    listeners = listener_findings([sample])
    assert {(f.rule, f.function, f.line) for f in listeners} == {
        (LISTENER_SESSION, "_helper", 16),
        (LISTENER_CLIENT, "thick", 12),
    }
    inside = session_findings([sample])
    assert {(f.function, f.line, f.call) for f in inside} == {
        ("_helper", 17, "port.post_message"),
        ("_helper", 18, "publish.refresh_card"),
    }
    try:
        _ratchet(inside, {"listeners.py": ("_helper",)}, "SAMPLE")
        _ratchet(listeners, {}, "SAMPLE")
    except AssertionError as failure:
        assert "listeners.py:16 in _helper: a listener opens a database session" in str(failure)
    else:
        raise AssertionError("a new violation passed")


def test_a_listed_violation_that_is_gone_must_leave_the_list() -> None:
    try:
        _ratchet([], {"handlers/ideas/listeners.py": ("support",)}, "LISTED")
    except AssertionError as failure:
        assert "support is listed in LISTED but no longer breaks the rule: remove it" in str(
            failure
        )
    else:
        raise AssertionError("a stale entry passed")


def test_the_size_rule_fails_when_a_module_grows_and_when_it_drops_under_500() -> None:
    ceilings = {"bot/big.py": 600, "bot/was_big.py": 520}
    assert (
        size_problems({"bot/big.py": 600, "bot/was_big.py": 520, "bot/a.py": 500}, ceilings) == []
    )
    assert size_problems({"bot/big.py": 601, "bot/was_big.py": 499, "bot/a.py": 501}, ceilings) == [
        "bot/a.py: 501 lines, over the limit of 500 (rule 5: no module over 500 lines): "
        "split it, see docs/architecture.md.",
        "bot/big.py: 601 lines, over its listed ceiling of 600 (rule 5: no module over 500 "
        "lines): split it, see docs/architecture.md.",
        "bot/was_big.py: 499 lines, no longer over 500: remove it from OVERSIZED.",
    ]


# --------------------------------------------------------------------------- IDs rule
# Rule 6: every action, callback and block ID is a member of its feature's Enum in
# handlers/<feature>/ids.py. A literal where an ID is given (a Block Kit key, a kit
# helper's ID parameter, a Bolt registration) anywhere else in bot/ or handlers/ fails.

ID_KEYS = frozenset({"action_id", "block_id", "callback_id"})
# Bolt registrations whose first argument is an action, callback or block ID.
ID_LISTENERS = frozenset(
    {
        "action", "block_action", "block_suggestion", "options", "shortcut",
        "global_shortcut", "message_shortcut", "view", "view_closed", "view_submission",
    }
)  # fmt: skip
BARE_ID = "an action, callback or block ID outside ids.py (rule 6: IDs only in ids.py)"


def _kit_id_parameters() -> dict[str, dict[str | int, str]]:
    """handlers/kit.py's helpers and which of their parameters (by name and position) are IDs."""
    found: dict[str, dict[str | int, str]] = {}
    for name, function in _functions(_source(ROOT / "handlers/kit.py")).items():
        names = [arg.arg for arg in function.args.args]
        ids = {i: n for i, n in enumerate(names) if n in ID_KEYS}
        if ids:
            found[name] = {**ids, **{n: n for n in ids.values()}}
    return found


def _literal(node: ast.AST | None) -> bool:
    """A string written in place: "idea_support", or f"idea_{id}" with a written prefix."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    return (
        isinstance(node, ast.JoinedStr)
        and bool(node.values)
        and isinstance(node.values[0], ast.Constant)
    )


def _bare_ids(call_or_dict: ast.AST, kit: dict[str, dict[str | int, str]]) -> bool:
    if isinstance(call_or_dict, ast.Dict):
        return any(
            isinstance(key, ast.Constant) and key.value in ID_KEYS and _literal(value)
            for key, value in zip(call_or_dict.keys, call_or_dict.values, strict=True)
        )
    if not isinstance(call_or_dict, ast.Call):
        return False
    call, name = call_or_dict, _name(call_or_dict.func)
    if any(kw.arg in ID_KEYS and _literal(kw.value) for kw in call.keywords):
        return True
    if (
        isinstance(call.func, ast.Attribute)
        and name in ID_LISTENERS
        and _name(call.func.value) == "app"
        and call.args
        and _literal(call.args[0])
    ):
        return True
    ids = kit.get(name, {})
    return any(i in ids and _literal(arg) for i, arg in enumerate(call.args)) or any(
        kw.arg in ids and _literal(kw.value) for kw in call.keywords
    )


def id_findings(paths: list[Path] | None = None) -> list[Finding]:
    kit, found = _kit_id_parameters(), []
    if paths is None:
        paths = sorted(ROOT.glob("bot/**/*.py")) + sorted(ROOT.glob("handlers/**/*.py"))
    for path in paths:
        if path.name == "ids.py":
            continue
        where, tree = _where(path), _source(path)
        for scope, node in _scoped_nodes(tree, "<module>"):
            if _bare_ids(node, kit):
                found.append(Finding(BARE_ID, where, scope, node.lineno, ast.unparse(node)[:60]))
    return found


def _scoped_nodes(node: ast.AST, scope: str) -> Iterator[tuple[str, ast.AST]]:
    for child in ast.iter_child_nodes(node):
        inner = scope
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            inner = child.name if scope == "<module>" else f"{scope}.{child.name}"
        yield inner, child
        yield from _scoped_nodes(child, inner)


# The bare IDs left, by file (rule 6): none.
BARE_IDS: dict[str, tuple[str, ...]] = {}


def test_ids_only_in_ids_py() -> None:
    _ratchet(id_findings(), BARE_IDS, "BARE_IDS")


IDS_SAMPLE = """
from handlers.ideas.ids import IdeaId
from handlers.kit import actions, button, input_block


def register(app):
    app.action(IdeaId.SUPPORT)(support)
    app.action("idea_unsupport")(unsupport)


def card(idea):
    return actions(
        [button("Support", IdeaId.SUPPORT), button("Discuss", "idea_discuss")],
        block_id=f"idea_{idea.id}",
    )


def form():
    return [input_block(IdeaId.TITLE, "Title", {}), {"type": "input", "block_id": "why"}]
"""


def test_the_ids_rule_finds_a_bare_id_wherever_an_id_is_given(tmp_path: Path) -> None:
    sample = tmp_path / "views.py"
    sample.write_text(IDS_SAMPLE, encoding="utf-8")
    found = {(f.function, f.line) for f in id_findings([sample])}
    assert found == {("register", 8), ("card", 12), ("card", 13), ("form", 19)}
    named = tmp_path / "ids.py"
    named.write_text(IDS_SAMPLE, encoding="utf-8")
    assert id_findings([named]) == []
