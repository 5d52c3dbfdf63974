"""How long a revoked API token keeps working: chaindb under granian (every worker caching the
tokens it checked), a client reading with the token as fast as it can on 8 connections, the
token revoked in the database (no worker told): the last request it got through after that, and
how many.

    .venv/bin/python bench/token_revocation.py [--database chaindb_bench]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api_load import database_url, granian, make_token, server_env, wait_until_up  # noqa: E402

PORT = 8113


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="chaindb_bench")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    url = database_url(args.database)
    token = make_token(url)
    base = f"http://127.0.0.1:{PORT}"
    server = granian("chaindb.wsgi:app", PORT, server_env(url))
    revoked_at: list[float] = []
    accepted_after: list[float] = []
    stop = threading.Event()
    lock = threading.Lock()

    def read() -> None:
        request = urllib.request.Request(
            f"{base}/api/v1/chains?limit=1", headers={"Authorization": f"Bearer {token}"}
        )
        while not stop.is_set():
            try:
                with urllib.request.urlopen(request, timeout=5):
                    done = time.monotonic()
                if revoked_at and done > revoked_at[0]:
                    with lock:
                        accepted_after.append(done - revoked_at[0])
            except urllib.error.HTTPError:
                pass

    try:
        wait_until_up(f"{base}/healthz")
        threads = [threading.Thread(target=read) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        time.sleep(3)  # every worker has checked the token and trusts it
        import psycopg

        from bench.peers import _libpq_url

        with psycopg.connect(_libpq_url(url), autocommit=True) as conn:
            conn.execute(
                "UPDATE api_token SET revoked_at = now() WHERE token_hash = "
                "encode(sha256(convert_to(%s, 'UTF8')), 'hex')",
                (token,),
            )
            revoked_at.append(time.monotonic())
        time.sleep(3)
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    last = max(accepted_after, default=0.0)
    print(
        f"revoked in the database: {len(accepted_after)} requests got through after it, "
        f"the last {last:.2f} s after"
    )


if __name__ == "__main__":
    main()
