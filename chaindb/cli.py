"""The `chaindb` command: run, db, seed, user, token, report.

It starts light: what a command needs (SQLAlchemy, Alembic, Flask, the report catalog) is
imported when that command runs, and the commands defined elsewhere (report, db grant-reader,
db refresh-reports) are loaded by name when invoked, so that `chaindb --help` and a mistyped
command answer at once (bench/run.py measures the floor).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from importlib import import_module
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from chaindb.config import Settings


class LazyGroup(click.Group):
    """A group some of whose commands live in other modules, imported only when invoked. Their
    one-line help is given here, so that listing them imports nothing."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.lazy = lazy or {}  # name -> ("module:factory", short help)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, _, attr = self.lazy[cmd_name][0].partition(":")
            found = getattr(import_module(module), attr)
            command = found if isinstance(found, click.Command) else found()
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy and name not in self.commands:
                rows.append((name, self.lazy[name][1]))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _settings() -> Settings:
    from chaindb.config import ConfigError, Settings

    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _url() -> str:
    from chaindb.database import resolve_url

    return resolve_url(_settings())


def _engine() -> Engine:
    from chaindb.db import make_engine

    return make_engine(_url())


def _report_engine() -> Engine:
    """The reports' database: the standby of DATABASE_REPLICA_URL when set, else the leader."""
    from chaindb.db import make_engine

    settings = _settings()
    return make_engine(settings.database_replica_url or _url())


def _report_command() -> click.Command:
    from chaindb.reports.cli import report_command

    return report_command(_report_engine)


@click.group(
    cls=LazyGroup,
    lazy={
        "report": (
            "chaindb.cli:_report_command",
            "Print a report as a table, or write it as CSV or XLSX.",
        ),
        "cluster": (
            "chaindb.cluster:cluster_command",
            "A three-node PostgreSQL cluster (Patroni, etcd) on this machine's...",
        ),
    },
    help="chaindb: industrial chains, chain masters, suppliers and projects.",
)
def main() -> None:
    pass


@main.command(
    help="Serve the web app with granian (HTTP keep-alive, requests parsed in Rust: a slow "
    "client holds no Python worker); --dev: Werkzeug's server in this process."
)
@click.option("--host", default=None, help="Address to bind [CHAINDB_HOST, 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [CHAINDB_PORT, 5000].")
@click.option(
    "--workers", type=int, default=None, help="Worker processes [CHAINDB_WORKERS, the CPU count]."
)
@click.option("--threads", type=int, default=None, help="Threads per worker [CHAINDB_THREADS, 1].")
@click.option("--dev", is_flag=True, help="Werkzeug's development server, in this process.")
def run(
    host: str | None, port: int | None, workers: int | None, threads: int | None, dev: bool
) -> None:
    settings = _settings()
    host, port = host or settings.host, port or settings.port
    # SIGTERM ends the process like Ctrl+C does, so that exit handlers stop an embedded server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if dev:
        from chaindb import create_app, start_background

        app = create_app(settings=settings)
        start_background(app)
        click.echo(f"chaindb serving on http://{host}:{port}/ (Ctrl+C stops it)")
        app.run(host=host, port=port, debug=False, threaded=True, use_reloader=False)
        return
    from chaindb.config import ConfigError
    from chaindb.database import resolve_url
    from chaindb.serve import serve

    # The workers reach the database this process found (the embedded server it started, which
    # it stops when it ends): they are given its URL.
    os.environ["DATABASE_URL"] = resolve_url(settings)
    click.echo(f"chaindb serving on http://{host}:{port}/ (Ctrl+C stops it)")
    try:
        serve(host=host, port=port, workers=workers, threads=threads)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@main.group(
    cls=LazyGroup,
    lazy={
        "grant-reader": (
            "chaindb.reports.reader:grant_reader_command",
            "Create or refresh the read-only login role...",
        ),
        "refresh-reports": (
            "chaindb.reports.cli:refresh_command",
            "Refresh the materialized reporting views...",
        ),
        "backup": (
            "chaindb.backup:backup_command",
            "Back up the database (pg_dump, custom format) with its...",
        ),
        "restore": (
            "chaindb.backup:restore_command",
            "Restore a backup into an empty database (refuses a newer...",
        ),
    },
    help="Migrate the database schema (Alembic).",
)
def db() -> None:
    pass


def _alembic():
    from chaindb.migrations import alembic_config

    return alembic_config(_url())


@db.command(help="Migrate up to REVISION (default: head).")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    from alembic import command as alembic_command

    alembic_command.upgrade(_alembic(), revision)


@db.command(help="Migrate down to REVISION (e.g. -1, or base to remove the schema).")
@click.argument("revision")
def downgrade(revision: str) -> None:
    from alembic import command as alembic_command

    alembic_command.downgrade(_alembic(), revision)


@db.command(help="Show the revision the database is at.")
def current() -> None:
    from alembic import command as alembic_command

    alembic_command.current(_alembic(), verbose=False)


@main.group(help="Load seed data: reference, demo or synthetic (each idempotent).")
def seed() -> None:
    pass


