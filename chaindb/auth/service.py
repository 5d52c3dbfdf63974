"""Users and API tokens: passwords hashed with scrypt, tokens stored as SHA-256 only."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from chaindb.access import Principal, Role
from chaindb.auth.models import ApiToken, LoginAttempt, User, UserSession
from chaindb.errors import N_, Conflict, DomainError, Invalid, NotFound, Unauthorized
from chaindb.units.service import find_unit, scope_of

TOKEN_PREFIX = "cdb_"
MIN_PASSWORD = 10
LAST_USED_EVERY = timedelta(minutes=10)


def hash_token(token: str) -> str:
    # Tokens are 256 random bits: a fast hash is as safe as a slow one, and lookups stay cheap.
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    *,
    session: Session,
    username: str,
    role: str,
    password: str | None,
    display_name: str | None = None,
    unit: int | str = "city",
) -> User:
    """A user of `unit` (id or code; the city bureau by default)."""
    if role not in set(Role):
        raise Invalid(
            "role must be one of %(roles)s", params={"roles": ", ".join(Role)}, field="role"
        )
    if password is not None and len(password) < MIN_PASSWORD:
        raise Invalid(
            "a password needs at least %(count)s characters",
            params={"count": MIN_PASSWORD},
            field="password",
        )
    taken = session.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
    if taken:
        raise Conflict(
            "a user named %(name)r already exists", params={"name": username}, field="username"
        )
    user = User(
        username=username,
        role=role,
        unit_id=find_unit(session, unit).id,
        display_name=display_name,
        password_hash=generate_password_hash(password) if password else None,
    )
    session.add(user)
    session.flush()
    return user


def start_session(session: Session, user: User) -> None:
    """A sign-in to the pages: a new token for the session cookie (user.get_id() holds it from
    now on), only its SHA-256 kept on the server until the user signs out."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(user_id=user.id, token_hash=hash_token(token)))
    session.flush()
    user.session_token = token


def end_session(session: Session, cookie_value: str | None) -> None:
    """Signing out: the session the cookie names ends on the server (a copy of the cookie,
    kept or stolen, no longer works)."""
    token = (cookie_value or "").split(".")[-1]
    if token:
        session.execute(
            update(UserSession)
            .where(UserSession.token_hash == hash_token(token), UserSession.ended_at.is_(None))
            .values(ended_at=func.now())
        )


def session_user(session: Session, cookie_value: str) -> User | None:
    """The user of a live sign-in session, from the session cookie's value (id, password
    fingerprint, token), or None: no such user, an ended session, a changed password."""
    user_id, _, rest = cookie_value.partition(".")
    token = rest.rpartition(".")[2]
    if not (user_id.isascii() and user_id.isdigit() and len(user_id) < 19 and token):
        return None
    user = session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            User.id == int(user_id),
            UserSession.token_hash == hash_token(token),
            UserSession.ended_at.is_(None),
        )
    )
    if user is None or not user.active:
        return None
    user.session_token = token
    return user if user.get_id() == cookie_value else None


