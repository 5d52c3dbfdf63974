from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from chaindb.db import Base, Timestamped, id_column, one_of


class Role(StrEnum):
    ADMIN = "admin"  # manages users, and everything an editor does
    EDITOR = "editor"  # reads and writes the data
    VIEWER = "viewer"  # reads


ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.ADMIN: 3}


class User(Timestamped, Base):
    """A person or system that uses chaindb."""

    __tablename__ = "app_user"
    __table_args__ = (
        one_of("role", Role, name="role"),
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
        String(8), comment="admin (manages users), editor (writes) or viewer (reads)"
    )
    password_hash: Mapped[str | None] = mapped_column(
        Text, comment="Password hash (werkzeug scrypt); NULL = cannot sign in with a password"
    )
    active: Mapped[bool] = mapped_column(
        Boolean, server_default=text("true"), comment="False = may no longer sign in or use tokens"
    )


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
