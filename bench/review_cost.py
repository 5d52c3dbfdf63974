"""What the review costs a project write: the triggers project_review_guard (every write of the
application) and project_take_approved (each approval: the project and its milestones copied),
and the reviews' INSERT (submit, approve). Each figure is per project, over the same projects,
with the triggers and with them disabled, inside one transaction that is rolled back (nothing
stays).

    .venv/bin/python bench/review_cost.py [--database chaindb_bench] [--projects 2000]

The database needs projects (the demo seed, or bench/load.py's synthetic data) and the schema at
head; the writes act as the application does (SET ROLE chaindb_app, the city bureau's unit).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TRIGGERS = ("project_review_guard", "project_take_approved")


def _act(cur: psycopg.Cursor) -> None:
    cur.execute(
        "SELECT set_config('role', 'chaindb_app', true), "
        "set_config('chaindb.unit_id', (SELECT id FROM unit WHERE kind = 'city')::text, true), "
        "set_config('chaindb.actor', 'bench', true)"
    )


def _owner(cur: psycopg.Cursor) -> None:
    cur.execute("SELECT set_config('role', 'none', true)")


def _timed(cur: psycopg.Cursor, statement: str, ids: list[int]) -> float:
    """Milliseconds per project of `statement` run once per id (one round trip each)."""
    started = time.perf_counter()
    for project_id in ids:
        cur.execute(statement, {"id": project_id})
    return (time.perf_counter() - started) * 1000 / len(ids)


def measure(url: str, n: int, triggers: bool) -> dict[str, float]:
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        if not triggers:
            for trigger in TRIGGERS:
                cur.execute(f"ALTER TABLE project DISABLE TRIGGER {trigger}")
        cur.execute(
            "SELECT id FROM project WHERE review_status = 'approved' ORDER BY id LIMIT %(n)s",
            {"n": n},
        )
        ids = [row[0] for row in cur.fetchall()]
        if len(ids) < n:
            raise SystemExit(f"only {len(ids)} approved projects: load data first")
        _act(cur)
        figures = {
            # An approved project changed: it becomes a draft (the guard compares the rows).
            "update an approved project": _timed(
                cur, "UPDATE project SET notes = 'bench' WHERE id = %(id)s", ids
            ),
            # A draft changed again: the guard only compares.
            "update a draft": _timed(
                cur, "UPDATE project SET notes = 'bench again' WHERE id = %(id)s", ids
            ),
        }
        if triggers:
            figures["submit (INSERT INTO project_review)"] = _timed(
                cur,
                "INSERT INTO project_review (project_id, action) VALUES (%(id)s, 'submit')",
                ids,
            )
            figures["approve (review + copy into project_approved)"] = _timed(
                cur,
                "INSERT INTO project_review (project_id, action) VALUES (%(id)s, 'approve')",
                ids,
            )
        conn.rollback()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="database name on DATABASE_URL's server")
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/chaindb")
    if args.database:
        url = url.rsplit("/", 1)[0] + "/" + args.database
    runs: dict[str, dict[str, list[float]]] = {"with": {}, "without": {}}
    for _ in range(args.rounds):
        for label, on in (("with", True), ("without", False)):
            for name, ms in measure(url, args.projects, on).items():
                runs[label].setdefault(name, []).append(ms)
    print(f"{args.projects} projects, median of {args.rounds} rounds, ms per project")
    print(f"{'write':<50} {'with':>8} {'without':>8}")
    for name, values in runs["with"].items():
        without = runs["without"].get(name)
        other = f"{statistics.median(without):8.3f}" if without else f"{'—':>8}"
        print(f"{name:<50} {statistics.median(values):8.3f} {other}")


if __name__ == "__main__":
    main()
