"""The declarative base, the engine and one session per request."""

from __future__ import annotations

import contextlib
import select as _select
import time
import weakref
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import psycopg
from flask import Flask, g, has_request_context, request, stream_with_context
from psycopg.rows import dict_row, tuple_row
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Connection,
    DateTime,
    Engine,
    Executable,
    Identity,
    MetaData,
    create_engine,
    event,
    exc,
    func,
    select,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

if TYPE_CHECKING:
    from chaindb.config import Settings

# Every constraint gets a predictable name, so migrations never have to guess one.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    """created_at / updated_at, both set by the database (updated_at by a trigger)."""

    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        server_default=func.now(),
        comment="When the row was inserted (set by the database)",
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        server_default=func.now(),
        comment="When the row last changed (set by the database trigger set_updated_at)",
    )


# How long text a person writes may be, in characters (not bytes): the database's CHECKs
# (chaindb.models), the API's schemas (chaindb.api.schemas) and the forms (chaindb.web.forms)
# all take their limits from text_limit.
SHORT_TEXT = 200  # a name, a person, a unit, a product, an issuer: one line
LONG_TEXT = 10_000  # free text: notes, descriptions, sources, reasons
# A column or field whose name ends in one of these words holds prose (stage_reason,
# uscc_override_reason, stage_note ...).
PROSE_WORDS = frozenset(
    {
        "notes",
        "note",
        "description",
        "source",
        "reason",
        "opinion",
        # A negotiation's record: what was said, what came of it, who took part, what is next.
        "content",
        "outcome",
        "participants",
        "step",
    }
)


def text_limit(column_name: str) -> int:
    """The most characters a text column (or the form field or API field of that name) holds:
    LONG_TEXT for prose, SHORT_TEXT for everything else. An array of text limits each item."""
    return LONG_TEXT if column_name.rsplit("_", 1)[-1] in PROSE_WORDS else SHORT_TEXT


def labelled(label: Any, comment: str) -> dict[str, Any]:
    """A column's words, written once beside its type: `mapped_column(Text, **labelled(_l("Contact
    phone"), "Phone of the project's contact person"))`. The label (a lazy translation) names it
    on the pages (form field, list and detail column, export header); the comment describes it
    in the database (COMMENT ON COLUMN) and the API (chaindb.api.schemas.described)."""
    return {"comment": comment, "info": {"label": label}}


def label_of(column: Any) -> Any:
    """The label of a model attribute (Project.notes) or a table column: its labelled()'s."""
    found = _column(column).info.get("label")
    if found is None:
        raise LookupError(f"{column} has no label: declare it with chaindb.db.labelled()")
    return found


def comment_of(column: Any) -> str:
    """The comment of a model attribute or a table column (its description)."""
    comment = _column(column).comment
    if not comment:
        raise LookupError(f"{column} has no comment")
    return comment


def _column(column: Any) -> Any:
    prop = getattr(column, "property", None)
    return prop.columns[0] if prop is not None else column


def today(session: Session) -> date:
    """The database's current_date: the day its triggers judge "now" by (asked once a session)."""
    if "today" not in session.info:
        session.info["today"] = session.scalar(select(func.current_date()))
    return session.info["today"]


def is_id(text: str) -> bool:
    """Text that names a row by its surrogate key: ASCII digits that fit a bigint."""
    return text.isascii() and text.isdigit() and len(text) < 19


def id_column(comment: str = "Surrogate key") -> Mapped[int]:
    return mapped_column(BigInteger, Identity(), primary_key=True, comment=comment)


def one_of(column: str, values: Iterable[str] | type[StrEnum], *, name: str) -> CheckConstraint:
    """A CHECK that keeps a text column inside a closed vocabulary."""
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


