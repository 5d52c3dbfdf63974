"""Time `chaindb seed synthetic` on an empty migrated database; print time, peak memory, rows.

    .venv/bin/python bench/synthetic_load.py --scale 1 [--keep]

Uses DATABASE_URL's server (else the embedded one) and a database of its own, chaindb_bench,
created afresh (dropped afterwards unless --keep, which leaves it for the API benchmarks).
Peak memory is the loader process's maximum resident set size; the server's is not included.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from chaindb.config import Settings, normalize_database_url
from chaindb.database import resolve_url, with_database
from chaindb.db import make_engine
from chaindb.embedded import drop_database, ensure_database
from chaindb.models import TABLES

BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--database", default="chaindb_bench")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    admin = with_database(resolve_url(Settings.from_env()), "postgres")
    url = with_database(admin, args.database)
    drop_database(admin, args.database)
    ensure_database(admin, args.database)
    env = {**os.environ, "DATABASE_URL": url}
    for step in (["db", "upgrade"], ["seed", "reference"]):
        subprocess.run([BIN / "chaindb", *step], env=env, check=True, capture_output=True)

    started = time.perf_counter()
    subprocess.run(
        [BIN / "chaindb", "seed", "synthetic", "--scale", str(args.scale), "--quiet"],
        env=env,
        check=True,
    )
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    engine = make_engine(normalize_database_url(url))
    with engine.connect() as conn:
        counts = {
            model.__tablename__: conn.execute(
                text(f"SELECT count(*) FROM {model.__tablename__}")
            ).scalar_one()
            for model in TABLES
        }
        size = conn.execute(
            text("SELECT pg_size_pretty(pg_database_size(current_database()))")
        ).scalar()
    engine.dispose()
    if not args.keep:
        drop_database(admin, args.database)

    print(
        f"synthetic --scale {args.scale}: {seconds:.1f} s wall, peak RSS {peak_mib:.0f} MiB (loader)"
    )
    print(f"database size {size}")
    for table, count in counts.items():
        print(f"  {table:<20} {count:>10,}")


if __name__ == "__main__":
    main()
