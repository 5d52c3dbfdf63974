"""The `chaindb` command: run, db, seed."""

from __future__ import annotations

import signal
import sys
import time

import click
from sqlalchemy import Engine

from alembic import command as alembic_command
from chaindb.config import ConfigError, Settings
from chaindb.database import resolve_url
from chaindb.db import make_engine


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _url() -> str:
    return resolve_url(_settings())


def _engine() -> Engine:
    return make_engine(_url())


@click.group(help="chaindb: industrial chains, chain masters, suppliers and projects.")
def main() -> None:
    pass


@main.command(help="Serve the web app (the development server; use gunicorn in production).")
@click.option("--host", default=None, help="Address to bind [CHAINDB_HOST, 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [CHAINDB_PORT, 5000].")
def run(host: str | None, port: int | None) -> None:
    from chaindb import create_app

    settings = _settings()
    app = create_app(settings=settings)
    host, port = host or settings.host, port or settings.port
    # SIGTERM ends the process like Ctrl+C does, so that exit handlers stop an embedded server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo(f"chaindb serving on http://{host}:{port}/ (Ctrl+C stops it)")
    app.run(host=host, port=port, debug=False, threaded=True, use_reloader=False)


@main.group(help="Migrate the database schema (Alembic).")
def db() -> None:
    pass


def _alembic():
    from chaindb.migrations import alembic_config

    return alembic_config(_url())


@db.command(help="Migrate up to REVISION (default: head).")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    alembic_command.upgrade(_alembic(), revision)


@db.command(help="Migrate down to REVISION (e.g. -1, or base to remove the schema).")
@click.argument("revision")
def downgrade(revision: str) -> None:
    alembic_command.downgrade(_alembic(), revision)


@db.command(help="Show the revision the database is at.")
def current() -> None:
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
    from seeds import synthetic as loader

    if scale <= 0:
        raise click.BadParameter("must be positive", param_hint="--scale")
    engine = _engine()
    started = time.perf_counter()
    try:
        summary = loader.load(engine, scale=scale, replace=replace, progress=not quiet)
    except loader.SyntheticError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    click.echo(f"seed synthetic: {summary} in {time.perf_counter() - started:.1f} s")