# A pooled connection is checked for life on checkout without a round trip: a server that closed
# it (restart, pg_terminate_backend, idle timeout) has sent its farewell or EOF, so its socket reads
# as ready while the connection is idle. Such a connection, and one idle for longer than this (a
# silent network loss sends nothing), gets a real ping; a dead one is replaced before use.
PING_AFTER_IDLE_SECONDS = 30.0


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine whose pool replaces dead connections, without a ping before every checkout."""
    engine = create_engine(url, **kwargs)
    event.listen(engine, "before_cursor_execute", _not_one_statement)
    if engine.dialect.driver == "psycopg":
        dialect = engine.dialect
        event.listen(engine, "checkin", _note_idle)
        event.listen(
            engine, "checkout", lambda dbapi, record, proxy: _check_alive(dialect, dbapi, record)
        )
        event.listen(engine, "handle_error", _read_only_is_a_lost_leader)
    return engine


def _not_one_statement(connection: Connection, *_: Any) -> None:
    """A connection of Database.one_statement() runs its one statement through run_sql only."""
    if ONE_STATEMENT in connection.info:
        raise RuntimeError("a connection of Database.one_statement() runs one statement")


def _read_only_is_a_lost_leader(context: Any) -> None:
    """A write refused because the server is read-only (SQLSTATE 25006) means the connection
    reached a server that is no longer the leader of a cluster (demoted after a failover, or a
    standby): the pool drops it, and the connections made before it, as it drops those of a
    server that went away. The next checkout connects anew, and target_session_attrs=read-write
    finds the new leader. The request is answered as when the database is away (503, try again).
    chaindb writes only on the leader's URL, so nothing else raises 25006."""
    if getattr(context.original_exception, "sqlstate", None) == "25006":
        context.is_disconnect = True


def _note_idle(dbapi_connection: Any, record: Any) -> None:
    if dbapi_connection is not None:
        record.info["idle_since"] = time.monotonic()


def _check_alive(dialect: Any, dbapi_connection: Any, record: Any) -> None:
    idle_since = record.info.pop("idle_since", None)
    if idle_since is None:
        return  # a new connection
    if dbapi_connection.closed or dbapi_connection.broken:
        raise exc.DisconnectionError("connection closed")
    ready, _, _ = _select.select([dbapi_connection.fileno()], [], [], 0)
    if ready or time.monotonic() - idle_since > PING_AFTER_IDLE_SECONDS:
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # any failure means: do not hand this connection out
            raise exc.DisconnectionError(str(error)) from error


def core_connection(session: Session | Connection) -> Connection:
    """The Core connection behind a session (or the connection itself)."""
    return session.connection() if isinstance(session, Session) else session


def fetch_prebuilt(
    session: Session | Connection, stmt: Executable, params: dict[str, Any]
) -> list[dict]:
    """The rows of a statement built once and run often (a read by key), as dicts.

    SQLAlchemy compiles it once per dialect; psycopg runs it on the session's connection (same
    transaction) and makes the dicts. That skips SQLAlchemy's per-execution machinery, which cost
    more than the query itself for one row. For statements of plain columns only: psycopg
    returns their Python values (int, str, Decimal, date, aware datetime, JSON) as SQLAlchemy
    would (tests/test_api_reads.py compares the two for every resource).
    """
    connection = core_connection(session)
    return run_sql(connection, prebuilt_sql(stmt, connection.dialect), params)


def prebuilt_sql(stmt: Executable, dialect: Any) -> str:
    """The SQL of a statement built once and run often, compiled once per dialect."""
    compiled = _PREBUILT.get((id(stmt), dialect.name))
    if compiled is None or compiled[0] is not stmt:
        sql = str(stmt.compile(dialect=dialect))
        compiled = _PREBUILT[(id(stmt), dialect.name)] = (stmt, sql)
    return compiled[1]


def run_sql(
    connection: Connection, sql: str, params: dict[str, Any], *, dicts: bool = True
) -> list[Any]:
    """Run compiled SQL on the connection's psycopg connection: rows as dicts (or tuples). A
    refusal is raised as SQLAlchemy raises it (DBAPIError), so it is answered alike. On a
    connection of Database.one_statement(), the statement goes with the acting settings."""
    driver = connection.connection.driver_connection
    factory = dict_row if dicts else tuple_row
    try:
        if ONE_STATEMENT in connection.info:
            return _run_alone(connection, driver, sql, params, factory)
        with driver.cursor(row_factory=factory) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    except psycopg.Error as error:
        raise exc.DBAPIError.instance(sql, params, error, psycopg.Error) from error


# Database.one_statement(): the key, in Connection.info, of the acting settings its one
# statement is sent with (None once it has been sent).
ONE_STATEMENT = "chaindb.one_statement"
_SAVEPOINT = "chaindb_one_statement"


