"""How far one Patroni cluster goes as the data grows: load, replication lag, disk, reports, API.

    .venv/bin/python bench/cluster_scale.py [--scales 1,5] [--root /tmp/chaindb-scale]
        [--base-port 5471] [--keep] [--skip-api] [--output FILE.md]

For each synthetic scale (scale 1: 100,000 enterprises, 1,000,000 supply links, 50,000
projects), one after another, on a cluster of its own (chaindb.cluster.Cluster: etcd and three
Patroni nodes on 127.0.0.1, one synchronous standby, WAL archived with pgBackRest):

1. A fresh cluster under --root (wiped first), PostgreSQL on --base-port and the two ports after
   it (Patroni's APIs at +1000, etcd at +2000, the app at +3000); the database chaindb on the
   leader, `chaindb db upgrade` and `chaindb seed reference` through the multi-host read-write
   URL (DATABASE_URL), as tests/test_failover.py sets the cluster up.
2. `chaindb seed synthetic --scale S --quiet`, a child process timed as bench/load.py times it
   (wall time, the load and report-refresh times it prints, its own peak RSS). While it runs,
   every second, the leader's pg_stat_replication: per standby the replay lag in bytes
   (pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)) and replay_lag and flush_lag in seconds
   (NULL, i.e. caught up and idle, counts as 0), grouped by sync_state (the synchronous standby;
   the other is async); max and p95 (nearest rank) of each. The WAL the load generated:
   pg_wal_lsn_diff of the leader's LSN after and before. Then how long the standbys took to
   replay up to the leader's LSN after the load ended, and the archiver's figures (segments
   archived, failures, segments waiting: archive_status/*.ready on the leader).
3. After the load: pg_database_size(chaindb) and the largest relations (pg_total_relation_size),
   each node's data directory on disk (du -sb; its pg_wal apart for the leader), the pgBackRest
   repository (WAL archive; no backup is taken), the whole cluster directory, and the disk space
   left. Then VACUUM (ANALYZE), as a DBA would after a bulk load (bench/run.py does the same
   before its reports and API runs), timed.
4. `chaindb db refresh-reports` timed, with the seconds it prints per view; the time until both
   standbys replayed the refresh; then each reporting view's typical query (the first query
   bench/report_views.py times for it: the page's filtered query where it has one, with its
   fixture of the busiest chain, master, planning unit and year) read ON A STANDBY through the
   prefer-standby URL (the app's DATABASE_REPLICA_URL): one warm-up run, then 5 timed (client
   wall time, every row fetched), the median.
5. Unless --skip-api: `chaindb run` (granian, chaindb/serve.py's settings) in production mode on
   127.0.0.1 with DATABASE_URL the read-write URL, DATABASE_REPLICA_URL the prefer-standby one and
   CHAINDB_REPORTS_LISTEN=0, a bearer token of an editor (bench/api_load.py's make_token), and
   wrk -t2 -c32 (bench/wrk/*.lua, bench/peers.py's run_wrk) after a --warmup unmeasured run, for
   --duration seconds each: read one project (10,000 project ids in turn), list 50 projects of a
   chain, one report API call (chain-overview of one chain: read from the standby); req/s, p50,
   p99, errors.
6. The cluster stopped and its directory deleted (--keep: the last scale's left running).

Prints a markdown section (and writes it to --output when given): one row per figure, a column
per scale, the growth from the smallest scale to the largest, and each figure extrapolated to
scale 16 (--extrapolate-to): a power law through the smallest and the largest scale,
f(16) = f(b) * (16/b)^k with k = log(f(b)/f(a)) / log(b/a); with one scale only, figures that
grow with the data (sizes, times, WAL, rows, memory) linearly in the data, f(16) = f(s) * 16/s,
and the others (rates, latencies, lags) not at all. Before each scale the free disk is checked
against an estimate (per node 2 GiB per scale unit and 2 GiB of WAL, 0.5 GiB of archive per
unit, 10 GiB to spare: 22.5 GiB at scale 1, 48.5 GiB at scale 5) and the scale refused when
short. Only loopback traffic. Needs etcd, Patroni, pgBackRest
(./scripts/cluster installs them) and wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import api_load, load, peers, report_views  # noqa: E402
from chaindb.cluster import Cluster, missing_parts  # noqa: E402
from chaindb.config import normalize_database_url  # noqa: E402

CHAINDB = load.CHAINDB
WRK = ROOT / "bench" / "wrk"
MIB, GIB = 1024**2, 1024**3
# Disk needed per scale: every node's copy of the data and its pg_wal, and the WAL archive.
# Measured at scales 0.1 and 0.3: a node's data directory without pg_wal grew by 1.45 GiB per
# scale unit (185 -> 474 MiB), pg_wal stays near max_wal_size (1 GB; 320 -> 832 MiB on the
# leader), the archive (compressed) grew by 0.47 GiB per unit; at 0.3 the whole cluster took
# 4.05 GiB. Estimated with room to spare (the data directories grow further with the VACUUM,
# the report refresh and the API's writes): per node 2 GiB per scale unit plus 2 GiB of pg_wal,
# 0.5 GiB of archive per unit, and a margin: 22.5 GiB at scale 1, 48.5 GiB at scale 5.
DISK_PER_NODE_GIB = 2.0
DISK_WAL_PER_NODE_GIB = 2.0
DISK_ARCHIVE_GIB = 0.5
DISK_MARGIN_GIB = 10.0
SAMPLE_EVERY_S = 1.0
READ_RUNS = 5
REFRESH_LINE = re.compile(r"^(\w+) refreshed in ([0-9.]+) s$", re.M)
LARGEST_TABLES = 5
CALLS = ("read one project", "list 50 projects of a chain", "one report API call")
REPORT_CALL = "chain-overview"  # /api/v1/reports/<this>?chain_id=...&limit=50
# Reads one project, cycling through the ids in the file IDS_FILE: read_project.lua's request,
# for data with fewer than 10,000 consecutive project ids (scale 0.1).
READ_IDS_LUA = """\
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
local prefix = os.getenv("PREFIX")
local token = os.getenv("TOKEN")
local n = 0
request = function()
  n = n + 1
  local headers = {}
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", prefix .. "/" .. ids[(n % #ids) + 1], headers)
end
"""


class Refused(RuntimeError):
    """A scale not started: its ports are taken or the disk is too small for it."""


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- figures -----------------------------------------------------------------------------------

# How a figure is extrapolated from one scale: "data" grows with the data (linearly), "flat"
# (rates, latencies, lags) has no one-point model, "none" is never extrapolated.
DATA, FLAT, NONE = "data", "flat", "none"


@dataclass
class Figures:
    """One scale's figures, in the order they are printed: label -> (value, format, kind)."""

    scale: float
    values: dict[str, tuple[float | None, str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, label: str, value: float | None, fmt: str = ".1f", kind: str = DATA) -> None:
        self.values[label] = (value, fmt, kind)


# --- the cluster -------------------------------------------------------------------------------


def libpq(url: str) -> str:
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)


