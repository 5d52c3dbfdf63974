"""The reports' refresher (`chaindb db refresh-reports --listen`, compose's `reports` service)
stops on SIGTERM, the signal `docker compose down` and systemd send: a process that ignored it
would hold every `down` for its grace period and then be killed mid-refresh."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from chaindb.config import PROJECT_ROOT

pytestmark = pytest.mark.slow


def test_the_listening_refresher_ends_on_sigterm(database_url, tmp_path):
    log = tmp_path / "refresher.log"
    env = {**os.environ, "DATABASE_URL": database_url, "CHAINDB_DATA_DIR": str(tmp_path)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from chaindb.cli import main; main()", "db",
             "refresh-reports", "--listen"],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "waiting for writes" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        time.sleep(1)  # into its wait for a notification (or for the lock another one holds)
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert process.wait(timeout=5) == 0, log.read_text()
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
