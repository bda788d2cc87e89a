"""The sandbox's own secrets: kept under var/ so a restart can still open its ballots."""

import stat
from pathlib import Path

from sandbox.world import _signing_secret


def test_the_sandbox_signing_secret_is_kept_between_starts(tmp_path: Path) -> None:
    path = tmp_path / "var" / "sandbox-secret.txt"
    first = _signing_secret(path)
    assert _signing_secret(path) == first and len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _signing_secret(None) != _signing_secret(None)  # tests: a new one each time