def check_ports(cluster: Cluster, app_port: int) -> None:
    """Every port the cluster and the app will listen on is free on 127.0.0.1."""
    ports = [n.pg_port for n in cluster.nodes] + [n.api_port for n in cluster.nodes]
    ports += [cluster.etcd_port, cluster.etcd_peer_port, app_port]
    taken = []
    for port in ports:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                taken.append(port)
    if taken:
        raise Refused(
            f"ports in use on 127.0.0.1: {', '.join(map(str, taken))}; is a cluster of another "
            "run up? choose another --base-port"
        )


def free_bytes(path: Path) -> int:
    """Free space on the file system that holds `path` (or would: its nearest existing parent)."""
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free


def check_disk(root: Path, scale: float, nodes: int) -> None:
    need = (
        nodes * (DISK_PER_NODE_GIB * scale + DISK_WAL_PER_NODE_GIB)
        + DISK_ARCHIVE_GIB * scale
        + DISK_MARGIN_GIB
    ) * GIB
    free = free_bytes(root)
    if free < need:
        raise Refused(
            f"scale {scale:g} refused: {free / GIB:.1f} GiB free under {root}, an estimated "
            f"{need / GIB:.1f} GiB needed ({nodes} nodes of {DISK_PER_NODE_GIB:g} GiB per scale "
            f"unit plus {DISK_WAL_PER_NODE_GIB:g} GiB of WAL each, a WAL archive of "
            f"{DISK_ARCHIVE_GIB:g} GiB per unit, {DISK_MARGIN_GIB:g} GiB to spare); free some "
            "or use --root elsewhere"
        )


