"""The Flask app of chaindb: create_app() builds it with its extensions, blueprints and hooks."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from importlib import import_module
from inspect import iscoroutinefunction
from typing import Any

import orjson
from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import Babel
from flask_openapi3 import Info, OpenAPI

from chaindb.api.blueprint import documented as api_documented
from chaindb.config import Settings
from chaindb.database import resolve_url
from chaindb.db import db
from chaindb.errors import register_errorhandlers

LANGUAGES = ("zh", "en")
babel = Babel()


class JSONProvider(DefaultJSONProvider):
    """Request bodies read by orjson, which refuses as malformed (a 400) what json.loads takes or
    fails on: nesting deeper than 1,024 levels (json.loads recurses until Python stops it, a
    500), a lone UTF-16 surrogate (which no database text can hold), NaN and Infinity."""

    ensure_ascii = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)


class App(OpenAPI):
    """The Flask app. Flask asks `inspect` whether a function is a coroutine on every call of
    every hook and view (eight per API request); the answer never changes, so it is kept."""

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        known = self.__dict__.setdefault("_coroutine_functions", {})
        is_coroutine = known.get(func)
        if is_coroutine is None:
            is_coroutine = known[func] = iscoroutinefunction(func)
        return self.async_to_sync(func) if is_coroutine else func

    json_provider_class = JSONProvider

    @property
    def api_doc(self) -> dict[str, Any]:
        """The OpenAPI document. An app built undocumented (create_app's default) builds it
        the first time it is asked, from a twin app that documents its routes as it declares
        them, and keeps it."""
        if not self.spec_json and not self.config["API_DOCUMENTED"]:
            with _twin_lock:
                if not self.spec_json:
                    twin = create_app(
                        self.config["API_TWIN_CONFIG"],
                        settings=self.config["SETTINGS"],
                        documented=True,
                    )
                    self.spec_json = twin.api_doc
                    if "ENGINE" not in self.config["API_TWIN_CONFIG"]:
                        db.dispose(twin)  # its own pools (never used); not an engine it was given
        return super().api_doc


_twin_lock = threading.Lock()


def create_app(
    config: dict[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    documented: bool = False,
) -> Flask:
    """Build the app; the engine is created here, never at import. Its OpenAPI document is
    built when first asked for (App.api_doc), unless `documented` builds it with the routes."""
    settings = settings or Settings.from_env()
    app = App(
        __name__,
        info=Info(
            title="chaindb API",
            version="1",
            description="Industrial chains, chain masters, suppliers, projects and targets. "
            "Every endpoint but /healthz and /readyz needs `Authorization: Bearer <token>`.",
        ),
        security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
        doc_prefix="/api/v1",
        doc_url="/openapi.json",
        validation_error_status=422,
    )
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="chaindb_session",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        JSON_AS_ASCII=False,
    )
    app.config.update(API_DOCUMENTED=documented, API_TWIN_CONFIG=dict(config or {}))
    if config:
        app.config.update(config)
    from chaindb.api.schemas import KeyConverter

    app.url_map.converters["key"] = KeyConverter
    if "ENGINE" not in app.config and not app.config.get("SQLALCHEMY_URL"):
        app.config["SQLALCHEMY_URL"] = resolve_url(settings)
    logging.basicConfig(level=settings.log_level)

    register_extensions(app)
    with api_documented(documented):
        register_blueprints(app)
    register_errorhandlers(app)
    from chaindb.api import fast
    from chaindb.api.resource import Resource

    fast.install(app, Resource.registry.values())
    return app


def start_background(app: Flask) -> None:
    """Start what a serving process runs beside its requests: the report refresher
    (chaindb.reports.listener), unless the settings turn it off. `chaindb run` and the WSGI
    entry point call it; tests and commands that only build an app do not."""
    from sqlalchemy import Engine

    from chaindb.reports import listener

    engine = db.engine(app)
    if app.config["SETTINGS"].reports_listen and isinstance(engine, Engine):
        listener.start(engine)


def select_locale() -> str:
    """Chinese unless the reader chose English: on their account, or (signed out) a cookie."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if not request.path.startswith("/api/"):
        from flask_login import current_user

        if current_user.is_authenticated and current_user.locale in LANGUAGES:
            return current_user.locale
    chosen = request.cookies.get("lang")
    return chosen if chosen in LANGUAGES else "zh"


def register_extensions(app: Flask) -> None:
    db.init_app(app, engine=app.config.get("ENGINE"))
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories="translations"
    )

    @app.context_processor
    def inject_locale() -> dict[str, Any]:
        from flask_babel import get_locale

        return {"current_locale": str(get_locale()), "languages": LANGUAGES}


# Domains with pages, in the order of the navigation.
PAGES = ("home", "auth", "chains", "enterprises", "supply", "projects", "reviews", "promotion",
         "targets", "districts", "units", "changes", "reports")  # fmt: skip
# Domains with API resources, in the order of the OpenAPI document.
RESOURCES = ("districts", "chains", "enterprises", "supply", "projects", "reviews", "promotion",
             "targets", "units", "changes", "auth", "reports")  # fmt: skip


def register_blueprints(app: Flask) -> None:
    """The composition root: the shared machinery's own hooks and pages, then what each domain
    brings (chaindb.api and chaindb.web know no domain)."""
    from chaindb.api import init_api
    from chaindb.auth.gate import init_gates
    from chaindb.enterprises import pickers
    from chaindb.web import init_web

    init_api(app)  # type: ignore[arg-type]
    for domain in RESOURCES:
        import_module(f"chaindb.{domain}.api").register(app)
    init_web(app)
    init_gates(app)
    pickers.register(app)
    for domain in PAGES:
        import_module(f"chaindb.{domain}.views").register(app)
