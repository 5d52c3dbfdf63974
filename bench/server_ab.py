"""The HTTP server A/B: the same app (chaindb, and the hand-written baseline) under gunicorn
(bench/gunicorn.conf.py, the settings chaindb shipped with: sync workers, no keep-alive) and under granian (keep-alive,
HTTP in Rust) with a few worker and thread counts, reading one project and listing 50 projects of
a chain with wrk; and whether 4 clients that send their headers slowly starve the workers (the
health check's wait).

    .venv/bin/python bench/server_ab.py [--database chaindb_bench] [--duration 10]
        [--granian 2x1,2x4]

Prints req/s, p50 and p99 per server and call, then the slow-client result per server. Only
loopback traffic; needs wrk. The data: bench/load.py --scales 1 --keep chaindb_bench.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import peers  # noqa: E402
from bench.api_load import (  # noqa: E402
    WRK,
    database_url,
    make_token,
    server_env,
    wait_until_up,
)

BIN = Path(sys.executable).parent
PORT = 8111
CALLS = (("read one project", "read_project.lua"), ("list 50 projects", "list_projects.lua"))


def gunicorn(app: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [
            BIN / "gunicorn",
            "--config",
            "bench/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{PORT}",
            app,
        ],
        env={**env, "CHAINDB_PORT": str(PORT)},
        cwd=ROOT,
    )


def granian(app: str, env: dict[str, str], workers: int, threads: int) -> subprocess.Popen:
    return subprocess.Popen(
        [BIN / "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(PORT),
         "--workers", str(workers), "--blocking-threads", str(threads), "--no-ws",
         "--log-level", "warning", app],
        env=env, cwd=ROOT,
    )  # fmt: skip


def slow_clients(n: int = 4, wait: float = 5.0) -> float | None:
    """Open `n` connections that send half a request's headers and stall; then time a health
    check. Seconds it took, or None when it got no answer within `wait`."""
    stalled = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", PORT))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        stalled.append(s)
    try:
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=wait):
                return time.perf_counter() - started
        except OSError:
            return None
    finally:
        for s in stalled:
            s.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="chaindb_bench")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--granian", default="2x1,2x2,2x4", help="workers x threads, comma-separated"
    )
    parser.add_argument("--apps", default="chaindb,hand-written")
    args = parser.parse_args()
    url = database_url(args.database)
    fixture = peers.fixture_ids(url)
    token = make_token(url)
    env = server_env(url)
    common = {"CHAIN_ID": str(fixture["chain"]), "FIRST_ID": str(fixture["project"])}
    apps = {
        "chaindb": ("chaindb.wsgi:app", {"PREFIX": "/api/v1/projects", "TOKEN": token}, "/healthz"),
        "hand-written": ("bench.baseline_app:app", {"PREFIX": "/projects", "TOKEN": ""},
                         f"/projects/{fixture['project']}"),
    }  # fmt: skip
    servers = [("gunicorn", None)] + [
        (f"granian {spec}", tuple(int(x) for x in spec.split("x")))
        for spec in args.granian.split(",")
    ]
    print(f"{'app':<13} {'server':<14} {'call':<18} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    stalls: list[tuple[str, str, float | None]] = []
    for name in args.apps.split(","):
        app, extra, ready = apps[name]
        for label, shape in servers:
            server = gunicorn(app, env) if shape is None else granian(app, env, *shape)
            try:
                wait_until_up(f"http://127.0.0.1:{PORT}{ready}")
                for call, script in CALLS:
                    script_env = {**common, **extra}
                    base = f"http://127.0.0.1:{PORT}"
                    if args.warmup:
                        peers.run_wrk(base, WRK / script, script_env, args.connections, 2,
                                      args.warmup)  # fmt: skip
                    r = peers.run_wrk(
                        base, WRK / script, script_env, args.connections, 2, args.duration
                    )
                    print(
                        f"{name:<13} {label:<14} {call:<18} {r['rps']:>8.0f} "
                        f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}",
                        flush=True,
                    )
                if name == "chaindb":
                    stalls.append((name, label, slow_clients()))
            finally:
                server.terminate()
                server.wait(timeout=30)
    print("\n4 clients stalled mid-headers, then GET /healthz:")
    for name, label, took in stalls:
        print(
            f"  {name} under {label}: " + ("no answer in 5 s" if took is None else f"{took:.3f} s")
        )


if __name__ == "__main__":
    main()
