"""Parallel password guesses against one user name, through the sign-in page of chaindb under
gunicorn: how many were checked (401) and how many refused by the backoff (429).

    .venv/bin/python bench/sign_in_parallel.py [--database chaindb_bench] [--attempts 30]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import re
import secrets
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api_load import database_url, gunicorn, server_env, wait_until_up  # noqa: E402

PORT = 8112
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def make_user(url: str) -> str:
    from sqlalchemy.orm import Session

    from chaindb.auth.service import create_user
    from chaindb.db import make_engine

    engine = make_engine(url)
    name = f"bench-guess-{secrets.token_hex(3)}"
    with Session(engine) as session:
        create_user(session=session, username=name, role="viewer", password="right-password-1")
        session.commit()
    engine.dispose()
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="chaindb_bench")
    parser.add_argument("--attempts", type=int, default=30)
    args = parser.parse_args()
    url = database_url(args.database)
    name = make_user(url)
    base = f"http://127.0.0.1:{PORT}"
    # Over plain http on the loopback: session cookies without Secure, or none comes back.
    env = {**server_env(url), "CHAINDB_SECURE_COOKIES": "false"}
    server = gunicorn("chaindb.wsgi:app", PORT, env)
    try:
        wait_until_up(f"{base}/healthz")
        ready = threading.Barrier(args.attempts)
        outcomes: Counter[int] = Counter()
        lock = threading.Lock()

        def guess() -> None:
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            page = opener.open(f"{base}/login").read().decode()
            token = CSRF.search(page).group(1)  # type: ignore[union-attr]
            body = urllib.parse.urlencode(
                {"username": name, "password": "wrong-guess-000", "csrf_token": token}
            ).encode()
            ready.wait()
            try:
                status = opener.open(f"{base}/login", data=body).status
            except urllib.error.HTTPError as error:
                status = error.code
            with lock:
                outcomes[status] += 1

        threads = [threading.Thread(target=guess) for _ in range(args.attempts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    checked, refused = outcomes.get(401, 0), outcomes.get(429, 0)
    print(
        f"{args.attempts} parallel guesses: {checked} checked (401), {refused} refused (429), "
        f"other {dict((k, v) for k, v in outcomes.items() if k not in (401, 429))}"
    )


if __name__ == "__main__":
    main()