def du(path: Path) -> int | None:
    """Bytes under `path` (du -sb; files that vanish meanwhile, WAL recycled, are ignored)."""
    if not path.exists():
        return None
    done = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True)
    try:
        return int(done.stdout.split()[0])
    except (IndexError, ValueError):
        return None


def roles(cluster: Cluster) -> dict[str, str]:
    """node name -> leader, sync standby or async standby, as Patroni lists them."""
    named = {"leader": "leader", "sync_standby": "sync standby", "replica": "async standby"}
    return {m["name"]: named.get(m.get("role", ""), m.get("role", "")) for m in cluster.members()}


def start_cluster(cluster: Cluster) -> None:
    cluster.down(wipe=True)  # a leftover of an earlier run
    say(f"starting the cluster under {cluster.root} (ports {cluster.base_port}...)")
    started = time.monotonic()
    cluster.up(timeout=180)  # also creates the database chaindb on the leader
    say(f"cluster healthy in {time.monotonic() - started:.0f} s: {roles(cluster)}")
    env = {**os.environ, "DATABASE_URL": cluster.url()}
    for step in (["db", "upgrade"], ["seed", "reference"]):
        done = subprocess.run([CHAINDB, *step], env=env, capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise RuntimeError(f"chaindb {' '.join(step)} failed:\n{done.stdout}{done.stderr}")


# --- replication lag while loading -------------------------------------------------------------

LAG_QUERY = (
    "SELECT application_name, sync_state, "
    "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint, "
    "coalesce(extract(epoch FROM replay_lag), 0)::float8, "
    "coalesce(extract(epoch FROM flush_lag), 0)::float8 "
    "FROM pg_stat_replication"
)


class LagSampler(threading.Thread):
    """Every second, the leader's view of each standby: (name, sync or async, bytes, replay
    seconds, flush seconds). Reconnects (through the read-write URL) after an error."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.samples: list[tuple[str, str, int | None, float, float]] = []
        self.rounds = 0
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        conn: psycopg.Connection | None = None
        while True:
            try:
                if conn is None:
                    conn = psycopg.connect(self.url, autocommit=True, connect_timeout=3)
                rows = conn.execute(LAG_QUERY).fetchall()
                self.rounds += 1
                for name, state, lag_bytes, replay_s, flush_s in rows:
                    role = "sync" if state == "sync" else "async"
                    self.samples.append((name, role, lag_bytes, replay_s, flush_s))
            except psycopg.Error as error:
                self.errors.append(str(error).strip().splitlines()[0])
                if conn is not None:
                    conn.close()
                conn = None
            if self.stop.wait(SAMPLE_EVERY_S):
                break
        if conn is not None:
            conn.close()

    def figures(self, out: Figures) -> None:
        for role in ("sync", "async"):
            mine = [s for s in self.samples if s[1] == role]
            names = sorted({s[0] for s in mine})
            for i, what, unit, fmt in (
                (2, "replay lag", "MiB", ".2f"),
                (3, "replay_lag", "s", ".2f"),
                (4, "flush_lag", "s", ".2f"),
            ):
                values = [float(s[i]) for s in mine if s[i] is not None]
                if unit == "MiB":
                    values = [v / MIB for v in values]
                top = max(values) if values else None
                p95 = report_views.nearest_rank(values, 0.95) if values else None
                out.add(f"{role} standby {what}, {unit}: max", top, fmt, FLAT)
                out.add(f"{role} standby {what}, {unit}: p95", p95, fmt, FLAT)
            out.notes.append(
                f"{role} standby during the load: {', '.join(names) or 'none seen'} "
                f"({len(mine)} samples"
                + (
                    "; p95 is the nearest rank, so the max below 20 samples)"
                    if len(mine) < 20
                    else ")"
                )
            )
        if self.errors:
            out.notes.append(
                f"lag sampling: {len(self.errors)} failed samples, first: {self.errors[0]}"
            )


def wait_caught_up(url: str, standbys: int, timeout: float = 1800) -> float | None:
    """Seconds until `standbys` standbys replayed up to the leader's LSN of now; None on time-out."""
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        while time.monotonic() - started < timeout:
            done = conn.execute(
                "SELECT count(*) FROM pg_stat_replication WHERE replay_lsn >= %s::pg_lsn",
                (str(target),),
            ).fetchone()[0]
            if done >= standbys:
                return time.monotonic() - started
            time.sleep(0.2)
    return None


def archiver(conn: psycopg.Connection) -> tuple[int, int, str | None]:
    row = conn.execute(
        "SELECT archived_count, failed_count, last_failed_wal FROM pg_stat_archiver"
    ).fetchone()
    return int(row[0]), int(row[1]), row[2]


# --- one scale ---------------------------------------------------------------------------------


def one_scale(scale: float, args: argparse.Namespace, out: Figures) -> None:
    """Measure one scale into `out` (what was measured stays there if a step fails)."""
    cluster = Cluster(args.root, base_port=args.base_port)
    app_port = args.base_port + 3000
    cluster.down(wipe=True)
    check_ports(cluster, app_port)
    check_disk(args.root, scale, len(cluster.nodes))
    began = time.monotonic()
    keep = args.keep and scale == args.scales[-1]
    try:
        start_cluster(cluster)
        measure_load(cluster, scale, out)
        measure_disk(cluster, out)
        measure_reports(cluster, out)
        if not args.skip_api:
            measure_api(cluster, out, args, app_port)
    finally:
        if keep:
            say(f"--keep: the cluster stays up under {cluster.root}: {cluster.url()}")
        else:
            say("stopping the cluster (wipe)")
            cluster.down(wipe=True)
    out.add("whole scale (cluster up to down), min", (time.monotonic() - began) / 60, ".1f")


def measure_load(cluster: Cluster, scale: float, out: Figures) -> None:
    leader_url = cluster.url("postgres")
    standbys = len(cluster.nodes) - 1
    with psycopg.connect(leader_url, autocommit=True) as conn:
        start_lsn = str(conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0])
        archived_before, failed_before, _ = archiver(conn)
    sampler = LagSampler(leader_url)
    sampler.start()
    say(f"scale {scale:g}: chaindb seed synthetic (sampling the lag every second)")
    try:
        child = load.measure(
            [CHAINDB, "seed", "synthetic", "--scale", f"{scale:g}", "--quiet"],
            {**os.environ, "DATABASE_URL": cluster.url()},
        )
    finally:
        sampler.stop.set()
        sampler.join(30)
    if child["returncode"] != 0:
        raise RuntimeError(f"chaindb seed synthetic failed:\n{child['stdout']}{child['stderr']}")
    caught_up = wait_caught_up(leader_url, standbys)
    with psycopg.connect(leader_url, autocommit=True) as conn:
        wal = conn.execute(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", (start_lsn,)
        ).fetchone()[0]
        archived_after, failed_after, last_failed = archiver(conn)
    with psycopg.connect(libpq(normalize_database_url(cluster.url())), autocommit=True) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM enterprise), (SELECT count(*) FROM supply_link), "
            "(SELECT count(*) FROM project)"
        ).fetchone()
    load_s = load._seconds(load.LOAD_LINE, child["stdout"])
    say(
        f"scale {scale:g}: loaded in {child['wall_s']:.1f} s (load {load_s:.1f} s), WAL "
        f"{float(wal) / MIB:,.0f} MiB, standbys caught up "
        f"{'(not in time)' if caught_up is None else f'{caught_up:.1f} s'} after"
    )
    out.add("enterprises", counts[0], ",.0f")
    out.add("supply links", counts[1], ",.0f")
    out.add("projects", counts[2], ",.0f")
    out.add("seed synthetic: wall, s", child["wall_s"])
    out.add("seed synthetic: load (its own figure), s", load_s)
    out.add(
        "seed synthetic: report refresh (its own figure), s",
        load._seconds(load.REFRESH_LINE, child["stdout"]),
    )
    out.add("seed synthetic: peak RSS of the child, MiB", child["peak_rss_mib"], ".0f")
    out.add("WAL generated by the load, MiB", float(wal) / MIB, ",.0f")
    out.add("WAL rate during the load, MiB/s", float(wal) / MIB / child["wall_s"], ".1f", FLAT)
    sampler.figures(out)
    out.add("standbys caught up after the load ended, s", caught_up, ".1f", FLAT)
    out.add("WAL segments archived during the load", archived_after - archived_before, ",.0f")
    out.add("archive failures during the load", failed_after - failed_before, ",.0f", NONE)
    leader = cluster.leader()
    if leader is not None:
        ready = len(list((leader.data_dir / "pg_wal" / "archive_status").glob("*.ready")))
        out.add("WAL segments not yet archived after the load", ready, ",.0f", NONE)
    if failed_after > failed_before:
        out.notes.append(f"archiving failed during the load; last failed segment {last_failed}")