def _run_alone(
    connection: Connection, driver: psycopg.Connection, sql: str, params: dict, factory: Any
) -> list[Any]:
    """The one statement of Database.one_statement(), sent in one message with act()'s
    settings for its transaction (psycopg's pipeline: both, then one Sync). On an autocommit
    connection, both run in the one transaction the server makes of what comes before a Sync:
    the statement commits at the Sync, or is rolled back with the settings. On a connection
    in a transaction already (a test's), inside a savepoint, released or rolled back alike."""
    acting = connection.info[ONE_STATEMENT]
    if acting is None:
        raise RuntimeError("a connection of Database.one_statement() runs one statement")
    connection.info[ONE_STATEMENT] = None
    nested = driver.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    # In a savepoint, unprepared: psycopg forgets its prepared statements on a ROLLBACK (TO
    # SAVEPOINT), and then lost track of those prepared in the pipeline ("prepared statement
    # _pg3_0 does not exist" on the next one). An autocommit connection never sends one.
    prepare = False if nested else None
    with driver.cursor(row_factory=factory) as cursor:
        try:
            with driver.pipeline():
                if nested:
                    driver.execute(f"SAVEPOINT {_SAVEPOINT}", prepare=False)
                driver.execute(ACT, acting, prepare=prepare)
                cursor.execute(sql, params, prepare=prepare)
                if nested:
                    driver.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}", prepare=False)
        except psycopg.Error:
            if nested and not driver.broken:
                driver.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}", prepare=False)
                driver.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}", prepare=False)
            raise
        return cursor.fetchall()


# (id of a statement, dialect) -> (the statement, its SQL); the statement is kept so its id
# is never reused by another while in here. Only statements built once go in, so it stays small.
_PREBUILT: dict[tuple[int, str], tuple[Executable, str]] = {}


# The role every request acts as (created by the migration a3c9e5f1b7d2): row-level security
# applies to it, with the acting unit in the setting chaindb.unit_id. The connecting user (the
# owner of the tables) acts as itself outside requests: the CLI, the seeds, the report refresher.
APP_ROLE = "chaindb_app"

ACT = (
    "SELECT set_config('role', %(role)s, %(local)s), "
    "set_config('chaindb.unit_id', %(unit)s, %(local)s), "
    "set_config('chaindb.actor', %(actor)s, %(local)s), "
    "set_config('chaindb.request_id', %(request_id)s, %(local)s)"
)


def act(connection: Connection, *, local: bool) -> None:
    """Make the connection act for the request: as APP_ROLE, for the principal's unit (none
    before a principal is known: no project in scope, nothing writable), with the principal's
    name and the request id for the change log. `local`: for the transaction (SET LOCAL);
    else for the session, as an autocommit connection needs (the next request's act replaces
    it). Outside a request: as the connecting user again, for nobody.

    An autocommit connection (the read pool's) remembers whom it acts for, and the round trip
    is saved when the next request acts as the same role for the same unit and user. Its
    request id is then the last request's: only writes record it (the change log), and an
    autocommit connection is only ever given to reads."""
    _act(
        connection.connection.driver_connection,
        _acting(local),
        lambda params: run_sql(connection, ACT, params, dicts=False),
    )


def _act(driver: psycopg.Connection, params: dict[str, Any], run: Any) -> None:
    """act() on a psycopg connection, the statement sent by `run(params)`."""
    if params["local"] or not driver.autocommit:
        if not params["local"]:
            _ACTING.pop(driver, None)  # its session acts for someone else now
        run(params)
        return
    acting = (params["role"], params["unit"], params["actor"])
    if _ACTING.get(driver) == acting:
        return
    _ACTING.pop(driver, None)  # unknown if the statement fails half-way
    run(params)
    _ACTING[driver] = acting


# Whom each autocommit connection acts for, by its psycopg connection: a connection the pool
# replaces is a new object, and starts unknown.
_ACTING: weakref.WeakKeyDictionary[Any, tuple[str, str, str]] = weakref.WeakKeyDictionary()


def _acting(local: bool) -> dict[str, Any]:
    """The settings act() makes: for the request's principal, or for nobody outside one."""
    if has_request_context():
        return acting_for(g.get("principal"), g.get("request_id", ""), local=local)
    return {"role": "none", "unit": "", "actor": "", "request_id": "", "local": local}


