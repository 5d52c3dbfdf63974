"""Reads by id and lists answered in front of Flask: the hottest calls of the API for less.

`GET /api/v1/<resource>/<id>` is what a client does most (a form opened, a record refreshed, a
list's rows looked up one by one). Through Flask it spent about 0.38 ms of Python on two
contexts, routing, eight hooks, a SQLAlchemy Connection and a Response object around a query of
0.07 ms (docs/performance.md). FastReads, a WSGI middleware in front of the Flask app, answers
the common case of that request itself, exactly as Flask would, and hands everything else to
Flask untouched:

- a GET (not HEAD) with no query string, of a path `/api/v1/<resource>/<digits>` that the app
  routes to the resource's generic read (chaindb.api.routes), of a resource whose reads are the
  generic ones (no read, dump or lookup of its own), whose key in the URL is the id alone;
- from a client whose bearer token the gate trusted a moment ago (the gate's token cache: no
  database, as in the gate); any other token, or none, goes to Flask, which checks it, stamps it
  and answers 401 where it should;
- answered 200 (or 304 for a matching If-None-Match) with the same body, ETag and X-Request-ID;
  a record not found, out of scope or any failure goes to Flask, which answers it (404, 503) in
  the API's words and the client's language.

What it passes by must do nothing for such a request: every hook the app (and the resource's
blueprint) runs is one of KNOWN_HOOKS, each with the reason, or the fast path stays off for that
resource; the app's TRUSTED_HOSTS and SERVER_NAME (which Flask checks the Host against) keep it
off. The principal's scope is drawn by the resource itself (access.answering_for) and the
connection acts for the principal as a Flask read's does (row-level security, chaindb.db).

Lists (`GET /api/v1/<resource>?...`, the generic list route) are answered the same way: the
resource's own list_page on a read-pool connection, the query string parsed and the page links
built by werkzeug from the same environ as Flask's request would be. An export, a refused filter
or any failure is left to Flask, which runs the list again (it writes nothing).
tests/test_fast_reads.py compares both paths, header by header.

Writes of one statement (OneStatementWrite, registered by their domain: a supply link through
the chain-master workflow, a stage move) are answered the same way: the body parsed and
validated as the route does, the write run on Database.one_statement_on() (one round trip,
its own transaction), answered as the route answers it. Anything the fast path does not take
(another media type, a body too large, invalid JSON or values, If-Match, a token not trusted a
moment ago, a role that may not write) and every refusal go to Flask with the body as it came:
a refused write wrote nothing (its transaction rolled back), so Flask runs it again and words
the refusal in the API's words and the client's language. tests/test_fast_writes.py compares.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from flask import Flask, signals
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES, parse_etags, parse_options_header
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Request

from chaindb import access
from chaindb.access import Role
from chaindb.api import REQUEST_ID, new_request_id
from chaindb.api.reads import Reads, listing_at
from chaindb.api.responses import Responses, etag_of, to_json
from chaindb.api.routes import LAYOUTS
from chaindb.api.schemas import parse_body
from chaindb.db import acting_for, db, is_id, prebuilt_sql

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlalchemy import Connection

    from chaindb.api.resource import Resource

log = logging.getLogger(__name__)

# The hooks the fast path may pass by, as (module, qualified name), and why.
KNOWN_HOOKS = {
    # Assigns the request id and authenticates: the fast path does both (only a cached token).
    ("chaindb.api", "_before_request"),
    # Echoes the request id: so does the fast path.
    ("chaindb.api", "_echo_request_id"),
    # The pages' gate and headers: nothing under /api/.
    ("chaindb.web", "_gate"),
    ("chaindb.web", "_no_store"),
    # Forgets the cached tokens after a change of users or tokens: a read changes nothing.
    ("chaindb.auth.gate", "_forget_tokens"),
    # Closes the request's database handles: the fast path returns its own connection.
    ("chaindb.db", "Database._close_session"),
    # Flask-WTF's CSRF check: never for GET (nor anywhere under /api/: WTF_CSRF_CHECK_DEFAULT).
    ("flask_wtf.csrf", "CSRFProtect.init_app.<locals>.csrf_protect"),
    # Flask-Login's remember-me cookie: the API's requests have no session (chaindb.web).
    ("flask_login.login_manager", "LoginManager._update_remember_cookie"),
}
# What a resource must not override for its read by id to be the generic one (its key_lookups
# it may: the fast path asks it, and takes only a key that names the id alone).
GENERIC = (
    (Reads, ("get", "lookup_clause", "_lookup_statement", "scoped")),
    (Responses, ("dump", "detail_response")),
)

# The view of every generic list (chaindb.api.routes.blueprint): what the fast path answers in
# its stead. Its formats other than JSON (exports) and its refusals are left to it.
GENERIC_LIST = ("chaindb.api.routes", "blueprint.<locals>.list_")


@dataclass(frozen=True)
class OneStatementWrite:
    """A write route whose work is one statement (Database.one_statement), registered by its
    domain with answer_in_front(): the route and the fast path both run `write`.

    `write(connection, path_args, values)` makes the write on `connection` from the route's
    path arguments and the body as `parse_body(schema, ...)` returns it, and returns the row the
    route answers with (`resource.dump`, its ETag; a Location to `resource`'s read on 201). The
    fast path leaves a request with one of the headers `to_flask` (as environ keys) to Flask."""

    schema: type[BaseModel]
    write: Callable[[Connection, dict[str, Any], dict[str, Any]], dict[str, Any]]
    resource: Resource
    status: int = 200
    to_flask: tuple[str, ...] = ()


def answer_in_front(app: Flask, endpoint: str, write: OneStatementWrite) -> None:
    """Let the fast path answer the POSTs the app routes to `endpoint` (before install())."""
    app.extensions.setdefault("chaindb.api.fast_writes", {})[endpoint] = write


class FastReads:
    """The WSGI app in front of Flask's: reads by id, lists and the OneStatementWrites
    answered here, the rest by `app`."""

    def __init__(self, app: Flask, resources: Iterable[Resource]) -> None:
        self.flask = app
        self.wsgi_app = app.wsgi_app
        self.served = 0  # how many requests it answered (the tests look)
        self.routes: dict[str, Resource] = {}  # reads by id, by the path before the id
        self.lists: dict[str, Resource] = {}  # lists, by their path
        for resource in resources:
            prefix = f"/api/v1/{resource.name}/"
            if self._generic(resource, prefix):
                self.routes[prefix] = resource
            if self._generic_list(resource, prefix[:-1]):
                self.lists[prefix[:-1]] = resource
        self.writes: dict[str, OneStatementWrite] = {
            endpoint: write
            for endpoint, write in app.extensions.get("chaindb.api.fast_writes", {}).items()
            if self._quiet(write.resource, endpoint)
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "GET":
            path = environ.get("PATH_INFO", "")
            answer = None
            listed = self.lists.get(path)
            if listed is not None:
                answer = self._answer_list(listed, environ)
            elif not environ.get("QUERY_STRING"):
                prefix, _, key = path.rpartition("/")
                resource = self.routes.get(prefix + "/")
                if resource is not None and is_id(key):
                    answer = self._answer(resource, key, environ)
            if answer is not None:
                status, headers, body = answer
                self.served += 1
                start_response(status, headers)
                return [body]
        elif environ["REQUEST_METHOD"] == "POST" and self.writes:
            answer = self._answer_write(environ)
            if answer is not None:
                status, headers, body = answer
                self.served += 1
                start_response(status, headers)
                return [body]
        return self.wsgi_app(environ, start_response)

    def _reader(
        self, environ: dict[str, Any], role: Role = Role.VIEWER
    ) -> tuple[Engine, access.Principal] | None:
        """The read pool (autocommit) and the principal of a request the fast path may answer;
        None when it is off, the Host must be checked, or the token was not trusted a moment
        ago, or its role is below `role` (the gate's: a viewer reads, an editor writes)."""
        config = self.flask.config
        if not config.get("API_FAST_READS", True) or config.get("TRUSTED_HOSTS"):
            return None
        if config.get("SERVER_NAME"):
            return None
        engine = db.read_pool(self.flask)
        principal = self._principal(environ)
        if engine is None or principal is None or not principal.may(role):
            return None
        return engine, principal

    def _answer_write(
        self, environ: dict[str, Any]
    ) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """(status, headers, body) of a OneStatementWrite made, or None: Flask answers it, with
        the body as it came (read here, it is handed on)."""
        if not environ.get("PATH_INFO", "").startswith("/api/"):
            return None
        try:
            adapter = self.flask.url_map.bind_to_environ(environ)
            endpoint, args = adapter.match(method="POST")
        except (HTTPException, RequestRedirect):
            return None
        write = self.writes.get(endpoint)
        if write is None or any(environ.get(header) for header in write.to_flask):
            return None
        reader = self._reader(environ, Role.EDITOR)
        if reader is None:
            return None
        engine, principal = reader
        mimetype, _ = parse_options_header(environ.get("CONTENT_TYPE", ""))
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        limit = self.flask.config.get("MAX_CONTENT_LENGTH")
        if mimetype != "application/json" or length <= 0 or (limit and length > limit):
            return None
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)  # Flask reads it again if it answers
        given = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = given if REQUEST_ID.match(given) else new_request_id()
        try:
            # The app's context: its settings (a value to confirm) and its JSON, as the route's.
            with self.flask.app_context(), access.answering_for(principal):
                values = parse_body(write.schema, self.flask.json.loads(raw))
                acting = acting_for(principal, request_id, local=True)
                with db.one_statement_on(engine, acting) as connection:
                    row = write.write(connection, args, values)
        except Exception as error:  # nothing was written: Flask answers it in the API's words
            log.debug("write left to Flask: %r", error)
            return None
        body = write.resource.dump(row)
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("ETag", etag_of(body)),
        ]
        if write.status == 201:
            location = adapter.build(f"{write.resource.singular}.read", {"id": row["id"]})
            headers.append(("Location", location))
        headers.append(("X-Request-ID", request_id))
        return f"{write.status} {HTTP_STATUS_CODES[write.status].upper()}", headers, body

    def _answer(
        self, resource: Resource, key: str, environ: dict[str, Any]
    ) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """(status, headers, body) of the read, or None: Flask answers it."""
        reader = self._reader(environ)
        if reader is None:
            return None
        engine, principal = reader
        lookups = resource.key_lookups(key)
        if len(lookups) != 1 or lookups[0][0] != "id":
            return None  # the key may name a row by its natural key first: Flask tries both
        given = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = given if REQUEST_ID.match(given) else new_request_id()
        try:
            with access.answering_for(principal):
                stmt, params = resource._lookup_statement("id", "row")
            sql = prebuilt_sql(stmt, engine.dialect)
            rows = db.read_pooled(
                engine, principal, request_id, sql, {**params, "value": lookups[0][1]}
            )
        except (psycopg.Error, SQLAlchemyError) as error:  # a query refused, no connection
            # Flask answers it, as a read that failed there is answered (503, say).
            log.debug("read by id left to Flask: %s", error)
            return None
        if not rows:
            return None  # not there, or out of scope: Flask says which, in the API's words
        body = resource.dump(rows[0])
        tag = etag_of(body)
        matches = environ.get("HTTP_IF_NONE_MATCH")
        if matches and parse_etags(matches).contains(tag.strip('"')):
            return "304 NOT MODIFIED", [("ETag", tag), ("X-Request-ID", request_id)], b""
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("ETag", tag),
            ("X-Request-ID", request_id),
        ]
        return "200 OK", headers, body

    def _answer_list(
        self, resource: Resource, environ: dict[str, Any]
    ) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """(status, headers, body) of a page of the list as JSON, or None: Flask answers it
        (an export, a refused filter, any failure: a list reads and writes nothing, so Flask
        runs it again from the start)."""
        reader = self._reader(environ)
        if reader is None:
            return None
        engine, principal = reader
        # Werkzeug's request (no Flask context): the same query parsing, scheme, host and path.
        request = Request(environ)
        args = request.args
        if args.get("format", "json") != "json" or args.get("layout", "raw") not in LAYOUTS:
            return None  # an export, or a refusal
        given = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = given if REQUEST_ID.match(given) else new_request_id()
        base = f"{request.scheme}://{request.host}{request.root_path}{request.path}"
        try:
            with (
                access.answering_for(principal),
                listing_at(base),
                db.reading_pooled(engine, principal, request_id) as connection,
            ):
                page = resource.list_page(connection, args)
        except Exception as error:  # Flask answers it in the API's words
            log.debug("list left to Flask: %r", error)
            return None
        body = to_json(page)
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("X-Request-ID", request_id),
        ]
        return "200 OK", headers, body

    def _principal(self, environ: dict[str, Any]) -> access.Principal | None:
        """The principal of a bearer token the gate trusted a moment ago; None for any other."""
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        cached = self.flask.extensions.get("chaindb.api.cached_principal")
        return cached(token.strip()) if cached is not None else None

    def _generic(self, resource: Resource, prefix: str) -> bool:
        """Whether the app routes GET prefix<id> to the resource's generic read, through no
        hook but KNOWN_HOOKS and no signal receiver."""
        for base, names in GENERIC:
            if any(getattr(type(resource), name) is not getattr(base, name) for name in names):
                return False
        try:
            endpoint, _ = self.flask.url_map.bind("", "/").match(prefix + "1", method="GET")
        except (HTTPException, RequestRedirect):
            return False
        if endpoint != f"{resource.singular}.read":
            return False
        return self._quiet(resource, endpoint)

    def _generic_list(self, resource: Resource, path: str) -> bool:
        """Whether the app routes GET `path` to the generic list (chaindb.api.routes), through
        no hook but KNOWN_HOOKS and no signal receiver. (The resource's own list_page, filters
        and scope are its own code, which the fast path runs as the route does.)"""
        try:
            endpoint, _ = self.flask.url_map.bind("", "/").match(path, method="GET")
        except (HTTPException, RequestRedirect):
            return False
        view = self.flask.view_functions.get(endpoint)
        if endpoint != f"{resource.singular}.list_" or _name(view) != GENERIC_LIST:
            return False
        return self._quiet(resource, endpoint)

    def _quiet(self, resource: Resource, endpoint: str) -> bool:
        """Whether every hook the app runs for `endpoint` is one of KNOWN_HOOKS, and no signal
        has a receiver."""
        blueprint = endpoint.rpartition(".")[0]
        app = self.flask
        hooks = [
            *(f for scope in (None, blueprint) for f in app.before_request_funcs.get(scope, ())),
            *(f for scope in (None, blueprint) for f in app.after_request_funcs.get(scope, ())),
            *(f for scope in (None, blueprint) for f in app.teardown_request_funcs.get(scope, ())),
            *(f for scope in (None, blueprint) for f in app.url_value_preprocessors.get(scope, ())),
            *app.teardown_appcontext_funcs,
        ]
        unknown = [f for f in hooks if _name(f) not in KNOWN_HOOKS]
        busy = [
            s.name
            for s in (signals.request_started, signals.request_finished,
                      signals.got_request_exception, signals.appcontext_pushed,
                      signals.request_tearing_down, signals.appcontext_tearing_down)
            if s.receivers
        ]  # fmt: skip
        if unknown or busy:
            log.info(
                "%s of %s go through Flask: hooks %s, signals %s",
                endpoint,
                resource.name,
                [_name(f) for f in unknown],
                busy,
            )
            return False
        return True


def _name(function: Any) -> tuple[str, str]:
    function = getattr(function, "__func__", function)
    return (getattr(function, "__module__", ""), getattr(function, "__qualname__", ""))


def install(app: Flask, resources: Iterable[Resource]) -> None:
    """Put FastReads in front of the app's WSGI app (create_app, once everything is
    registered)."""
    app.wsgi_app = FastReads(app, resources)  # type: ignore[method-assign]