def measure_disk(cluster: Cluster, out: Figures) -> None:
    """Sizes after the load, then VACUUM (ANALYZE)."""
    url = libpq(normalize_database_url(cluster.url()))
    with psycopg.connect(url, autocommit=True) as conn:
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        largest = conn.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'm') "
            "ORDER BY 2 DESC LIMIT %s",
            (LARGEST_TABLES,),
        ).fetchall()
    out.add("database chaindb (pg_database_size), MiB", size / MIB, ",.0f")
    for name, table_bytes in largest:
        out.add(f"table {name} (with indexes, TOAST), MiB", table_bytes / MIB, ",.0f")
    by_role = {role: cluster.node(name) for name, role in roles(cluster).items()}
    for role in ("leader", "sync standby", "async standby"):
        node = by_role.get(role)
        found = du(node.data_dir) if node else None
        out.add(f"data directory, {role}, MiB", None if found is None else found / MIB, ",.0f")
        if role == "leader" and node is not None:
            wal = du(node.data_dir / "pg_wal")
            out.add("of which pg_wal (leader), MiB", None if wal is None else wal / MIB, ",.0f")
    out.notes.append(
        "nodes: " + ", ".join(f"{role} {node.name}" for role, node in sorted(by_role.items()))
    )
    repo = du(cluster.root / "backup")
    out.add(
        "pgBackRest repository (WAL archive), MiB", None if repo is None else repo / MIB, ",.0f"
    )
    whole = du(cluster.root)
    out.add("whole cluster directory, GiB", None if whole is None else whole / GIB, ".2f")
    out.add("disk free after the load, GiB", free_bytes(cluster.root) / GIB, ".1f", NONE)
    say("VACUUM (ANALYZE)")
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        out.add("VACUUM (ANALYZE) after the load, s", time.perf_counter() - started)


