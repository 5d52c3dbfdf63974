"""What the speed of serving relies on: `chaindb run` (granian) keeps a connection alive across
requests, and clients that stall mid-request hold no worker: a health check is still answered."""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from chaindb.config import PROJECT_ROOT

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(database_url: str, tmp_path_factory) -> Iterator[int]:
    """`chaindb run` with two workers of one thread each, on a free loopback port."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CHAINDB_ENV": "test",
        "CHAINDB_SECRET_KEY": secrets.token_urlsafe(48),
        "CHAINDB_DATA_DIR": str(tmp_path_factory.mktemp("serve")),
        "CHAINDB_REPORTS_LISTEN": "false",
        "CHAINDB_DB_POOL_SIZE": "2",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", "from chaindb.cli import main; main()", "run", "--host",
         "127.0.0.1", "--port", str(port), "--workers", "2", "--threads", "1"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the workers go with it at the end
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield port
    finally:
        # The whole group: killed after a graceful wait, granian's workers would be left
        # running (and serving) without their parent.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def test_a_connection_is_kept_alive_across_requests(served):
    conn = http.client.HTTPConnection("127.0.0.1", served, timeout=5)
    try:
        sockets = set()
        for _ in range(3):
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            assert response.status == 200
            response.read()
            assert not response.will_close
            sockets.add(id(conn.sock))
        assert len(sockets) == 1  # one connection served all three
    finally:
        conn.close()


def test_clients_stalled_mid_request_do_not_block_a_health_check(served):
    stalled = []
    try:
        for _ in range(8):  # more than the workers and their threads
            s = socket.create_connection(("127.0.0.1", served), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            stalled.append(s)
        with urllib.request.urlopen(f"http://127.0.0.1:{served}/healthz", timeout=1) as got:
            assert got.status == 200
    finally:
        for s in stalled:
            s.close()
