"""The declarative base, the engine and one session per request."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from flask import Flask, g, has_request_context, request
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Connection,
    DateTime,
    Engine,
    Identity,
    MetaData,
    create_engine,
    func,
)
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


def is_id(text: str) -> bool:
    """Text that names a row by its surrogate key: ASCII digits that fit a bigint."""
    return text.isascii() and text.isdigit() and len(text) < 19


def id_column(comment: str = "Surrogate key") -> Mapped[int]:
    return mapped_column(BigInteger, Identity(), primary_key=True, comment=comment)


def one_of(column: str, values: Iterable[str] | type[StrEnum], *, name: str) -> CheckConstraint:
    """A CHECK that keeps a text column inside a closed vocabulary."""
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


def make_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


class Database:
    """Flask extension: an engine per app, a session per request, closed at teardown."""

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, *, engine: Engine | Connection | None = None) -> None:
        """`engine` may be a Connection: tests bind the app to their rolled-back transaction."""
        settings: Settings = app.config["SETTINGS"]
        if engine is None:
            engine = make_engine(app.config["SQLALCHEMY_URL"], pool_size=settings.db_pool_size)
        maker = sessionmaker(
            bind=engine, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        # Reads need no transaction of their own: in autocommit they save the BEGIN and the
        # ROLLBACK round trips. (A test's Connection keeps its one transaction for both.)
        reader = (
            sessionmaker(
                bind=engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
            )
            if isinstance(engine, Engine)
            else maker
        )
        app.extensions["chaindb.db"] = {"engine": engine, "sessionmaker": maker, "reader": reader}
        app.teardown_appcontext(self._close_session)

    @staticmethod
    def engine(app: Flask) -> Engine:
        return app.extensions["chaindb.db"]["engine"]

    @property
    def session(self) -> Session:
        from flask import current_app

        if "db_session" not in g:
            makers = current_app.extensions["chaindb.db"]
            read_only = request.method in ("GET", "HEAD") if has_request_context() else False
            g.db_session = makers["reader" if read_only else "sessionmaker"]()
        return g.db_session

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
    def _close_session(exc: BaseException | None) -> None:
        for name in ("db_session", "db_streaming_session"):
            session: Session | None = g.pop(name, None)
            if session is not None:
                if exc is not None:
                    session.rollback()
                session.close()


db = Database()
