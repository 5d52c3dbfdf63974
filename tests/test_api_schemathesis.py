"""Schemathesis drives every operation of the served OpenAPI document with generated requests
(a bounded number per operation): no server error, and every response conforms to the document.

It runs against an app on a database of its own where every request commits, as in production:
thousands of requests inside one rolled-back test transaction would pile up locks.
"""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.parameters import ParameterLocation
from sqlalchemy.orm import Session

from chaindb import create_app
from chaindb.auth.service import create_token, create_user
from chaindb.config import Settings
from chaindb.db import db, make_engine
from chaindb.embedded import drop_database
from seeds import demo, reference
from seeds.runner import run
from tests.conftest import migrated_database

EXAMPLES_PER_OPERATION = 12


# Session-scoped: each operation is a test of its own, which pytest-xdist sends to any worker,
# and each worker that gets some builds this once (tests/conftest.py would keep the tests of a
# module-scoped fixture on one worker).
@pytest.fixture(scope="session")
def live(admin_url):
    name = f"chaindb_schemathesis_{uuid.uuid4().hex[:8]}"
    url = migrated_database(admin_url, name)
    engine = make_engine(url)
    run(engine, reference.load)
    run(engine, demo.load)  # real references for generated requests to hit now and then
    with Session(engine) as session:
        admin = create_user(session=session, username="fuzz-admin", role="admin", password=None)
        token = create_token(session=session, user=admin, name="schemathesis")[1]
        session.commit()
    engine.dispose()
    settings_ = Settings(env="test", database_url=url, secret_key="s" * 40)
    app = create_app({"TESTING": True, "SQLALCHEMY_URL": url}, settings=settings_)
    yield app, token
    db.dispose(app)
    drop_database(admin_url, name)


def _document() -> dict:
    """The document the app serves, read at collection from an app that needs no database:
    schemathesis makes a test of each operation."""
    unused = "postgresql+psycopg://unused/none"
    settings_ = Settings(env="test", database_url=unused, secret_key="s" * 40)
    app = create_app({"TESTING": True, "SQLALCHEMY_URL": unused}, settings=settings_)
    try:
        return app.api_doc
    finally:
        db.dispose(app)


DOCUMENT = _document()
# Writes get schemathesis's coverage phase too (each field's boundary and wrong values, in
# turn): that is where hostile bodies land. Reads get the generated examples only, valid and
# invalid, 12 per operation: the coverage phase's walk through the lists' 30-odd filters took
# ~100 s of the README test command's 5 minutes (GET /api/v1/projects alone 25 s).
writes = schemathesis.openapi.from_dict(DOCUMENT).exclude(method="GET")
reads = schemathesis.openapi.from_dict(DOCUMENT).include(method="GET")
reads.config.phases.coverage.enabled = False

EXAMPLES = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


def conforms(case, live) -> None:
    app, token = live
    # The operations were read from the document at collection, before there was an app to
    # call; the checks' own probes (a request without the token, say) find it on the schema.
    case.operation.schema.app = app
    # The token goes with every case but one whose headers were made invalid on purpose: that
    # case may be the one without Authorization (the security scheme's header), which the
    # token would make valid again (and its 200 a "schema-violating request accepted").
    negative_headers = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    auth = {} if negative_headers else {"Authorization": f"Bearer {token}"}
    # Every default check but one: schema-valid data naming records that do not exist
    # (chain_id 0) is rightly a 422, which positive_data_acceptance would count as a fault.
    case.call_and_validate(app=app, headers=auth, excluded_checks=[positive_data_acceptance])


@writes.parametrize()
@EXAMPLES
def test_every_write_conforms(case, live):
    conforms(case, live)


@reads.parametrize()
@EXAMPLES
def test_every_read_conforms(case, live):
    conforms(case, live)
