"""Runs a loader in one transaction: all of it lands, or none of it.

A run that changed rows also refreshes the materialized reporting views, in the same
transaction: the report pages never show figures older than the data the seed just loaded, and a
failed refresh loads nothing (run it again once the cause is fixed).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine

from chaindb.reports.refresh import refresh_reports
from seeds.loader import Report

Loader = Callable[[Connection, Report], None]


def run(engine: Engine, loader: Loader, *, actor: str = "chaindb seed") -> Report:
    report = Report()
    with engine.begin() as conn:
        conn.exec_driver_sql("SELECT set_config('chaindb.actor', %s, true)", (actor,))
        loader(conn, report)
        if report.changed():
            refresh_reports(conn)
    return report