def find_user(*, session: Session, username: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        raise NotFound("no user named %(name)r", params={"name": username}, field="username")
    return user


def _decoy_hash() -> str:
    """A password hash made once per process, checked when no user has the name: one scrypt
    check either way (hashing a decoy on every attempt made an unknown name take twice as long
    as a wrong password, which told the names that exist)."""
    global _DECOY
    if _DECOY is None:
        _DECOY = generate_password_hash(secrets.token_urlsafe(16))
    return _DECOY


_DECOY: str | None = None


def check_password(*, session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None or not user.active or not user.password_hash:
        # Same work either way, so the answer's timing does not tell which names exist.
        check_password_hash(_decoy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def create_token(
    *, session: Session, user: User, name: str | None = None, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token for user; the plain token is returned once and never stored."""
    if expires_in_days is not None and expires_in_days <= 0:
        raise Invalid("expires_in_days must be positive", field="expires_in_days")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_prefix=plain[:12],
        token_hash=hash_token(plain),
        expires_at=datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    session.flush()
    return token, plain


def authenticate_token(
    *, session: Session, plain: str, cache: TokenCache | None = None
) -> Principal | None:
    """The principal behind a bearer token, or None when it is unknown, expired or revoked."""
    digest = hash_token(plain)
    if cache is not None and (cached := cache.get(digest)) is not None:
        return cached
    row = session.execute(
        select(
            ApiToken.id,
            User.id,
            User.username,
            User.role,
            ApiToken.last_used_at,
            ApiToken.expires_at,
            User.unit_id,
        )
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == digest,
            ApiToken.revoked_at.is_(None),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > func.now()),
            User.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    last_used = row[4]
    if last_used is None or last_used < datetime.now(UTC) - LAST_USED_EVERY:
        # Recorded coarsely: a write on every request would cost more than it tells.
        session.execute(
            update(ApiToken).where(ApiToken.id == row[0]).values(last_used_at=func.now())
        )
        session.info["token_stamped"] = True  # the caller commits it
    principal = Principal(
        user_id=row[1], username=row[2], role=Role(row[3]), scope=scope_of(session, row[6])
    )
    if cache is not None:
        cache.put(digest, principal, row[5])
    return principal


class TokenCache:
    """token digest -> principal, for a few seconds: most requests then skip the lookup."""

    MAX_ENTRIES = 10_000

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, digest: str) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop(digest, None)
            return None
        return entry[1]

    def put(self, digest: str, principal: Principal, expires_at: datetime | None) -> None:
        if self.seconds <= 0:
            return
        until = time.monotonic() + self.seconds
        if expires_at is not None:  # never past the token's own expiry
            until = min(until, time.monotonic() + (expires_at - datetime.now(UTC)).total_seconds())
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[digest] = (until, principal)

    def clear(self) -> None:
        self._entries.clear()


def revoke_token(*, session: Session, token_id: int) -> None:
    done = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    if done.rowcount == 0:
        raise NotFound("no live token with id %(id)s", params={"id": token_id}, field="id")


# --- sign-in to the web pages --------------------------------------------------------------------

# Failures counted over this window. Past a few, each further attempt must wait after the last
# failure, the wait doubling with each failure up to a cap: guessing slows to a crawl, while the
# real owner (or a colleague behind the same address) waits seconds, never the whole window.
SIGN_IN_WINDOW = timedelta(minutes=15)
FREE_FAILURES_PER_NAME = 5  # then 1 s, 2 s, 4 s ... up to MAX_WAIT_PER_NAME between attempts
FREE_FAILURES_PER_ADDRESS = 20
MAX_WAIT_PER_NAME = timedelta(seconds=60)
MAX_WAIT_PER_ADDRESS = timedelta(seconds=300)


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


def backoff(failures: int, free: int, cap: timedelta) -> timedelta:
    """How long after the last failure the next attempt must wait: none for the first `free`
    failures, then 1 s doubling with each one, at most `cap`."""
    if failures < free:
        return timedelta(0)
    return min(cap, timedelta(seconds=2 ** min(failures - free, 30)))


def sign_in(*, session: Session, username: str, password: str, remote_addr: str | None) -> User:
    """The user these credentials name, after the rate limit; every attempt is recorded.

    Refusals say nothing about which of name or password was wrong. The limit counts failures
    in the database, so it holds across every worker process; attempts on one name wait for
    each other (a transaction-level advisory lock), so parallel guesses are counted one by one.
    The caller commits, which releases the lock.
    """
    name = username.strip().lower()
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('chaindb.sign_in:' || :name, 0))"),
        {"name": name},
    )
    since = func.now() - SIGN_IN_WINDOW
    failures = select(func.count(), func.max(LoginAttempt.attempted_at), func.now()).where(
        LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at > since
    )
    waits = []
    count, last, now = session.execute(failures.where(LoginAttempt.username == name)).one()
    if last is not None:
        waits.append(last + backoff(count, FREE_FAILURES_PER_NAME, MAX_WAIT_PER_NAME) - now)
    if remote_addr:
        count, last, now = session.execute(
            failures.where(LoginAttempt.remote_addr == remote_addr)
        ).one()
        if last is not None:
            waits.append(
                last + backoff(count, FREE_FAILURES_PER_ADDRESS, MAX_WAIT_PER_ADDRESS) - now
            )
    wait = max(waits, default=timedelta(0))
    if wait > timedelta(0):
        raise TooManyAttempts(
            N_("Too many failed sign-in attempts. Wait %(seconds)s seconds and try again."),
            params={"seconds": max(1, int(wait.total_seconds() + 0.999))},
            field="password",
        )
    user = check_password(session=session, username=name, password=password)
    session.add(
        LoginAttempt(username=name[:200], remote_addr=remote_addr, succeeded=user is not None)
    )
    session.flush()
    if user is None:
        raise Unauthorized(N_("Wrong user name or password."), field="password")
    return user
