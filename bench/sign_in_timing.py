"""Whether a sign-in's time tells which user names exist: the median time of sign_in() for an
unknown name, a known name with a wrong password, and the right password (each attempt rolled
back, so the rate limit never trips).

    .venv/bin/python bench/sign_in_timing.py [--database chaindb_bench] [--runs 30]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api_load import database_url  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="chaindb_bench")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from sqlalchemy.orm import Session

    from chaindb.auth.service import create_user, sign_in
    from chaindb.db import make_engine
    from chaindb.errors import DomainError

    engine = make_engine(database_url(args.database))
    password = "timing-password-1"
    cases = {
        "unknown name": ("nobody-by-this-name", password),
        "wrong password": ("bench-timing", "wrong-password-9"),
        "right password": ("bench-timing", password),
    }
    took: dict[str, list[float]] = {case: [] for case in cases}
    with Session(engine) as session:
        create_user(session=session, username="bench-timing", role="viewer", password=password)
        session.flush()
        for _ in range(args.runs):
            for case, (name, typed) in cases.items():
                savepoint = session.begin_nested()
                started = time.perf_counter()
                with contextlib.suppress(DomainError):  # refused: the time is what counts
                    sign_in(session=session, username=name, password=typed, remote_addr=None)
                took[case].append(time.perf_counter() - started)
                savepoint.rollback()
        session.rollback()
    engine.dispose()
    for case, times in took.items():
        print(f"{case:<15} median {statistics.median(times):.3f} s  ({args.runs} runs)")


if __name__ == "__main__":
    main()
