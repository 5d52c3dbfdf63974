"""Peers for bench/api_load.py: Platformatic DB over the same schema, and pgbench (the ceiling).

    .venv/bin/python bench/peers.py --database chaindb_bench --duration 5     # smoke run

Platformatic DB (@platformatic/db, pinned in bench/platformatic/package.json) is an automatic
REST API over the PostgreSQL schema; bench/platformatic/start.mjs starts it on 127.0.0.1, and
`platformatic()` checks from /proc that every socket it listens on is bound to 127.0.0.1.
bench/wrk/platformatic_*.lua drive it. bench/pgbench/*.sql are the statements chaindb runs for
the three calls, which `run_pgbench()` runs without any HTTP server: what the database alone
manages. Only loopback traffic.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PLATFORMATIC = ROOT / "bench" / "platformatic"
PGBENCH = ROOT / "bench" / "pgbench"
WRK = ROOT / "bench" / "wrk"
LOOPBACK = "127.0.0.1"
READY_LINE = "platformatic listening on"


class PeerError(RuntimeError):
    """A peer could not be installed, started, checked or run."""


class ServerURL(str):
    """A base URL (a plain str to callers) that also tells which process serves it.

    pid: the server process; sockets: its listening sockets as the loopback check found them.
    """

    pid: int
    sockets: list[tuple[str, str, int]]

    def __new__(cls, url: str, pid: int, sockets: list[tuple[str, str, int]]) -> ServerURL:
        self = super().__new__(cls, url)
        self.pid, self.sockets = pid, sockets
        return self


# --- Platformatic DB ----------------------------------------------------------------------------


def ensure_platformatic() -> Path:
    """Install bench/platformatic/node_modules with `npm ci` when missing or stale; the directory.

    Stale: npm's record of what it installed (node_modules/.package-lock.json) is older than
    package-lock.json, or the installed @platformatic/db is not the version package.json pins.
    Raises PeerError when node or npm is missing, node is older than 20, or npm ci fails.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise PeerError(
            "Platformatic DB needs Node.js 20+ and npm on PATH (missing: "
            + ", ".join(name for name, path in (("node", node), ("npm", npm)) if path is None)
            + ")"
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    major = int(version.stdout.strip().lstrip("v").split(".")[0])
    if major < 20:
        raise PeerError(f"Platformatic DB needs Node.js 20+, found {version.stdout.strip()}")
    if _platformatic_stale():
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=PLATFORMATIC,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise PeerError(
                f"npm ci failed in {PLATFORMATIC} (exit {result.returncode}):\n"
                + _tail(result.stdout + result.stderr)
            )
        if _platformatic_stale():
            raise PeerError(f"npm ci in {PLATFORMATIC} did not install the pinned @platformatic/db")
    return PLATFORMATIC


def platformatic_version() -> str:
    """The installed @platformatic/db version (after ensure_platformatic)."""
    manifest = PLATFORMATIC / "node_modules" / "@platformatic" / "db" / "package.json"
    return json.loads(manifest.read_text())["version"]


def _platformatic_stale() -> bool:
    modules = PLATFORMATIC / "node_modules"
    installed = modules / ".package-lock.json"
    manifest = modules / "@platformatic" / "db" / "package.json"
    if not installed.exists() or not manifest.exists():
        return True
    if installed.stat().st_mtime < (PLATFORMATIC / "package-lock.json").stat().st_mtime:
        return True
    pinned = json.loads((PLATFORMATIC / "package.json").read_text())["dependencies"][
        "@platformatic/db"
    ]
    return json.loads(manifest.read_text())["version"] != pinned


@contextmanager
def platformatic(
    database_url: str, port: int, *, pool_size: int = 10, startup_timeout: float = 120
) -> Iterator[ServerURL]:
    """Platformatic DB over `database_url` on 127.0.0.1:`port`; yields its base URL.

    The URL is a ServerURL: a str that also carries the node pid and its listening sockets.

    Configuration (bench/platformatic/start.mjs): OpenAPI REST routes only (no GraphQL, no
    events), no migrations, no type generation, logger at warn, page limit default 10 and
    max 100 (so limit=50 works; more than 100 is a 500), a pool of `pool_size` connections
    (Platformatic's default, 10), created_at/updated_at filled by Platformatic (its default).
    The connection string reaches node through the environment, never a file or argv.

    Once it answers, every socket the node process listens on (TCP and UDP, IPv4 and IPv6,
    read from /proc/<pid>/fd and /proc/<pid>/net/*) must be bound to 127.0.0.1, and one of
    them to `port`; otherwise PeerError. On exit node gets SIGTERM (SIGKILL after 15 s) and is
    waited for.
    """
    directory = ensure_platformatic()
    _check_port_free(port)
    env = {
        **os.environ,
        "PLT_BENCH_DATABASE_URL": _libpq_url(database_url),
        "PLT_BENCH_PORT": str(port),
        "PLT_BENCH_POOL_SIZE": str(pool_size),
        "PLT_BENCH_LOG_LEVEL": "warn",
        "NODE_ENV": "production",
    }
    with tempfile.TemporaryDirectory(prefix="chaindb-platformatic-") as tmp:
        log_path = Path(tmp) / "platformatic.log"
        with log_path.open("wb") as log:
            # node itself, not npx: npx leaves a child process that keeps holding the port.
            process = subprocess.Popen(
                [shutil.which("node") or "node", "start.mjs"],
                cwd=directory,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C reaches us, and we stop node in order
            )
        try:
            base = f"http://{LOOPBACK}:{port}"
            _wait_for_platformatic(process, log_path, base, startup_timeout)
            yield ServerURL(base, process.pid, check_loopback_only(process.pid, port))
        finally:
            _stop(process)
            if process.returncode not in (0, -signal.SIGTERM, -signal.SIGKILL):
                print(
                    f"platformatic exited with {process.returncode}:\n{_tail(_read(log_path))}",
                    file=sys.stderr,
                )


def _wait_for_platformatic(
    process: subprocess.Popen, log_path: Path, base: str, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while READY_LINE not in _read(log_path):
        if process.poll() is not None:
            raise PeerError(
                f"platformatic exited with {process.returncode} while starting:\n"
                + _tail(_read(log_path))
            )
        if time.monotonic() > deadline:
            raise PeerError(
                f"platformatic did not start within {timeout:.0f} s:\n" + _tail(_read(log_path))
            )
        time.sleep(0.2)
    try:
        with urllib.request.urlopen(f"{base}/project/?limit=1", timeout=10) as response:
            if response.status != 200:
                raise PeerError(f"platformatic answered {response.status} to GET /project/")
    except urllib.error.URLError as exc:
        raise PeerError(f"platformatic does not answer at {base}: {exc}") from exc


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError as exc:
            raise PeerError(f"port {LOOPBACK}:{port} is taken: {exc}") from exc


# --- the loopback check -------------------------------------------------------------------------


def listening_sockets(pid: int) -> list[tuple[str, str, int]]:
    """(protocol, address, port) of every socket process `pid` listens on or has bound for UDP.

    Linux only: the socket inodes among /proc/<pid>/fd, matched against /proc/<pid>/net/tcp,
    tcp6, udp and udp6 (TCP in state LISTEN; UDP bound, i.e. any state with a local port).
    """
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = []
    for protocol in ("tcp", "tcp6", "udp", "udp6"):
        table = Path(f"/proc/{pid}/net/{protocol}")
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if inode not in inodes:
                continue
            if protocol.startswith("tcp") and state != "0A":  # 0A = TCP_LISTEN
                continue
            address, port = _decode_address(local)
            if protocol.startswith("udp") and port == 0:
                continue
            found.append((protocol, address, port))
    return found


def check_loopback_only(pid: int, port: int) -> list[tuple[str, str, int]]:
    """Raise PeerError unless every listening socket of `pid` is on 127.0.0.1, one on `port`.

    Returns the sockets found (for a report).
    """
    sockets = listening_sockets(pid)
    exposed = [s for s in sockets if s[1] != LOOPBACK]
    if exposed:
        raise PeerError(
            f"process {pid} listens beyond {LOOPBACK}: "
            + ", ".join(f"{p} {a}:{n}" for p, a, n in exposed)
        )
    if not any(p.startswith("tcp") and n == port for p, _, n in sockets):
        raise PeerError(f"process {pid} does not listen on {LOOPBACK}:{port} (found {sockets})")
    return sockets


def _decode_address(field: str) -> tuple[str, int]:
    """/proc/net/tcp's "0100007F:1F90" -> ("127.0.0.1", 8080); IPv6 likewise (bytes per word)."""
    hex_address, hex_port = field.split(":")
    raw = bytes.fromhex(hex_address)
    # The kernel prints each 32-bit word in host (little-endian) order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    family = socket.AF_INET if len(words) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, words), int(hex_port, 16)


# --- pgbench ------------------------------------------------------------------------------------


def run_pgbench(
    database_url: str,
    script: Path,
    variables: Mapping[str, str | int],
    connections: int = 32,
    threads: int = 2,
    duration: int = 15,
    *,
    protocol: str = "prepared",
) -> dict:
    """Run one pgbench script; {"rps", "p50_ms", "p99_ms", "errors"}.

    `pgbench -n -M prepared -c connections -j threads -T duration -D name=value ... -f script`.
    -n: no vacuum before the run (and no pgbench tables needed). -M prepared: each client
    prepares its statements once, as chaindb's psycopg connections end up doing (psycopg's
    prepare_threshold defaults to 5: a statement is prepared server-side from its 5th run on a
    connection, so a warm gunicorn worker sends only Bind/Execute); pass protocol="extended"
    or "simple" to compare.

    Besides `variables`, every run gets `run` (an integer unique to this call) and `n=0` unless
    given: create_link.sql builds its product from run, :client_id and n (a per-client counter).
    Variables the scripts read: list_projects.sql chain; read_project.sql first_id;
    create_link.sql chain, buyer, first_supplier.

    rps is pgbench's tps (without initial connection time). p50_ms and p99_ms come from the
    per-transaction log (--log, one line per transaction, latency in microseconds) by the
    nearest-rank method: exact, not estimated. errors counts failed transactions plus clients
    pgbench aborted (in pgbench 15 an SQL error aborts the client for the rest of the run).
    """
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        raise PeerError("pgbench is missing (apt-get install postgresql-client)")
    url, password = _pgbench_url(database_url)
    given: dict[str, str | int] = {
        "run": time.time_ns() // 1000 % 10**12 * 100 + os.getpid() % 100,
        "n": 0,
    }
    given.update(variables)
    with tempfile.TemporaryDirectory(prefix="chaindb-pgbench-") as tmp:
        command = [
            pgbench, "-n", "-M", protocol, "-c", str(connections), "-j", str(min(threads, connections)),
            "-T", str(duration), "--log", f"--log-prefix={tmp}/tx",
            *(f"-D{name}={value}" for name, value in given.items()),
            "-f", str(script), url,
        ]  # fmt: skip
        env = {**os.environ, **({"PGPASSWORD": password} if password else {})}
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp)
        out = result.stdout + result.stderr
        tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
        if result.returncode not in (0, 2) or tps is None:
            raise PeerError(f"pgbench failed (exit {result.returncode}):\n{_tail(out)}")
        latencies, failed = [], 0
        for log_file in Path(tmp).glob("tx.*"):
            with log_file.open() as lines:
                for line in lines:
                    field = line.split(maxsplit=3)[2]
                    if field.isdigit():
                        latencies.append(int(field))
                    elif field == "failed":
                        failed += 1
    reported = re.search(r"number of failed transactions: (\d+)", out)
    aborted = len(re.findall(r"client \d+ script \d+ aborted", out))
    latencies.sort()
    return {
        "rps": float(tps.group(1)),
        "p50_ms": _nearest_rank(latencies, 0.50) / 1000,
        "p99_ms": _nearest_rank(latencies, 0.99) / 1000,
        "errors": max(failed, int(reported.group(1)) if reported else 0) + aborted,
    }


def _nearest_rank(ordered: list[int], fraction: float) -> float:
    if not ordered:
        return math.nan
    return float(ordered[max(math.ceil(fraction * len(ordered)), 1) - 1])


def _pgbench_url(database_url: str) -> tuple[str, str | None]:
    """A libpq URI for pgbench's dbname argument, with the password moved out of argv."""
    parts = urlsplit(_libpq_url(database_url))
    password = unquote(parts.password) if parts.password else None
    if password is not None:
        netloc = parts.netloc.rsplit("@", 1)
        userinfo = netloc[0].split(":", 1)[0]
        parts = parts._replace(netloc=f"{userinfo}@{netloc[1]}")
    return urlunsplit(parts), password


def _libpq_url(database_url: str) -> str:
    """postgresql+psycopg:// (SQLAlchemy) -> postgresql:// (libpq, node-postgres)."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", database_url.strip())


# --- wrk ----------------------------------------------------------------------------------------


def run_wrk(
    base_url: str,
    script: Path,
    env: dict[str, str],
    connections: int = 32,
    threads: int = 2,
    duration: int = 15,
) -> dict:
    """`wrk -t -c -d --latency -s script base_url`; {"rps", "p50_ms", "p99_ms", "errors"}.

    errors: non-2xx/3xx responses plus socket errors (connect, read, write, timeout).
    """
    if shutil.which("wrk") is None:
        raise PeerError("wrk is missing (apt-get install wrk)")
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
         "-s", str(script), base_url],
        env={**os.environ, **env}, capture_output=True, text=True,
    )  # fmt: skip
    out = result.stdout
    if result.returncode != 0 or "Requests/sec:" not in out:
        raise PeerError(f"wrk failed (exit {result.returncode}):\n{_tail(out + result.stderr)}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    return {
        "rps": float(_find(r"Requests/sec:\s+([\d.]+)", out)),
        "p50_ms": _wrk_ms(_find(r"\s50%\s+(\S+)", out)),
        "p99_ms": _wrk_ms(_find(r"\s99%\s+(\S+)", out)),
        "errors": (int(non_2xx.group(1)) if non_2xx else 0)
        + (sum(int(n) for n in sockets.groups()) if sockets else 0),
    }


def _wrk_ms(value: str) -> float:
    """wrk's "812.00us", "1.25ms", "2.01s" or "1.50m", in milliseconds."""
    number = float(_find(r"([\d.]+)(?:us|ms|s|m)$", value))
    unit = value.lstrip("0123456789.")
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _find(pattern: str, text: str) -> str:
    """The first group of `pattern` in `text`; PeerError when absent (output not understood)."""
    match = re.search(pattern, text)
    if match is None:
        raise PeerError(f"no {pattern!r} in:\n{_tail(text)}")
    return match.group(1)


def platformatic_scenarios(
    fixture: dict[str, int],
) -> list[tuple[str, Path, dict[str, str]]]:
    """(name, wrk script, env) for the Platformatic runs, given chain, project, buyer, supplier."""
    common = {
        "CHAIN_ID": str(fixture["chain"]),
        "FIRST_ID": str(fixture["project"]),
        "BUYER_ID": str(fixture["buyer"]),
        "FIRST_SUPPLIER": str(fixture["supplier"]),
    }
    return [
        ("list 50 projects + total count", WRK / "platformatic_list.lua", {**common, "TOTAL": "1"}),
        ("list 50 projects, no count", WRK / "platformatic_list.lua", {**common, "TOTAL": "0"}),
        ("read one project", WRK / "platformatic_read.lua", common),
        ("create a supply link", WRK / "platformatic_create_link.lua", common),
    ]


def pgbench_scenarios(fixture: dict[str, int]) -> list[tuple[str, Path, dict[str, int]]]:
    """(name, pgbench script, variables) for the three calls, given the same fixture."""
    return [
        ("list 50 projects + total count", PGBENCH / "list_projects.sql",
         {"chain": fixture["chain"]}),
        ("read one project", PGBENCH / "read_project.sql", {"first_id": fixture["project"]}),
        ("create a supply link", PGBENCH / "create_link.sql",
         {"chain": fixture["chain"], "buyer": fixture["buyer"],
          "first_supplier": fixture["supplier"]}),
    ]  # fmt: skip


# --- smoke run ----------------------------------------------------------------------------------


def fixture_ids(database_url: str) -> dict[str, int]:
    """The ids bench/api_load.py prepare() picks, read-only (no user or token is made).

    chain: the chain of an active chain master with the most projects (ties: lowest chain,
    then enterprise id); buyer: that chain master; project: the chain's lowest project id;
    supplier: the lowest synthetic enterprise id other than the buyer.
    """
    import psycopg

    with psycopg.connect(_libpq_url(database_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT r.chain_id, r.enterprise_id FROM chain_role r "
            "WHERE r.role = 'chain_master' AND r.until IS NULL "
            "ORDER BY (SELECT count(*) FROM project p WHERE p.chain_id = r.chain_id) DESC, "
            "r.chain_id, r.enterprise_id LIMIT 1"
        ).fetchone()
        if row is None:
            raise PeerError("no active chain master: load synthetic data first")
        chain, buyer = row
        project = _scalar(conn, "SELECT min(id) FROM project WHERE chain_id = %s", chain)
        supplier = _scalar(
            conn,
            "SELECT min(id) FROM enterprise WHERE id <> %s AND uscc LIKE '91______XYN%%'",
            buyer,
        )
    if project is None or supplier is None:
        raise PeerError(
            "no projects or synthetic enterprises: run bench/load.py --scales 1 --keep-as chaindb_bench"
        )
    return {"chain": chain, "buyer": buyer, "project": project, "supplier": supplier}


def _scalar(conn: Any, query: str, *params: object) -> Any:
    row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def _database_url(name: str) -> str:
    """DATABASE_URL pointed at database `name`; else the local server on 127.0.0.1:5432.

    (Not chaindb's resolve_url: without DATABASE_URL that starts the embedded server.)
    """
    base = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    parts = urlsplit(_libpq_url(base))
    return urlunsplit(parts._replace(path=f"/{name}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="chaindb_bench")
    parser.add_argument("--duration", type=int, default=5, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--port", type=int, default=8103, help="Platformatic's port on 127.0.0.1")
    args = parser.parse_args()
    url = _database_url(args.database)
    fixture = fixture_ids(url)
    load = {"connections": args.connections, "threads": args.threads, "duration": args.duration}
    print(f"fixture: {fixture}")
    rows = []
    ensure_platformatic()
    with platformatic(url, args.port) as base:
        print(
            f"@platformatic/db {platformatic_version()} at {base}; listening sockets of node "
            f"(pid {base.pid}): {base.sockets}: loopback only"
        )
        for name, script, env in platformatic_scenarios(fixture):
            rows.append(("platformatic", name, run_wrk(base, script, env, **load)))
    for name, script, variables in pgbench_scenarios(fixture):
        rows.append(("pgbench", name, run_pgbench(url, script, variables, **load)))
    print(
        f"\nwrk / pgbench: {args.connections} connections, {args.threads} threads, {args.duration} s"
    )
    print(f"{'peer':<13} {'scenario':<32} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for peer, name, r in rows:
        print(
            f"{peer:<13} {name:<32} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r['errors']:>7}"
        )


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


if __name__ == "__main__":
    main()