def measure_reports(cluster: Cluster, out: Figures) -> None:
    """`chaindb db refresh-reports`, then each view's typical query on a standby."""
    say("chaindb db refresh-reports")
    started = time.perf_counter()
    done = subprocess.run(
        [CHAINDB, "db", "refresh-reports"],
        env={**os.environ, "DATABASE_URL": cluster.url()},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"chaindb db refresh-reports failed:\n{done.stdout}{done.stderr}")
    out.add("refresh-reports: wall, s", wall)
    for view, seconds in REFRESH_LINE.findall(done.stdout):
        out.add(f"refresh {view}, s", float(seconds), ".2f")
    replayed = wait_caught_up(cluster.url("postgres"), len(cluster.nodes) - 1)
    out.add("standbys replayed the refresh after, s", replayed, ".2f", FLAT)

    replica = libpq(normalize_database_url(cluster.url(attrs="prefer-standby")))
    with psycopg.connect(replica, autocommit=True) as conn:
        conn.prepare_threshold = None
        conn.execute("SET statement_timeout = '120s'")
        standby, port = conn.execute("SELECT pg_is_in_recovery(), inet_server_port()").fetchone()
        node = next((n.name for n in cluster.nodes if n.pg_port == port), str(port))
        out.notes.append(
            f"report reads on {node} ({'a standby' if standby else 'THE LEADER: no standby'}); "
            + "refresh-reports printed: "
            + "; ".join(line for line in done.stdout.splitlines() if line.strip())
        )
        params = report_views.fixture(conn)
        read_rows = []
        for view in report_views.VIEWS:
            query = report_views.FILTERED.get(view, [f"SELECT * FROM {view}"])[0]
            # The same label at every scale: the fixture's values (which differ) left out.
            label = report_views.PLACEHOLDER.sub(
                lambda m: f":{m.group(1)}", query.removeprefix("SELECT * FROM ")
            )
            if report_views.relation_kind(conn, view) == "missing":
                out.notes.append(f"{view}: not in the database")
                continue
            times, rows = [], 0
            try:
                for run in range(READ_RUNS + 1):  # the first one warms up
                    t0 = time.perf_counter()
                    rows = len(conn.execute(query, params).fetchall())
                    if run:
                        times.append((time.perf_counter() - t0) * 1000)
            except psycopg.Error as error:
                out.notes.append(f"{label}: {str(error).strip().splitlines()[0]}")
            read_rows.append(f"{view} {rows:,}")
            out.add(
                f"standby read `{_short(label)}`, median ms",
                statistics.median(times) if times else None,
                ".1f",
                FLAT,
            )
        out.notes.append(
            f"report fixture: chain {params['chain']}, chain master {params['master']}, "
            f"district {params['district']}, year {params['year']}; rows read: "
            + ", ".join(read_rows)
        )


