"""Browser tests: a real Chromium against the real app, served on 127.0.0.1 by `chaindb run`.

One scratch database per run, with the schema at head and the reference and demo seeds (a copy
of a template database built once, tests/conftest.py migrated_database);
the tests commit what they do, so each one uses data of its own (fresh users, unique names).
A failing test leaves a screenshot in test-artifacts/screenshots/ and the server's log tail in
its report.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from chaindb.config import PROJECT_ROOT
from chaindb.db import make_engine
from chaindb.embedded import drop_database
from tests.conftest import migrated_database

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BROWSER_DATABASE = f"chaindb_browser_{os.getpid()}"
PASSWORD = "browser-tests-password"
# The two users every run has, with the password PASSWORD.
USERS = {"admin": "browser-admin", "editor": "browser-editor"}
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
TIMEOUT_MS = 10_000
PAGES = pytest.StashKey[list]()
SERVER = pytest.StashKey["LiveServer"]()


@dataclass
class LiveServer:
    """The app served on 127.0.0.1, and a way to look into its database."""

    base_url: str
    database_url: str
    engine: Engine
    log: Path
    process: subprocess.Popen
    _serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def url(self, path: str) -> str:
        return self.base_url + path

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]

    def unique(self, prefix: str) -> str:
        """A name no other test of this run uses."""
        return f"{prefix}-{next(self._serial)}-{secrets.token_hex(2)}"

    def make_user(self, role: str, *, locale: str | None = None, unit: str = "city") -> str:
        """A fresh user with `role` in `unit` (a unit's code) and the password PASSWORD;
        returns the user name."""
        from chaindb.auth.service import create_user

        username = self.unique(f"b-{role}")
        with Session(self.engine) as session:
            user = create_user(
                session=session, username=username, role=role, password=PASSWORD, unit=unit
            )
            user.locale = locale
            session.commit()
        return username

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _drop_orphans(admin_url: str) -> None:
    """Drop the browser databases of earlier runs that were killed before they could."""
    import psycopg

    with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as conn:
        names = conn.execute(
            "SELECT datname FROM pg_database WHERE datname ~ '^chaindb_browser_[0-9]+$'"
        ).fetchall()
    for (name,) in names:
        try:
            os.kill(int(name.rsplit("_", 1)[1]), 0)
        except ProcessLookupError:
            drop_database(admin_url, name)
        except PermissionError:
            pass  # another user's live process


def _seed(engine: Engine) -> None:
    """The users of the browser tests (the reference and demo seeds come with the template)."""
    from chaindb.auth.service import create_user

    with Session(engine) as session:
        for role, username in USERS.items():
            create_user(session=session, username=username, role=role, password=PASSWORD)
        session.commit()


def _wait_until_healthy(server: LiveServer, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"the app server exited with {server.process.returncode}:\n{server.log_tail()}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(server.url("/healthz"), timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"the app server did not answer /healthz in {seconds} s:\n{server.log_tail()}")


@pytest.fixture(scope="session")
def live_server(
    admin_url: str, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[LiveServer]:
    _drop_orphans(admin_url)
    url = migrated_database(admin_url, BROWSER_DATABASE, seeded=True)
    engine = make_engine(url)
    process = None
    try:
        _seed(engine)
        workdir = tmp_path_factory.mktemp("live-server")
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "CHAINDB_ENV": "test",
            "CHAINDB_SECRET_KEY": secrets.token_urlsafe(48),
            "CHAINDB_DATA_DIR": str(workdir / "data"),
            "CHAINDB_TOKEN_CACHE_SECONDS": "0",
            "CHAINDB_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        log = workdir / "server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                # One worker (its pools and report listener, as the tests' own processes
                # share the server's connections), threads for a page's parallel requests.
                [sys.executable, "-c", "from chaindb.cli import main; main()", "run",
                 "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--threads", "4"],
                cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        server = LiveServer(
            base_url=f"http://127.0.0.1:{port}",
            database_url=url,
            engine=engine,
            log=log,
            process=process,
        )
        pytestconfig.stash[SERVER] = server
        _wait_until_healthy(server)
        yield server
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        engine.dispose()
        drop_database(admin_url, BROWSER_DATABASE)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium "
            "(./scripts/browser installs it, and ./scripts/test runs that; or as root: "
            "apt-get install -y chromium).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser, live_server: LiveServer, request: pytest.FixtureRequest):
    """Opens pages, each in a context of its own (no shared cookies); all closed at the end."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    contexts = []
    request.node.stash[PAGES] = []

    def make():
        context = browser.new_context(base_url=live_server.base_url)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        request.node.stash[PAGES].append(page)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A signed-out page in a fresh browser context."""
    return new_page()


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    """Signs in through the sign-in form and waits for the page it leads to."""
    page.goto("/login")
    form = page.locator("form.record-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def choose_language(page, lang: str) -> None:
    """Clicks the header's language button for `lang` unless the page is already in it."""
    want = "zh-Hans" if lang == "zh" else "en"
    if page.locator("html").get_attribute("lang") == want:
        return
    with page.expect_navigation():
        page.locator(f"form.langs button[name=lang][value={lang}]").click()
    assert page.locator("html").get_attribute("lang") == want


@pytest.fixture
def signed_in_page(new_page, live_server: LiveServer) -> Callable[..., Any]:
    """signed_in_page(role, lang=None, unit="city"): a page signed in as a fresh user with that
    role in that unit.

    A fresh user per call: the language choice is kept per user, so tests cannot leak it to
    each other. With `lang`, the page is switched to that language through the header form.
    """

    def make(role: str = "editor", *, lang: str | None = None, unit: str = "city"):
        page = new_page()
        username = live_server.make_user(role, unit=unit)
        sign_in(page, username)
        assert page.url.rstrip("/") == live_server.base_url, page.url
        if lang:
            choose_language(page, lang)
        page.username = username  # type: ignore[attr-defined]
        return page

    return make


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("_")[:150]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed and report.when in ("setup", "call"):
        pages = [p for p in item.stash.get(PAGES, []) if not p.is_closed()]
        if pages:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for n, page in enumerate(pages):
            suffix = "" if n == 0 else f"-{n + 1}"
            target = SCREENSHOTS / f"{_safe_name(item.name)}{suffix}.png"
            try:
                page.screenshot(path=str(target), full_page=True)
                report.sections.append(("screenshot", f"{target} ({page.url})"))
            except Exception as exc:  # the page may be gone with the browser
                report.sections.append(("screenshot", f"none: {exc}"))
        server = item.config.stash.get(SERVER, None)
        if server is not None:
            report.sections.append(("server log (last lines)", server.log_tail()))
    return report
