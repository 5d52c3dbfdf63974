"""`chaindb report NAME`: a report's rows as an aligned table, CSV or XLSX; `chaindb db
refresh-reports`: refresh the materialized views, once or (--listen) as writes commit.

The same declarations and queries as the report pages (chaindb.reports.catalog): the command
prints what the page shows, without the 500-row limit.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from chaindb.api import sheets
from chaindb.reports import MATERIALIZED, catalog
from chaindb.reports.catalog import Col, Report
from chaindb.reports.listener import Refresher
from chaindb.reports.reader import engine_from_env as _engine  # tests replace it
from chaindb.reports.refresh import refresh_order, refresh_reports


def display_width(text: str) -> int:
    """Columns the text takes in a terminal: CJK characters take two, combining marks none."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - display_width(text))
    return space + text if right else text + space


def terminal_text(col: Col, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if col.format == "percent":
        return f"{Decimal(str(value)) * 100:,.1f}%"
    if col.format in catalog.AMOUNT_FORMATS and col.scale:
        # A sum kept in 万元 read in 亿元: four places keep every 万元.
        return f"{Decimal(str(catalog.scaled(col, value))):,.4f}"
    if col.format in catalog.AMOUNT_FORMATS:
        return f"{Decimal(str(value)):,.2f}"
    if col.format == "number" and isinstance(value, (int, Decimal)):
        return (
            f"{value:,}" if isinstance(value, int) or value == value.to_integral() else str(value)
        )
    if col.format == "month" and isinstance(value, date):
        return f"{value:%Y-%m}"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return " → ".join(str(v) for v in value)
    return str(value)


def _all_numbers(values: Iterable[Any]) -> bool:
    """Ids, tiers and years: columns of whole numbers align right like the figures."""
    found = [v for v in values if v is not None]
    return bool(found) and all(
        isinstance(v, (int, Decimal)) and not isinstance(v, bool) for v in found
    )


def text_table(report: Report, rows: Sequence[Sequence[Any]]) -> list[str]:
    """The rows as lines of an aligned table: the view's column names as the header."""
    header = report.names
    cells = [[terminal_text(col, v) for col, v in zip(report.columns, row, strict=True)]
             for row in rows]  # fmt: skip
    widths = [
        max([display_width(name), *(display_width(r[i]) for r in cells)])
        for i, name in enumerate(header)
    ]
    right = [
        c.format in catalog.NUMERIC_FORMATS or _all_numbers(row[i] for row in rows)
        for i, c in enumerate(report.columns)
    ]
    lines = [
        "  ".join(_pad(n, w, r) for n, w, r in zip(header, widths, right, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    for row in cells:
        lines.append(
            "  ".join(_pad(t, w, r) for t, w, r in zip(row, widths, right, strict=True)).rstrip()
        )
    lines.append(f"({len(rows)} row{'' if len(rows) == 1 else 's'})")
    return lines


def _names_help() -> str:
    lines = ["\b", "Reports (NAME), each reading one reporting view:"]
    for report in catalog.REPORTS.values():
        lines.append(f"  {report.name:<24} {report.view}: {report.title}")
    return "\n".join(lines)


def _filter_values(
    session: Session,
    report: Report,
    chain: str | None,
    district: str | None,
    year: int | None,
    extra: Sequence[str],
) -> dict[str, Any]:
    """The options as the catalog's filter values; a filter the report lacks is refused."""
    given: dict[str, Any] = {}
    for option, name, kind, code in (
        ("--chain", "chain_id", "chain", chain),
        ("--district", "district_id", "district", district),
    ):
        if code is None:
            continue
        if report.filter(name) is None:
            raise click.UsageError(f"{report.name} has no {option} filter")
        found = catalog.resolve_code(session, kind, code)
        if found is None:
            raise click.BadParameter(f"no {kind} has the code {code!r}", param_hint=option)
        given[name] = found
    if year is not None:
        if report.filter("year") is None:
            raise click.UsageError(f"{report.name} has no --year filter")
        given["year"] = year
    for item in extra:
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip()
        f = report.filter(name)
        if not sep or f is None or f.kind in ("chain", "district", "year"):
            others = [f.name for f in report.filters if f.kind not in ("chain", "district", "year")]
            raise click.BadParameter(
                f"{item!r}: {report.name} takes {', '.join(others) or 'no other filters'}",
                param_hint="--filter",
            )
        if f.kind == "choice":
            assert f.choices is not None
            if text not in f.choices:
                raise click.BadParameter(
                    f"{name} is one of {', '.join(f.choices)}", param_hint="--filter"
                )
            given[name] = text
        else:
            try:
                given[name] = int(text)
            except ValueError:
                raise click.BadParameter(
                    f"{name} must be a whole number", param_hint="--filter"
                ) from None
            if f.kind == "tier" and not 1 <= given[name] <= catalog.MAX_TIERS:
                raise click.BadParameter(
                    f"{name} is between 1 and {catalog.MAX_TIERS}", param_hint="--filter"
                )
    return given


def report_command(engine: Callable[[], Engine | Connection]) -> click.Command:
    """The `report` command, reading through the engine (or connection) `engine()` returns."""

    @click.command(
        "report",
        help="Print a report as a table, or write it as CSV or XLSX (the rows of its page, "
        "all of them).",
        epilog=_names_help(),
        # `report_chain_overview` and `chain_overview` name the report chain-overview too.
        context_settings={"token_normalize_func": _normalize},
    )
    @click.argument("name", type=click.Choice(list(catalog.REPORTS)), metavar="NAME")
    @click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "csv", "xlsx"]),
        default="table",
        show_default=True,
    )
    @click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        help="File to write (required for xlsx; csv goes to standard output without it).",
    )
    @click.option("--chain", metavar="CODE", help="Only this chain (its code, e.g. automotive).")
    @click.option("--district", metavar="CODE", help="Only this planning unit (e.g. 370102).")
    @click.option("--year", type=int, help="Only this year.")
    @click.option(
        "--filter",
        "extra",
        multiple=True,
        metavar="NAME=VALUE",
        help="A further filter of the report: chain_master_id=ID, max_tier=N (supplier-tiers), "
        "scope=city|chain|district, stage=STAGE (project-pipeline).",
    )
    def report(
        name: str,
        fmt: str,
        output: Path | None,
        chain: str | None,
        district: str | None,
        year: int | None,
        extra: tuple[str, ...],
    ) -> None:
        chosen = catalog.REPORTS[name]
        if fmt == "xlsx" and output is None:
            raise click.UsageError("--format xlsx needs --output FILE.xlsx")
        bind = engine()
        try:
            with Session(bind=bind, join_transaction_mode="create_savepoint") as session:
                values = _filter_values(session, chosen, chain, district, year, extra)
                rows = catalog.stream(session, chosen, values)
                if fmt == "table":
                    lines = text_table(chosen, list(rows))
                    if output is None:
                        for line in lines:
                            click.echo(line)
                    else:
                        output.write_text("\n".join(lines) + "\n", encoding="utf-8")
                elif fmt == "csv":
                    # A file gets the BOM spreadsheet programs need; a pipe gets plain UTF-8.
                    chunks = sheets.csv_chunks(
                        chosen.names, catalog.raw_rows(rows), bom=output is not None
                    )
                    if output is None:
                        for chunk in chunks:
                            click.echo(chunk, nl=False)
                    else:
                        with output.open("w", encoding="utf-8", newline="") as out:
                            out.writelines(chunks)
                else:
                    assert output is not None
                    sheets.write_xlsx(
                        str(output), chosen.names, catalog.raw_rows(rows), name=chosen.view
                    )
        finally:
            if isinstance(bind, Engine):
                bind.dispose()
        if output is not None:
            click.echo(f"report {chosen.name}: written to {output}", err=True)

    return report