def _run_loader(name: str, loader) -> None:
    from seeds.loader import SeedError
    from seeds.runner import run as run_loader

    engine = _engine()
    started = time.perf_counter()
    try:
        report = run_loader(engine, loader)
    except SeedError as exc:
        click.echo(f"seed {name}: nothing loaded: {exc}", err=True)
        sys.exit(1)
    finally:
        engine.dispose()
    for line in report.lines():
        click.echo(f"  {line}")
    click.echo(
        f"seed {name}: {report.changed()} rows changed in {time.perf_counter() - started:.1f} s"
    )


@seed.command(help="Confirmed facts: planning units, the 13 iconic chains, city figures.")
def reference() -> None:
    from seeds import reference as loader

    _run_loader("reference", loader.load)


@seed.command(help="Anchor enterprises, roles, named projects, the automotive map, fictional SMEs.")
def demo() -> None:
    from seeds import demo as loader

    _run_loader("demo", loader.load)


@seed.command(help="Large generated data for benchmarks (needs the reference seed).")
@click.option(
    "--scale",
    type=float,
    default=1.0,
    show_default=True,
    help="1 = 100,000 enterprises, 1,000,000 supply links, 50,000 projects.",
)
@click.option("--replace", is_flag=True, help="Replace synthetic data of another scale.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def synthetic(scale: float, replace: bool, quiet: bool) -> None:
    from chaindb.reports.refresh import refresh_reports
    from seeds import synthetic as loader

    if scale <= 0:
        raise click.BadParameter("must be positive", param_hint="--scale")
    engine = _engine()
    started = time.perf_counter()
    try:
        summary = loader.load(engine, scale=scale, replace=replace, progress=not quiet)
        click.echo(f"seed synthetic: {summary} in {time.perf_counter() - started:.1f} s")
        # The materialized reports follow the data, as after the other seeds.
        started = time.perf_counter()
        with engine.begin() as connection:
            refresh_reports(connection)
        click.echo(f"reports refreshed in {time.perf_counter() - started:.1f} s")
    except loader.SyntheticError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()


def _session():
    from sqlalchemy.orm import Session

    return Session(_engine(), expire_on_commit=False)


@main.group(help="Manage users (admin, reviewer, editor, viewer), each in a unit.")
def user() -> None:
    pass


@user.command("create", help="Create a user; asks for the password unless --password is given.")
@click.option("--username", required=True)
@click.option("--role", type=click.Choice(["admin", "reviewer", "editor", "viewer"]), required=True)
@click.option(
    "--unit",
    default="city",
    show_default=True,
    help="The user's office, by code: city (the city bureau), chain-<chain code>, "
    "district-<planning unit code>.",
)
@click.option("--password", default=None, help="At least 10 characters (prompted when left out).")
@click.option("--display-name", default=None)
def user_create(
    username: str, role: str, unit: str, password: str | None, display_name: str | None
) -> None:
    from chaindb.auth.service import create_user
    from chaindb.errors import DomainError

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _session() as session:
        try:
            created = create_user(
                session=session,
                username=username,
                role=role,
                password=password,
                display_name=display_name,
                unit=unit,
            )
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        session.commit()
        click.echo(
            f"user {created.username} ({created.role}) created with id {created.id} in {unit}"
        )


# The demo admin the README names; for demonstration databases only (never in production).
DEMO_ADMIN = ("admin", "chaindb-demo")


@user.command("demo", help="Create the demo admin (admin / chaindb-demo) unless it exists.")
def user_demo() -> None:
    from sqlalchemy import func, select

    from chaindb.auth.models import User
    from chaindb.auth.service import create_user

    settings = _settings()
    if settings.env == "production":
        raise click.ClickException("the demo admin has a published password: not in production")
    username, password = DEMO_ADMIN
    with _session() as session:
        exists = session.scalar(select(User.id).where(func.lower(User.username) == username))
        if exists is None:
            create_user(
                session=session,
                username=username,
                role="admin",
                password=password,
                display_name="Demo admin",
            )
            session.commit()
            click.echo(f"demo admin created: sign in as {username} / {password}")
        else:
            click.echo(f"demo admin: sign in as {username} (password {password} unless changed)")


@main.group(help="Manage API tokens.")
def token() -> None:
    pass


@token.command("create", help="Create an API token for a user; it is printed once, never stored.")
@click.option("--user", "username", required=True)
@click.option("--name", default=None, help="What the token is for.")
@click.option(
    "--expires-in-days", type=int, default=None, help="Days until it expires (default: never)."
)
def token_create(username: str, name: str | None, expires_in_days: int | None) -> None:
    from chaindb.auth.service import create_token, find_user
    from chaindb.errors import DomainError

    with _session() as session:
        try:
            owner = find_user(session=session, username=username)
            created, plain = create_token(
                session=session, user=owner, name=name, expires_in_days=expires_in_days
            )
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        session.commit()
        expiry = f", expires {created.expires_at:%Y-%m-%d %H:%M} UTC" if created.expires_at else ""
        click.echo(f"token {created.id} for {owner.username}{expiry}:", err=True)
        click.echo(plain)