def _short(label: str, width: int = 70) -> str:
    label = label.replace("|", "\\|")
    return label if len(label) <= width else label[: width - 1] + "…"


# --- the API -----------------------------------------------------------------------------------


def measure_api(cluster: Cluster, out: Figures, args: argparse.Namespace, port: int) -> None:
    url = normalize_database_url(cluster.url())
    replica = normalize_database_url(cluster.url(attrs="prefer-standby"))
    fixture = peers.fixture_ids(url)
    token = api_load.make_token(url)
    with psycopg.connect(libpq(url)) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM project ORDER BY id LIMIT 10000")]
    api_load.wait_quiet(url)  # and VACUUM (ANALYZE) project
    env = {
        **api_load.server_env(url),
        "DATABASE_REPLICA_URL": replica,
        "CHAINDB_REPORTS_LISTEN": "0",
    }
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="chaindb-scale-") as tmp:
        if len(ids) == 10000 and ids[-1] - ids[0] == 9999:
            read = (WRK / "read_project.lua", {"FIRST_ID": str(ids[0])})
        else:  # fewer than 10,000 consecutive ids: read those there are
            (Path(tmp) / "ids.txt").write_text("\n".join(map(str, ids)) + "\n")
            (Path(tmp) / "read_ids.lua").write_text(READ_IDS_LUA)
            read = (Path(tmp) / "read_ids.lua", {"IDS_FILE": str(Path(tmp) / "ids.txt")})
        scenarios = {
            "read one project": (read[0], {**read[1], "PREFIX": "/api/v1/projects"}),
            "list 50 projects of a chain": (
                WRK / "list_projects.lua",
                {"PREFIX": "/api/v1/projects", "CHAIN_ID": str(fixture["chain"])},
            ),
            "one report API call": (
                WRK / "list_projects.lua",  # GET PREFIX?chain_id=CHAIN_ID&limit=50
                {"PREFIX": f"/api/v1/reports/{REPORT_CALL}", "CHAIN_ID": str(fixture["chain"])},
            ),
        }
        log = Path(tmp) / "server.log"
        say(f"starting chaindb run on {base}")
        with log.open("wb") as server_out:
            server = subprocess.Popen(
                [CHAINDB, "run", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=ROOT,
                stdout=server_out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            try:
                api_load.wait_until_up(f"{base}/healthz", timeout=90)
            except OSError:
                raise RuntimeError(f"chaindb run did not answer:\n{_tail(log)}") from None
            first = {
                "read one project": f"/api/v1/projects/{ids[0]}",
                "list 50 projects of a chain": f"/api/v1/projects?chain_id={fixture['chain']}"
                "&limit=50",
                "one report API call": f"/api/v1/reports/{REPORT_CALL}?chain_id="
                f"{fixture['chain']}&limit=50",
            }
            for call in CALLS:
                check_call(base + first[call], token, log)
                script, script_env = scenarios[call]
                script_env = {**script_env, "TOKEN": token}
                if args.warmup:
                    peers.run_wrk(
                        base, script, script_env, args.connections, args.threads, args.warmup
                    )
                result = peers.run_wrk(
                    base, script, script_env, args.connections, args.threads, args.duration
                )
                say(
                    f"  {call:<28} {result['rps']:>8,.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
                    f"p99 {result['p99_ms']:.1f} ms, errors {result['errors']}"
                )
                out.add(f"API {call}: req/s", result["rps"], ",.0f", FLAT)
                out.add(f"API {call}: p50 ms", result["p50_ms"], ".1f", FLAT)
                out.add(f"API {call}: p99 ms", result["p99_ms"], ".1f", FLAT)
                out.add(f"API {call}: errors", result["errors"], ",.0f", NONE)
        finally:
            stop_server(server)
    out.notes.append(
        f"API: chaindb run (granian) in production mode, wrk -t{args.threads} "
        f"-c{args.connections}, {args.warmup} s warm-up then {args.duration} s per call; "
        f"reads of {len(ids):,} projects in turn; chain {fixture['chain']}"
    )


def check_call(url: str, token: str, log: Path) -> None:
    """One request answers 200 before wrk runs it many times."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            if response.status == 200:
                return
            status = response.status
    except urllib.error.HTTPError as error:
        status = f"{error.code}: {error.read()[:300]!r}"
    raise RuntimeError(f"GET {url} answered {status}\n{_tail(log)}")


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL to its process group (its own session: granian and its workers)."""
    if server.poll() is None:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)  # workers left behind, if any
    if server.poll() is None:
        server.wait(timeout=10)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- output ------------------------------------------------------------------------------------


def extrapolate(
    points: list[tuple[float, float | None]], kind: str, to: float
) -> tuple[float | None, float | None]:
    """(growth from the first point to the last, the figure at scale `to`)."""
    known = [(s, v) for s, v in points if v is not None]
    if kind == NONE or not known:
        return None, None
    if len(points) == 1:
        ((s, v),) = known
        return None, (v * to / s if kind == DATA else None)
    (a, fa), (b, fb) = points[0], points[-1]
    if fa is None or fb is None or fa <= 0 or fb <= 0:
        return None, None
    k = math.log(fb / fa) / math.log(b / a)
    return fb / fa, fb * (to / b) ** k


def markdown(results: list[Figures], args: argparse.Namespace, minutes: float) -> str:
    results = sorted(results, key=lambda r: r.scale)
    first, last = results[0].scale, results[-1].scale
    to = args.extrapolate_to
    growth_head = f"growth {first:g}→{last:g}" if len(results) > 1 else "growth"
    head = " | ".join(f"scale {r.scale:g}" for r in results)
    lines = [
        "## One Patroni cluster as the data grows (bench/cluster_scale.py)",
        "",
        machine_line(),
        "",
        f"Three Patroni nodes and etcd on 127.0.0.1 (chaindb.cluster), one synchronous standby, "
        f"WAL archived with pgBackRest; a fresh cluster per scale; {minutes:.0f} min in all. "
        "How each figure is measured: the module docstring.",
        "",
        f"| figure | {head} | {growth_head} | extrapolated to scale {to:g} |",
        "|---|" + "---:|" * (len(results) + 2),
    ]
    labels: list[str] = []
    for r in results:
        labels += [label for label in r.values if label not in labels]
    for label in labels:
        cells, points, kind, fmt = [], [], NONE, ".1f"
        for r in results:
            value, f, k = r.values.get(label, (None, ".1f", NONE))
            if label in r.values:
                fmt, kind = f, k
            cells.append("-" if value is None else format(value, fmt))
            points.append((r.scale, value))
        growth, far = extrapolate(points, kind, to)
        lines.append(
            f"| {label} | {' | '.join(cells)} | "
            f"{'-' if growth is None else f'{growth:.2f} ×'} | "
            f"{'-' if far is None else format(far, fmt)} |"
        )
    lines += [
        "",
        f"Extrapolated to scale {to:g}: "
        + (
            f"for each figure, a power law through scales {first:g} and {last:g}: "
            f"f({to:g}) = f({last:g}) × ({to:g}/{last:g})^k, k = log(f({last:g})/f({first:g})) / "
            f"log({last:g}/{first:g}); '-' where a figure is 0 or missing at either scale."
            if len(results) > 1
            else f"one scale only: the figures that grow with the data (sizes, times, WAL, rows, "
            f"memory) linearly in the data, f({to:g}) = f({first:g}) × {to:g}/{first:g}; rates, "
            "latencies and lags are not extrapolated from one point ('-')."
        )
        + " Error counts and free disk are not extrapolated.",
        "",
    ]
    for r in results:
        lines.append(f"Scale {r.scale:g}:")
        lines += [f"- {note}" for note in r.notes]
        lines.append("")
    return "\n".join(lines)


def machine_line() -> str:
    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    server = subprocess.run(
        ["pg_config", "--version"], capture_output=True, text=True
    ).stdout.strip()
    return (
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}, commit {commit or '?'}, "
        f"{os.cpu_count()} CPUs, {mem_kib / 1024 / 1024:.1f} GiB memory, {server}, "
        f"load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())} at the end."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,5", help="comma-separated (default 1,5)")
    parser.add_argument("--root", type=Path, default=Path("/tmp/chaindb-scale"))
    parser.add_argument("--base-port", type=int, default=5471)
    parser.add_argument("--keep", action="store_true", help="leave the last scale's cluster up")
    parser.add_argument("--output", type=Path, help="also write the markdown here")
    parser.add_argument("--skip-api", action="store_true", help="no chaindb run, no wrk")
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per call")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured seconds per call first")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--extrapolate-to", type=float, default=16.0)
    args = parser.parse_args()
    args.scales = [float(s) for s in args.scales.split(",") if s.strip()]
    args.root = args.root.resolve()
    if not args.scales or any(not s > 0 for s in args.scales):
        sys.exit("--scales: positive numbers, e.g. 1,5")
    missing = missing_parts()
    if missing:
        sys.exit(missing)
    if not args.skip_api and shutil.which("wrk") is None:
        sys.exit("wrk is missing (apt-get install wrk), or pass --skip-api")
    # Refuse up front what the disk cannot hold (each scale's cluster is wiped before the next;
    # checked again before each, with what is free then).
    try:
        for scale in args.scales:
            check_disk(args.root, scale, 3)
    except Refused as error:
        sys.exit(str(error))

    started = time.monotonic()
    results: list[Figures] = []
    failed = None
    for scale in args.scales:
        say(f"== scale {scale:g}")
        out = Figures(scale)
        results.append(out)
        try:
            one_scale(scale, args, out)
        except Exception as error:  # the scales measured so far are printed all the same
            traceback.print_exc()
            failed = f"scale {scale:g} failed: {str(error).strip().splitlines()[0]}"
            out.notes.append(f"FAILED: {failed} (the figures before the failure are shown)")
            break
    text = markdown(results, args, (time.monotonic() - started) / 60)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
        say(f"wrote {args.output}")
    if failed:
        sys.exit(failed)


if __name__ == "__main__":
    main()
