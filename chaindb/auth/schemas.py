"""Users and API tokens as the API shows them: never a password, a hash or (but once) a token."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from chaindb.access import Role
from chaindb.api.schemas import ReadSchema, Schema, ShortText
from chaindb.auth.service import MIN_PASSWORD

USERNAME = r"^[A-Za-z0-9_.@-]{2,64}$"
PASSWORD = Field(
    None,
    min_length=MIN_PASSWORD,
    max_length=1024,
    description=f"At least {MIN_PASSWORD} characters; stored hashed (scrypt) only",
)


class UserRead(ReadSchema):
    username: str
    display_name: str | None
    role: Role = Field(
        description="In the user's unit: admin (manages its users; the city bureau's, every "
        "user), reviewer (approves what units report), editor (writes) or viewer (reads)"
    )
    unit_id: int = Field(description="The office the user works for (units)")
    active: bool = Field(description="False: the user's tokens no longer work")
    has_password: bool = Field(description="Whether the user can sign in with a password")


class UserCreate(Schema):
    username: str = Field(
        pattern=USERNAME, description="2-64 letters, digits or _ . @ -; unique regardless of case"
    )
    role: Role
    unit: str | None = Field(
        None,
        description="The user's office, by code (city, chain-<chain>, district-<code>) or id; "
        "empty: the administrator's own",
    )
    display_name: ShortText | None = None
    password: str | None = PASSWORD


class UserUpdate(Schema):
    """The fields to change; password null removes the password (tokens still work)."""

    role: Role | None = None
    unit: str | None = Field(
        None,
        description="Move the user to this unit (code or id); only where the "
        "administrator manages both",
    )
    display_name: ShortText | None = None
    active: bool | None = None
    password: str | None = PASSWORD


class TokenStatus(StrEnum):
    LIVE = "live"
    EXPIRED = "expired"
    REVOKED = "revoked"


class TokenCreate(Schema):
    name: ShortText | None = Field(None, description="What the token is for")
    expires_in_days: int | None = Field(
        None, ge=1, le=3650, description="Days until it expires; empty: never"
    )


class TokenRead(BaseModel):
    """A token as lists show it: its first characters, never the token or its hash."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str | None
    token_prefix: str = Field(description="The token's first characters, to recognise it")
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime
    status: TokenStatus = Field(description="live, expired or revoked")


class TokenCreated(TokenRead):
    token: str = Field(
        description="The token itself (Authorization: Bearer <token>); shown this once only"
    )
