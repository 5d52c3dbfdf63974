"""Runs a loader in one transaction: all of it lands, or none of it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine

from seeds.loader import Report

Loader = Callable[[Connection, Report], None]


def run(engine: Engine, loader: Loader, *, actor: str = "chaindb seed") -> Report:
    report = Report()
    with engine.begin() as conn:
        conn.exec_driver_sql("SELECT set_config('chaindb.actor', %s, true)", (actor,))
        loader(conn, report)
    return report