def acting_for(principal: Any, request_id: str, *, local: bool) -> dict[str, Any]:
    """The settings act() makes for a request of `principal` (None: nobody yet)."""
    scope = getattr(principal, "scope", None)
    unit = getattr(scope, "unit_id", None)
    return {
        "role": APP_ROLE,
        "unit": "" if unit is None else str(unit),
        "actor": principal.username if principal is not None else "",
        "request_id": request_id,
        "local": local,
    }


def act_as_owner(connection: Connection) -> None:
    """For the rest of the transaction, act as the connecting user (the tables' owner), for
    what only the owner may do: refresh a materialized view. The caller checked the role."""
    run_sql(connection, "SELECT set_config('role', 'none', true)", {}, dicts=False)


def _act_on_begin(session: Session, transaction: Any, connection: Connection) -> None:
    """A session's transaction acts for the request (Session event after_begin): SET LOCAL in
    a real transaction; in autocommit (the read pool) for the connection's session."""
    act(connection, local=not _autocommit(connection))


def _autocommit(connection: Connection) -> bool:
    """Whether the connection commits each statement (the read pool): asked of the driver, with
    no round trip (Connection.get_isolation_level() asks the server, and never says
    AUTOCOMMIT: a SET LOCAL there lasted one statement, and the reads ran as the owner)."""
    return bool(connection.connection.driver_connection.autocommit)


def _close(session: Session, *, rollback: bool) -> None:
    """End a request's session. Its connection may have died under it (a failover, a server
    restart): rolling back then fails, and so would a close that rolls back. Such a session's
    connections are invalidated instead (the pool replaces them); the request was answered (a
    503 if it noticed) and its teardown must not fail after the answer."""
    try:
        if rollback:
            session.rollback()
        session.close()
    except DBAPIError:
        session.invalidate()


