"""Tests run against real PostgreSQL: DATABASE_URL's server when set, else the embedded one.

The migrations build the schema once, into a template database kept on the server for as long as
the migrations and chaindb's code are what they were (its name carries their hash); each worker's
database and each scratch database that asks for the schema is a copy of it. Each test runs
inside a transaction that is rolled back at its end, with the one app of the run bound to it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from chaindb.config import PROJECT_ROOT, Settings, normalize_database_url
from chaindb.database import with_database
from chaindb.db import make_engine
from chaindb.embedded import drop_database, ensure_database, server_url
from chaindb.migrations import alembic_config
from tests import factories_sql as f

# One database per test process (each pytest-xdist worker is one), so that runs side by side on
# one server never drop each other's.
TEST_DATABASE = os.environ.get("CHAINDB_TEST_DATABASE") or f"chaindb_test_{os.getpid()}"


def _admin_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return with_database(normalize_database_url(os.environ["DATABASE_URL"]), "postgres")
    data_dir = Path(os.environ.get("CHAINDB_TEST_DATA_DIR") or PROJECT_ROOT / ".chaindb" / "test")
    return normalize_database_url(server_url(data_dir))


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the group into the node id
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """pytest-xdist (--dist loadgroup) runs on one worker the tests of a module that share a
    module-scoped fixture, which would otherwise be built on every worker. The rest go wherever
    a worker is free; a session-scoped fixture (the browser tests' live server and Chromium,
    schemathesis's app) is built once on each worker that needs it."""
    for item in items:
        if any(
            fixturedef.scope == "module"
            for fixturedefs in item._fixtureinfo.name2fixturedefs.values()
            for fixturedef in fixturedefs
        ):
            item.add_marker(pytest.mark.xdist_group(item.path.name))


@pytest.fixture(scope="session")
def admin_url() -> str:
    """A URL to the server's maintenance database, for creating and dropping databases."""
    return _admin_url()


def migrate(url: str, revision: str = "head", *, action: str = "upgrade") -> None:
    """Alembic's upgrade (or downgrade) of the database at `url` to `revision`."""
    engine = make_engine(url)
    with engine.begin() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        cfg.attributes["configure_logger"] = False
        getattr(command, action)(cfg, revision)
    engine.dispose()


def _drop_orphans(admin_url: str) -> None:
    """Drop the test databases of earlier runs that were killed before they could."""
    import psycopg

    with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as conn:
        names = conn.execute(
            "SELECT datname FROM pg_database WHERE datname ~ '^chaindb_test_[0-9]+$'"
        )
        for (name,) in names.fetchall():
            pid = int(name.rsplit("_", 1)[1])
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                drop_database(admin_url, name)
            except PermissionError:
                pass  # another user's live process


@functools.cache
def _schema_key(folders: tuple[str, ...] = ("alembic", "chaindb")) -> str:
    """A hash of what builds the schema: the migrations and the chaindb code they import (and
    the seeds, for a seeded template)."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".sql", ".mako", ".csv") and path.is_file():
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _seed_reference_and_demo(url: str) -> None:
    from seeds import demo, reference
    from seeds.runner import run

    engine = make_engine(url)
    try:
        run(engine, reference.load)
        run(engine, demo.load)
    finally:
        engine.dispose()


def migrated_database(admin_url: str, name: str, *, seeded: bool = False) -> str:
    """Create database `name` with the schema at head (and, `seeded`, the reference and demo
    seeds loaded), a copy of a template database built the first time by whichever test process
    gets there first (the migrations; then the seed loaders); its URL."""
    import psycopg
    from psycopg import sql

    templates = [("chaindb_template_", _schema_key(), migrate)]
    if seeded:
        # Of today: what the seeds load and the reports count depends on the day.
        key = _schema_key(("alembic", "chaindb", "seeds")) + date.today().strftime("%Y%m%d")
        templates.append(("chaindb_seeded_", key, _seed_reference_and_demo))
    with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as conn:
        # One process at a time builds or copies: a database being copied must have no sessions.
        conn.execute("SELECT pg_advisory_lock(hashtext('chaindb tests: template'))")
        try:
            source = None
            for prefix, key, build in templates:
                template = f"{prefix}{key}"
                if not conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (template,)
                ).fetchone():
                    for (old,) in conn.execute(
                        "SELECT datname FROM pg_database WHERE datname ~ %s", (f"^{prefix}",)
                    ).fetchall():
                        drop_database(admin_url, old)  # an earlier schema's
                    building = f"{template}_building"
                    drop_database(admin_url, building)
                    if source is None:
                        ensure_database(admin_url, building)
                    else:
                        conn.execute(
                            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                                sql.Identifier(building), sql.Identifier(source)
                            )
                        )
                    build(with_database(admin_url, building))
                    # Renamed when whole: a run killed while building leaves no half template.
                    conn.execute(
                        sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                            sql.Identifier(building), sql.Identifier(template)
                        )
                    )
                source = template
            drop_database(admin_url, name)
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(source)
                )
            )
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext('chaindb tests: template'))")
    return with_database(admin_url, name)


@pytest.fixture(scope="session")
def database_url(admin_url: str) -> Iterator[str]:
    _drop_orphans(admin_url)
    url = migrated_database(admin_url, TEST_DATABASE)
    yield url
    drop_database(admin_url, TEST_DATABASE)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back when the test ends."""
    with engine.connect() as connection:
        outer = connection.begin()
        yield connection
        outer.rollback()


@pytest.fixture
def session(conn: Connection) -> Iterator[Session]:
    with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
        yield session


@pytest.fixture
def scratch_database(admin_url: str) -> Iterator[Callable[..., str]]:
    """Makes databases of its own (dropped afterwards), for tests that commit: empty, or with
    the schema at head (`migrated=True`, a copy of the template)."""
    made: list[str] = []

    def make(*, migrated: bool = False) -> str:
        name = f"chaindb_scratch_{uuid.uuid4().hex[:10]}"
        made.append(name)
        if migrated:
            return migrated_database(admin_url, name)
        ensure_database(admin_url, name)
        return with_database(admin_url, name)

    yield make
    for name in made:
        drop_database(admin_url, name)


@pytest.fixture(scope="module")
def scratch_database_module(admin_url: str) -> Iterator[str]:
    """A database of the module's own with the schema at head, for tests that commit and share
    what they made (an app with its own pools); dropped after the module."""
    name = f"chaindb_scratch_{uuid.uuid4().hex[:10]}"
    yield migrated_database(admin_url, name)
    drop_database(admin_url, name)


def bearer_tokens(engine: Engine, users: Iterable[tuple[str, str | int, str]]) -> dict[str, dict]:
    """For each (username, unit, role): a user and a token, committed; their Authorization
    headers by username."""
    from chaindb.auth.service import create_token, create_user

    headers = {}
    with Session(engine) as session:
        for name, unit, role in users:
            user = create_user(session=session, username=name, role=role, password=None, unit=unit)
            token = create_token(session=session, user=user, name="tests")[1]
            headers[name] = {"Authorization": f"Bearer {token}"}
        session.commit()
    return headers


TEST_SETTINGS = Settings(
    # No token cache: tests revoke tokens with SQL and expect the next request to see it.
    token_cache_seconds=0,
    env="test",
    database_url="postgresql+psycopg://unused/none",
    secret_key="t" * 40,
)


@pytest.fixture(scope="session")
def shared_app(engine: Engine):
    """The run's one app (building one takes ~2 s, mostly the OpenAPI document's schemas)."""
    from chaindb import create_app

    return create_app({"TESTING": True, "ENGINE": engine}, settings=TEST_SETTINGS)


@pytest.fixture
def app(shared_app, conn: Connection):
    """The app, bound to the test's transaction; what a test changes in its config is undone."""
    from chaindb.db import db

    config = dict(shared_app.config)
    db.bind(shared_app, conn)
    yield shared_app
    shared_app.config.clear()
    shared_app.config.update(config)
    shared_app.extensions["chaindb.token_cache"].clear()
    db.bind(shared_app, conn.engine)


@pytest.fixture
def client(app):
    return app.test_client()


@contextmanager
def refused(conn: Connection, constraint: str | None = None) -> Iterator[None]:
    """Expect the database to refuse what the block does; the block's work is undone.

    `constraint` names the constraint (or trigger rule) that must be the reason.
    """
    savepoint = conn.begin_nested()
    with pytest.raises(DBAPIError) as caught:
        yield
    savepoint.rollback()
    if constraint is not None:
        diag = getattr(caught.value.orig, "diag", None)
        name = getattr(diag, "constraint_name", None)
        assert name == constraint, (
            f"refused by {name!r} ({caught.value.orig}), expected {constraint!r}"
        )


def run_sql(conn: Connection, sql: str, **params: object):
    return conn.execute(text(sql), params)


class Api:
    """The test client, signed in through real tokens of an admin, an editor and a viewer."""

    def __init__(self, client, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def headers(self, role: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return {**headers, **(extra or {})}

    def get(self, path: str, *, role: str | None = "viewer", headers: dict | None = None, **kw):
        return self.client.get(path, headers=self.headers(role, headers), **kw)

    def post(
        self,
        path: str,
        json: object = None,
        *,
        role: str | None = "editor",
        headers: dict | None = None,
        **kw,
    ):
        return self.client.post(path, json=json, headers=self.headers(role, headers), **kw)

    def patch(
        self,
        path: str,
        json: object = None,
        *,
        role: str | None = "editor",
        headers: dict | None = None,
        **kw,
    ):
        return self.client.patch(path, json=json, headers=self.headers(role, headers), **kw)

    def put(
        self,
        path: str,
        json: object = None,
        *,
        role: str | None = "editor",
        headers: dict | None = None,
        **kw,
    ):
        return self.client.put(path, json=json, headers=self.headers(role, headers), **kw)

    def delete(self, path: str, *, role: str | None = "editor", headers: dict | None = None, **kw):
        return self.client.delete(path, headers=self.headers(role, headers), **kw)


@pytest.fixture
def tokens(session: Session) -> dict[str, str]:
    """role -> a live API token of a user with that role."""
    from chaindb.auth.service import create_token, create_user

    made = {}
    for role in ("admin", "editor", "viewer"):
        user = create_user(session=session, username=f"test-{role}", role=role, password=None)
        made[role] = create_token(session=session, user=user, name="tests")[1]
    session.commit()  # into the test's savepoint: still rolled back at the end
    return made


@pytest.fixture
def api(client, tokens) -> Api:
    return Api(client, tokens)


def count_rows(conn: Connection, *tables: str) -> dict[str, int]:
    """Row counts, to show that a refused request changed nothing."""
    return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


# --- the web pages -------------------------------------------------------------------------------

PASSWORD = "correct horse battery"
CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


class Web:
    """A test client that signs in through the sign-in form and posts forms with their token."""

    def __init__(self, client) -> None:
        self.client = client
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            # Every page carries the token (the language switch is a form); signed in, the
            # sign-in page sends one home.
            page = self.client.get("/login", follow_redirects=True).get_data(as_text=True)
            found = CSRF.search(page)
            assert found, "no CSRF token on the sign-in page"
            self._token = found.group(1) or found.group(2)
        return self._token

    def login(self, username: str, password: str = PASSWORD):
        response = self.client.post(
            "/login", data={"username": username, "password": password, "csrf_token": self.token()}
        )
        self._token = None  # a new session: a new token
        return response

    def get(self, path: str, **kw):
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict | None = None, **kw):
        return self.client.post(path, data={"csrf_token": self.token(), **(data or {})}, **kw)

    def submit(self, path: str, typed: dict[str, str | None] | None = None, **kw):
        """Open the page at `path` and send its form as a browser does: every field it offers,
        with what a person typed (see tests/forms.py)."""
        from tests.forms import filled, record_form

        page = self.text(path)
        action = record_form(page)["action"] or path
        return self.client.post(action, data=filled(page, typed or {}), **kw)

    def text(self, path: str, status: int = 200) -> str:
        response = self.client.get(path)
        assert response.status_code == status, (response.status_code, path, response.location)
        return response.get_data(as_text=True)


@functools.cache
def _password_hash() -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(PASSWORD)


@pytest.fixture
def web_users(session: Session) -> dict[str, str]:
    """role -> user name of a user with that role and the password PASSWORD."""
    from chaindb.auth.service import create_user

    for role in ("admin", "editor", "viewer"):
        user = create_user(session=session, username=f"web-{role}", role=role, password=None)
        user.password_hash = _password_hash()  # scrypt once per run, not three times per test
    session.commit()
    return {role: f"web-{role}" for role in ("admin", "editor", "viewer")}


@pytest.fixture
def web(app, web_users) -> Web:
    """Signed in as the editor."""
    browser = Web(app.test_client())
    response = browser.login(web_users["editor"])
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


@pytest.fixture
def web_as(app, web_users) -> Callable[[str], Web]:
    def make(role: str) -> Web:
        browser = Web(app.test_client())
        assert browser.login(web_users[role]).status_code == 302
        return browser

    return make


# --- many offices ---------------------------------------------------------------------------------


@dataclass
class Offices:
    ids: dict[str, int]
    tokens: dict[str, str]  # user name -> API token

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


def _unit(conn: Connection, code: str, kind: str, **charge: int) -> int:
    city = conn.execute(text("SELECT id FROM unit WHERE kind = 'city'")).scalar_one()
    columns = ", ".join(charge)
    values = ", ".join(f":{name}" for name in charge)
    return conn.execute(
        text(
            f"INSERT INTO unit (code, kind, name_zh, parent_id, {columns}) "
            f"VALUES (:code, :kind, :name, :city, {values}) RETURNING id"
        ),
        {"code": code, "kind": kind, "name": f"{code}办公室", "city": city, **charge},
    ).scalar_one()


@pytest.fixture
def offices(conn: Connection, session: Session) -> Offices:
    """Two planning units and two iconic chains (the first with a key chain under it); the
    office of the first planning unit and of the first chain; an editor in each, an admin in
    the district office; a project and an enterprise in every corner."""
    from chaindb.auth.service import create_token, create_user

    ids: dict[str, int] = {}
    ids["d1"], ids["d2"] = f.district(conn), f.district(conn)
    ids["c1"], ids["c2"] = f.chain(conn), f.chain(conn)
    ids["c1k"] = f.key_chain(conn, parent_id=ids["c1"])
    ids["u_d1"] = _unit(conn, "district-test-1", "district_office", district_id=ids["d1"])
    ids["u_c1"] = _unit(conn, "chain-test-1", "chain_office", chain_id=ids["c1"])
    for chain in ("c1", "c1k", "c2"):
        for district in ("d1", "d2"):
            ids[f"p_{chain}_{district}"] = f.project(conn, ids[chain], ids[district])
    ids["e_d1"] = f.enterprise(conn, district_id=ids["d1"])
    ids["e_d2"] = f.enterprise(conn, district_id=ids["d2"])
    ids["e_far"] = f.enterprise(conn, district_id=None, region_code="440300")
    ids["s_c1"], ids["s_c2"] = f.segment(conn, ids["c1"]), f.segment(conn, ids["c2"])
    tokens = {}
    ids["u_city"] = conn.execute(text("SELECT id FROM unit WHERE kind = 'city'")).scalar_one()
    for name, unit, role in (
        ("d1-editor", "u_d1", "editor"),
        ("d1-admin", "u_d1", "admin"),
        ("c1-editor", "u_c1", "editor"),
        ("city-admin", "u_city", "admin"),
    ):
        user = create_user(session=session, username=name, role=role, password=None, unit=ids[unit])
        user.password_hash = _password_hash()
        tokens[name] = create_token(session=session, user=user, name="tests")[1]
    session.commit()
    return Offices(ids, tokens)
