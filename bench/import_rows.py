"""One worker importing the largest file allowed: seconds and peak memory, dry run and for real.

`python bench/import_rows.py` makes a database chaindb_bench_import on DATABASE_URL's server
(else the local one on 127.0.0.1:5432; only 127.0.0.1), migrates it and seeds the reference and
demo data, then, in one fresh Python process per run, posts an XLSX of new enterprises (the
row limit, chaindb.api.tables.MAX_ROWS, by default) to POST /api/v1/enterprises/import through
the app in-process (what a gunicorn worker runs, without the network) and prints the seconds
and the process's peak resident memory above what it held before the request (ru_maxrss). The
names are alike (中文 + a number), so every row also runs the duplicate check and is confirmed
with `?confirm=possible_duplicate`: the slow path.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE = "chaindb_bench_import"
CHAINDB = str(Path(sys.executable).with_name("chaindb"))

CHILD = """
import io, json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from chaindb import create_app
from chaindb.db import db

app = create_app()
with app.app_context():
    from chaindb.auth.service import create_token, create_user
    user = create_user(session=db.session, username=f"bench{time.time_ns()}", role="editor",
                       password=None)
    token = create_token(session=db.session, user=user, name="bench")[1]
    db.session.commit()
data = Path(sys.argv[1]).read_bytes()
client = app.test_client()
query = "confirm=possible_duplicate" + ("&dry_run=1" if sys.argv[3] == "dry" else "")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
response = client.post(f"/api/v1/enterprises/import?{query}",
                       data={"file": (io.BytesIO(data), "enterprises.xlsx")},
                       headers={"Authorization": f"Bearer {token}"},
                       content_type="multipart/form-data")
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
body = response.get_json()
print(json.dumps({"status": response.status_code, "seconds": seconds,
                  "peak_mb": (peak - before) / 1024,
                  "summary": {k: v for k, v in body.items() if k != "results"}}))
"""


def workbook(rows: int) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("企业")
    sheet.append(["注册中文名称", "简称", "企业规模", "成立日期", "有效", "备注"])
    for n in range(rows):
        sheet.append([f"泉城导入测试{n:05d}号科技有限公司", f"导入{n:05d}", "小型", "2020-03-01",
                      "是", f"批量导入第{n + 1}行"])  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def prepare(url: str) -> None:
    from chaindb.database import with_database
    from chaindb.embedded import drop_database, ensure_database

    admin = with_database(url, "postgres")
    drop_database(admin, DATABASE)
    ensure_database(admin, DATABASE)
    env = {**os.environ, "DATABASE_URL": url}
    for step in (["db", "upgrade"], ["seed", "reference"], ["seed", "demo"]):
        subprocess.run([CHAINDB, *step], env=env, check=True, capture_output=True)


def main() -> None:
    from bench.api_load import database_url
    from chaindb.api.tables import MAX_ROWS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=MAX_ROWS)
    args = parser.parse_args()
    url = database_url(DATABASE)
    prepare(url)
    data = workbook(args.rows)
    print(f"{args.rows:,} rows, an XLSX of {len(data) / 1024:,.0f} KB")
    print("| run | status | seconds | peak memory | rows |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "enterprises.xlsx"
        path.write_bytes(data)
        for run in ("dry", "real"):
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(path), str(ROOT), run],
                env={**os.environ, "DATABASE_URL": url, "CHAINDB_LOG_LEVEL": "WARNING"},
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            summary = result["summary"]
            print(
                f"| {'dry run' if run == 'dry' else 'import'} | {result['status']} "
                f"| {result['seconds']:.1f} s | {result['peak_mb']:,.0f} MB "
                f"| {summary.get('create', 0):,} created, {summary.get('error', 0):,} refused |",
                flush=True,
            )


if __name__ == "__main__":
    main()