def _normalize(token: str) -> str:
    report = catalog.find(token)
    return report.name if report is not None else token


# --- chaindb db refresh-reports -------------------------------------------------------------------


def _listen(engine: Engine) -> None:
    import signal
    import sys

    def refreshed(views: list[str], took: dict[str, float]) -> None:
        figures = ", ".join(f"{view} {seconds:.2f} s" for view, seconds in took.items())
        click.echo(f"refreshed {figures}")

    refresher = Refresher(engine, on_refresh=refreshed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo("refresh-reports: waiting for writes (Ctrl+C stops)")
    try:
        refresher.run()
    except KeyboardInterrupt:
        pass
    finally:
        refresher.stop()
        engine.dispose()


@click.command(
    "refresh-reports",
    help="Refresh the materialized reporting views (report_chain_overview, "
    "report_chain_master_suppliers, report_chain_gaps, report_gap_candidates, "
    "report_supplier_tiers, report_district_chain_matrix, report_project_pipeline, "
    "report_project_rates, report_designations) concurrently: "
    "readers keep the previous figures until each is done. "
    "Run it as the user that runs the migrations.",
)
@click.option(
    "--view",
    "views",
    multiple=True,
    type=click.Choice(MATERIALIZED),
    help="Only this view (repeatable), and the materialized views it reads "
    "(report_gap_candidates: report_chain_gaps first); all of them when left out.",
)
@click.option(
    "--listen",
    is_flag=True,
    help="Then stay, refreshing the views a write makes stale as it commits (LISTEN "
    "chaindb_reports), until stopped; one such refresher works at a time, others wait.",
)
def refresh_command(views: tuple[str, ...], listen: bool) -> None:
    engine = _engine()
    if listen:
        _listen(engine)
        return
    try:
        # A transaction per view: its lock ends with it, and a failure keeps the views before.
        for view in refresh_order(views or None):
            with engine.begin() as connection:
                took = refresh_reports(connection, views=[view], reads=False)
            click.echo(f"{view} refreshed in {took[view]:.2f} s")
    except (DBAPIError, LookupError) as exc:
        message = str(getattr(exc, "orig", None) or exc).strip()
        raise click.ClickException(f"refresh-reports: {message}") from None
    finally:
        engine.dispose()
