"""What the promotion work's reads cost at scale: "my follow-ups" (the page's query), the count
beside Follow-ups in the navigation (on every page an editor opens), the progress page's view
(report_target_progress for a year) and the lead-conversion view, each timed as the application
runs them (SET ROLE chaindb_app, a district office's unit: row-level security applies).

    .venv/bin/python bench/promotion_reads.py [--database chaindb_bench] [--leads 20000]
        [--negotiations 3] [--repeat 20]

The database needs the schema at head, the reference seed (the offices) and projects (bench or
`chaindb seed synthetic --scale 1`). The leads, their negotiations and a year of targets for
every office are written inside one transaction that is rolled back: nothing stays. Prints the
median and the 95th percentile in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chaindb.access import Principal, Role, Scope, UnitKind  # noqa: E402
from chaindb.config import normalize_database_url  # noqa: E402
from chaindb.database import with_database  # noqa: E402
from chaindb.db import make_engine  # noqa: E402
from chaindb.promotion import service  # noqa: E402

FILL = """
WITH offices AS (
    SELECT id, row_number() OVER (ORDER BY id) AS n, count(*) OVER () AS total FROM unit
), chains AS (
    SELECT id, row_number() OVER (ORDER BY id) AS n, count(*) OVER () AS total FROM chain
), officers AS (
    SELECT DISTINCT ON (unit_id) unit_id, id FROM app_user ORDER BY unit_id, id
)
INSERT INTO lead (unit_id, owner_id, enterprise_name, chain_id, source, status,
                  dropped_reason, next_follow_up_on)
SELECT o.id, u.id, '基准线索企业' || g, c.id,
       (ARRAY['gap_candidate', 'trip', 'event', 'referral', 'investor', 'fund'])[1 + g % 6],
       (ARRAY['new', 'contacted', 'negotiating', 'negotiating', 'dropped'])[1 + g % 5],
       CASE WHEN g % 5 = 4 THEN '基准' END,
       current_date + (g % 60)::integer - 30
FROM generate_series(1, :leads) AS g
JOIN offices AS o ON o.n = 1 + g % o.total
JOIN chains AS c ON c.n = 1 + g % c.total
LEFT JOIN officers AS u ON u.unit_id = o.id
"""
# An officer in every office (rolled back with the rest).
OFFICERS = """
INSERT INTO app_user (username, role, unit_id)
SELECT 'bench-' || u.code, 'editor', u.id FROM unit AS u
WHERE NOT EXISTS (SELECT 1 FROM app_user AS a WHERE a.unit_id = u.id)
"""
TALKS = """
INSERT INTO negotiation (lead_id, unit_id, recorded_by_id, held_on, content, next_follow_up_on)
SELECT l.id, l.unit_id, l.owner_id, current_date - 40 + k * 10, '基准洽谈',
       current_date - 35 + k * 10 + (l.id % 20)::integer
FROM lead AS l CROSS JOIN generate_series(1, :per) AS k
WHERE l.status <> 'dropped'
"""
TARGETS = """
INSERT INTO target (scope, unit_id, year, metric, unit, target_value, source)
SELECT 'unit', u.id, :year, m.metric, m.unit, 100, 'bench'
FROM unit AS u
CROSS JOIN (VALUES ('projects_signed', 'count'), ('investment_signed', 'cny_100m'),
                   ('projects_started', 'count'), ('funds_arrived', 'cny_100m'),
                   ('foreign_capital_used', 'usd_10k')) AS m (metric, unit)
"""


def timed(run, repeat: int) -> tuple[float, float]:
    run()  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="chaindb_bench")
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--negotiations", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL")
    if not base:
        sys.exit("set DATABASE_URL to the server holding the database")
    engine = make_engine(with_database(normalize_database_url(base), args.database))
    year = date.today().year
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            conn.execute(text(OFFICERS))
            conn.execute(text(FILL), {"leads": args.leads})
            conn.execute(text(TALKS), {"per": args.negotiations})
            conn.execute(text(TARGETS), {"year": year})
            conn.execute(text("ANALYZE lead"))
            conn.execute(text("ANALYZE negotiation"))
            office = conn.execute(
                text(
                    "SELECT u.id, u.code, u.district_id, a.id FROM unit AS u JOIN app_user AS a "
                    "ON a.unit_id = u.id WHERE u.kind = 'district_office' ORDER BY u.id LIMIT 1"
                )
            ).first()
            if office is None:
                # An officer of the first district office, for "mine".
                office = conn.execute(
                    text(
                        "SELECT id, code, district_id, NULL FROM unit "
                        "WHERE kind = 'district_office' ORDER BY id LIMIT 1"
                    )
                ).one()
            counts = conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM lead), (SELECT count(*) FROM negotiation), "
                    "(SELECT count(*) FROM project), (SELECT count(*) FROM target)"
                )
            ).one()
            conn.execute(
                text(
                    "SELECT set_config('role', 'chaindb_app', true), "
                    "set_config('chaindb.unit_id', :u, true)"
                ),
                {"u": str(office[0])},
            )
            principal = Principal(
                user_id=office[3] or 0,
                username="bench",
                role=Role.EDITOR,
                scope=Scope(
                    unit_id=office[0],
                    code=office[1],
                    name=office[1],
                    kind=UnitKind.DISTRICT_OFFICE,
                    district_id=office[2],
                ),
            )
            session = Session(bind=conn)
            figures = {
                "follow-ups page (mine)": timed(
                    lambda: service.follow_ups(session=session, principal=principal),
                    args.repeat,
                ),
                "follow-ups page (the unit's)": timed(
                    lambda: service.follow_ups(session=session, principal=principal, mine=False),
                    args.repeat,
                ),
                "navigation count": timed(
                    lambda: service.due_count(session=session, principal=principal),
                    args.repeat,
                ),
                "progress page (report_target_progress, a year)": timed(
                    lambda: conn.execute(
                        text("SELECT * FROM report_target_progress WHERE year = :y"), {"y": year}
                    ).all(),
                    args.repeat,
                ),
                "report_lead_conversion": timed(
                    lambda: conn.execute(text("SELECT * FROM report_lead_conversion")).all(),
                    args.repeat,
                ),
            }
        finally:
            transaction.rollback()
    engine.dispose()
    print(
        f"{counts[0]} leads, {counts[1]} negotiation entries, {counts[2]} projects, "
        f"{counts[3]} targets; as {office[1]} (row-level security on)"
    )
    print(f"{'read':<50} {'median ms':>10} {'p95 ms':>10}")
    for name, (median, p95) in figures.items():
        print(f"{name:<50} {median:>10.1f} {p95:>10.1f}")


if __name__ == "__main__":
    main()