class Database:
    """Flask extension: an engine per app, a session per request, closed at teardown."""

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, *, engine: Engine | Connection | None = None) -> None:
        """`engine` may be a Connection: tests bind the app to their rolled-back transaction."""
        self.bind(app, engine)
        app.teardown_appcontext(self._close_session)

    @staticmethod
    def bind(app: Flask, engine: Engine | Connection | None) -> None:
        """Point the app at its database: pools of its own for the URL in its config (None),
        an engine, or a test's Connection (the tests' one app is bound to each test's
        transaction in turn)."""
        settings: Settings = app.config["SETTINGS"]
        read_engine: Engine | Connection
        if engine is None:
            url = app.config["SQLALCHEMY_URL"]
            pools = {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow}
            engine = make_engine(url, **pools)
            # Reads need no transaction: in autocommit they save the BEGIN and ROLLBACK round
            # trips. Their own pool keeps its connections in autocommit (switching a shared
            # connection back and forth costs on every checkout), and a connection that is never
            # rolled back keeps psycopg's prepared statements.
            read_engine = make_engine(url, **pools, isolation_level="AUTOCOMMIT")
        elif isinstance(engine, Engine):
            read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        else:
            read_engine = engine  # a test's Connection keeps its one transaction for both
        maker = sessionmaker(
            bind=engine, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        reader = (
            maker
            if read_engine is engine
            else sessionmaker(bind=read_engine, expire_on_commit=False)
        )
        for made in {maker, reader}:
            event.listen(made, "after_begin", _act_on_begin)
        replica = None
        if isinstance(engine, Engine) and settings.database_replica_url:
            # Reports on a standby, in transactions: a streamed export's server-side cursor
            # needs one, and a report reads several statements from one snapshot.
            replica_engine = make_engine(
                settings.database_replica_url,
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_max_overflow,
            )
            replica = sessionmaker(bind=replica_engine, expire_on_commit=False)
            event.listen(replica, "after_begin", _act_on_begin)
        app.extensions["chaindb.db"] = {
            "engine": engine,
            "read_engine": read_engine,
            "sessionmaker": maker,
            "reader": reader,
            "replica": replica,
        }

    @staticmethod
    def engine(app: Flask) -> Engine:
        return app.extensions["chaindb.db"]["engine"]

    @staticmethod
    def dispose(app: Flask) -> None:
        """Close the pools' connections (an app made for a while, e.g. in a test or a command)."""
        for name in ("engine", "read_engine"):
            engine = app.extensions["chaindb.db"][name]
            if isinstance(engine, Engine):
                engine.dispose()
        replica = app.extensions["chaindb.db"]["replica"]
        if replica is not None:
            replica.kw["bind"].dispose()

    @property
    def session(self) -> Session:
        from flask import current_app

        if "db_session" not in g:
            makers = current_app.extensions["chaindb.db"]
            read_only = request.method in ("GET", "HEAD") if has_request_context() else False
            g.db_session = makers["reader" if read_only else "sessionmaker"]()
        return g.db_session

    @property
    def report_session(self) -> Session:
        """Where the reports read: a session on the standby of DATABASE_REPLICA_URL when one is
        configured (GET and HEAD; a refresh, a POST, writes on the leader), else the request's
        session. A report that streams (an export) reads from it too: Database.stream keeps it
        open for the stream."""
        from flask import current_app

        replica = current_app.extensions["chaindb.db"]["replica"]
        if replica is None or request.method not in ("GET", "HEAD"):
            return self.session
        if "db_report_session" not in g:
            g.db_report_session = replica()
        return g.db_report_session

    @property
    def replicated(self) -> bool:
        """Whether the reports read from a standby (DATABASE_REPLICA_URL) on this request."""
        from flask import current_app

        return current_app.extensions["chaindb.db"]["replica"] is not None and (
            request.method in ("GET", "HEAD")
        )

    @property
    def report_streaming_session(self) -> Session:
        """A report's session for a server-side cursor: report_session on a standby (in a
        transaction already), else streaming_session."""
        from flask import current_app

        if current_app.extensions["chaindb.db"]["replica"] is None:
            return self.streaming_session
        return self.report_session

    @property
    def reader(self) -> Connection:
        """A Core connection for reads that need no ORM (the API's lists and reads by key):
        autocommit on the read pool, no Session to make and close. A test's Connection serves
        as it is, inside its transaction."""
        from flask import current_app

        if "db_reader" not in g:
            read_engine = current_app.extensions["chaindb.db"]["read_engine"]
            g.db_reader = read_engine.connect() if isinstance(read_engine, Engine) else read_engine
            g.db_reader_owned = isinstance(read_engine, Engine)
            act(g.db_reader, local=False)
        return g.db_reader

    @staticmethod
    def read_pool(app: Flask) -> Engine | None:
        """The engine of the read pool (autocommit); None when the app is bound to a test's
        Connection."""
        engine = app.extensions["chaindb.db"]["read_engine"]
        return engine if isinstance(engine, Engine) else None

    @staticmethod
    def read_pooled(
        engine: Engine, principal: Any, request_id: str, sql: str, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The rows of `sql` as dicts, read on a connection of the read pool (read_pool) acting
        for `principal` in request `request_id`, outside Flask's request (chaindb.api.fast).
        The connection goes back to the pool; one found broken is dropped (the pool replaces
        it). psycopg's errors are raised as they are."""
        fairy = engine.raw_connection()
        driver = fairy.driver_connection
        try:
            _act(
                driver,
                acting_for(principal, request_id, local=False),
                lambda params: driver.execute(ACT, params),
            )
            with driver.cursor(row_factory=dict_row) as cursor:
                return cursor.execute(sql, params).fetchall()
        except psycopg.Error:
            if driver.broken or driver.closed:
                fairy.invalidate()
            raise
        finally:
            fairy.close()

    @staticmethod
    @contextlib.contextmanager
    def reading_pooled(engine: Engine, principal: Any, request_id: str) -> Iterator[Connection]:
        """A Core connection of the read pool (read_pool) acting for `principal` in request
        `request_id`, outside Flask's request (chaindb.api.fast): what `reader` is inside one.
        It goes back to the pool at the end of the block."""
        with engine.connect() as connection:
            driver = connection.connection.driver_connection
            _act(
                driver,
                acting_for(principal, request_id, local=False),
                lambda params: run_sql(connection, ACT, params, dicts=False),
            )
            yield connection

    @contextlib.contextmanager
    def one_statement(self) -> Iterator[Connection]:
        """A connection for a request whose write is one statement and nothing else (a new
        supply link, a stage move), run by run_sql: the statement reaches the server in one
        message with the request's acting settings (act(), for its transaction) and is its own
        transaction. Through the request's session it took four round trips (BEGIN, act, the
        statement, COMMIT), and a Session made and closed around them.

        The connection is one of the autocommit pool (Database.reader's) and runs that one
        statement only: a second, or any statement through SQLAlchemy, is refused (it would
        run outside the transaction, acting for whoever the connection acted for last). A
        test's Connection serves as it is, the statement in a savepoint of its transaction."""
        from flask import current_app

        engine = current_app.extensions["chaindb.db"]["read_engine"]
        if isinstance(engine, Engine):
            with self.one_statement_on(engine, _acting(local=True)) as connection:
                yield connection
            return
        # A test's Connection: the request's session holds a savepoint of it (from reading the
        # token) that its teardown rolls back, and the statement's with it: released first, as
        # the session's own connection is apart from this one.
        session: Session | None = g.get("db_session")
        if session is not None and session.in_transaction():
            session.commit()
        engine.info[ONE_STATEMENT] = _acting(local=True)
        try:
            yield engine
        finally:
            engine.info.pop(ONE_STATEMENT, None)

    @staticmethod
    @contextlib.contextmanager
    def one_statement_on(engine: Engine, acting: dict[str, Any]) -> Iterator[Connection]:
        """one_statement() on a connection of `engine` (the autocommit pool), acting as `acting`
        says (acting_for(..., local=True)): outside Flask's request too (chaindb.api.fast)."""
        with engine.connect() as connection:
            connection.info[ONE_STATEMENT] = acting
            try:
                yield connection
            finally:
                # Connection.info stays with the pooled connection: the mark must not.
                connection.info.pop(ONE_STATEMENT, None)

    def act_now(self) -> None:
        """The principal is known: the handles this request has opened act for it from now
        on (those it opens later do by themselves)."""
        reader: Connection | None = g.get("db_reader")
        if reader is not None:
            act(reader, local=False)
        for name in ("db_session", "db_streaming_session", "db_report_session"):
            session: Session | None = g.get(name)
            if session is not None and session.in_transaction():
                connection = session.connection()
                act(connection, local=not _autocommit(connection))

    @property
    def streaming_session(self) -> Session:
        """A session that reads inside a transaction, as a server-side cursor needs (streamed
        exports); the request's own session reads in autocommit on GET."""
        from flask import current_app

        makers = current_app.extensions["chaindb.db"]
        if not isinstance(makers["engine"], Engine):
            return self.session  # a test's Connection: its one transaction serves every read
        if "db_streaming_session" not in g:
            g.db_streaming_session = makers["sessionmaker"]()
        return g.db_streaming_session

    @staticmethod
    def stream(body: Iterator[Any]) -> Iterator[Any]:
        """A response body that reads from streaming_session after the view has returned.

        Flask tears the app context down when the view returns, and again when the stream ends
        (or the server closes it): the first teardown leaves streaming_session open for the
        stream, the second closes it. (Closed at the first, the session began anew on the
        stream's first read, and that connection never went back to the pool.)"""
        g.db_stream_pending = True
        return stream_with_context(body)

    @staticmethod
    def _close_session(exc: BaseException | None) -> None:
        reader: Connection | None = g.pop("db_reader", None)
        if reader is not None and g.pop("db_reader_owned", False):
            reader.close()

        streaming = g.pop("db_stream_pending", False) and exc is None
        for name in ("db_session", "db_streaming_session", "db_report_session"):
            if streaming and name in ("db_streaming_session", "db_report_session"):
                continue  # the stream reads on; the teardown after it closes the session
            session: Session | None = g.pop(name, None)
            if session is not None:
                _close(session, rollback=exc is not None)
        from flask import current_app

        bound = current_app.extensions["chaindb.db"]["engine"]
        if isinstance(bound, Connection) and not bound.closed and bound.in_transaction():
            # A test's Connection, which the test goes on using: back to the test's own user.
            with contextlib.suppress(DBAPIError):  # a failed transaction: rolled back
                run_sql(bound, "SELECT set_config('role', 'none', false)", {}, dicts=False)


db = Database()
