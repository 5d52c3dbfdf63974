from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from chaindb.access import Role
from chaindb.db import Base, Timestamped, id_column, one_of


class User(Timestamped, Base):
    """A person or system that uses chaindb."""

    __tablename__ = "app_user"
    __table_args__ = (
        one_of("role", Role, name="role"),
        CheckConstraint("locale IN ('zh', 'en')", name="locale"),
        CheckConstraint("username ~ '^[A-Za-z0-9_.@-]{2,64}$'", name="username_format"),
        Index("uq_app_user_username_lower", text("lower(username)"), unique=True),
        {"comment": "Users of chaindb, with their role; passwords are stored hashed only"},
    )

    id: Mapped[int] = id_column()
    username: Mapped[str] = mapped_column(
        String(64), comment="Sign-in name, unique regardless of case"
    )
    display_name: Mapped[str | None] = mapped_column(Text, comment="Name shown in the app")
    role: Mapped[str] = mapped_column(
        String(8),
        comment="In the user's unit: admin (manages its users; the city bureau's, every user), "
        "reviewer (approves what units report), editor (writes) or viewer (reads)",
    )
    unit_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("unit.id", ondelete="RESTRICT"),
        index=True,
        comment="The office the user works for: what they may see and change",
    )
    password_hash: Mapped[str | None] = mapped_column(
        Text, comment="Password hash (werkzeug scrypt); NULL = cannot sign in with a password"
    )
    active: Mapped[bool] = mapped_column(
        Boolean, server_default=text("true"), comment="False = may no longer sign in or use tokens"
    )
    locale: Mapped[str | None] = mapped_column(
        String(8),
        comment="Language of the web pages the user chose: zh or en; NULL = the browser's",
    )

    # Flask-Login's user protocol: the pages sign in a User itself.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    # The sign-in session this user object was loaded for or signed in with (UserSession):
    # its secret, which the session cookie holds and the server keeps the hash of.
    session_token = None  # str | None; not a column

    def get_id(self) -> str:
        """What the session cookie holds: the id, a fingerprint of the password hash (a changed
        password ends every other session of the user) and the sign-in session's token (signing
        out ends it on the server: a copied cookie stops working)."""
        fingerprint = hashlib.sha256((self.password_hash or "").encode()).hexdigest()[:16]
        return f"{self.id}.{fingerprint}.{self.session_token or ''}"


class ApiToken(Timestamped, Base):
    """A bearer token for the API; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint("token_hash ~ '^[0-9a-f]{64}$'", name="token_hash_format"),
        {"comment": "API tokens (Authorization: Bearer ...): stored as SHA-256 hashes, may expire"},
    )

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("app_user.id", ondelete="CASCADE"),
        index=True,
        comment="The user the token acts for",
    )
    name: Mapped[str | None] = mapped_column(Text, comment="What the token is for")
    token_prefix: Mapped[str] = mapped_column(
        String(12), comment="First characters of the token, to recognise it in lists"
    )
    token_hash: Mapped[str] = mapped_column(
        String(64), unique=True, comment="SHA-256 of the token, hex"
    )
    expires_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="When the token stops working; NULL = never"
    )
    revoked_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="When the token was revoked"
    )
    last_used_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="Last time the token authenticated a request"
    )


class UserSession(Base):
    """A sign-in to the web pages, live until its user signs out (not in change_log: a log)."""

    __tablename__ = "user_session"
    __table_args__ = (
        CheckConstraint("token_hash ~ '^[0-9a-f]{64}$'", name="token_hash_format"),
        {
            "comment": "Sign-ins to the web pages: the session cookie holds a token whose SHA-256 "
            "is here; signing out ends the row, and a cookie whose row ended no longer works"
        },
    )

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("app_user.id", ondelete="CASCADE"),
        index=True,
        comment="The user signed in",
    )
    token_hash: Mapped[str] = mapped_column(
        String(64), unique=True, comment="SHA-256 of the session's token, hex"
    )
    started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), comment="When the user signed in"
    )
    ended_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="When the user signed out; NULL while it lasts"
    )


class LoginAttempt(Base):
    """One password sign-in attempt to the web pages (not in change_log: it is a log itself)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_attempted_at", "username", "attempted_at"),
        Index("ix_login_attempt_remote_addr_attempted_at", "remote_addr", "attempted_at"),
        {
            "comment": "Every password sign-in attempt to the web pages: the rate limit counts "
            "the recent failures"
        },
    )

    id: Mapped[int] = id_column()
    username: Mapped[str] = mapped_column(
        Text, comment="The name typed, lower-cased (it may name no user)"
    )
    remote_addr: Mapped[str | None] = mapped_column(
        Text, comment="Client address the attempt came from"
    )
    succeeded: Mapped[bool] = mapped_column(
        Boolean, comment="True when the password was right and the sign-in allowed"
    )
    attempted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), comment="When the attempt was made"
    )
