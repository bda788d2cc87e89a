"""``copbot worker`` as an operator starts it: without the deployment secret that seals
pulse answers it refuses to start, in one sentence, before touching the database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import BOT_TOKEN


def test_a_worker_without_the_signing_secret_refuses_to_start(tmp_path: Path) -> None:
    database = tmp_path / "copbot.db"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "worker"],
        env={
            "PATH": os.environ["PATH"],
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "DATABASE_URL": f"sqlite:///{database}",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "copbot: SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN) is not set; the worker needs the "
        "same one as the web processes to open the sealed pulse answers when runs close"
    )
    assert not database.exists()  # nothing was started or migrated
