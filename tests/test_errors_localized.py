"""One error, two faces: English for the API, the reader's language for the pages.

A refusal's message is an English template with %(name)s placeholders and its params: .message
fills it in English (exactly the text the API always gave), .localized() looks the template up in
the catalog first. These tests hold the English text fixed, check that the templates reach the
catalog, and that the pages' face asks the catalog for the template and fills in the params.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import flask_babel
import pytest
from babel.messages.pofile import read_po
from babel.support import NullTranslations
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import MultiDict

from chaindb.errors import (
    CONSTRAINT_MESSAGES,
    Conflict,
    DomainError,
    Invalid,
    Message,
    NotFound,
    from_database_error,
)

ROOT = Path(__file__).resolve().parents[1]
PYBABEL = Path(sys.executable).with_name("pybabel")
# The same keywords as scripts/translations.
KEYWORDS = ["_l", "N_", "lazy_gettext", "Invalid", "Conflict", "NotFound", "BadRequest",
            "Forbidden", "Unauthorized", "PreconditionFailed", "UnsupportedMediaType",
            "TooManyAttempts", "ConfirmRequired", "PossibleDuplicate"]  # fmt: skip


def refusal(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


class FakeSession:
    """Finds nothing: every lookup a refusal's code makes comes back empty."""

    info: dict = {}  # noqa: RUF012  (nothing is kept in it)

    def scalar(self, *_args, **_kwargs):
        return None

    def execute(self, *_args, **_kwargs):
        return SimpleNamespace(one_or_none=lambda: None, first=lambda: None, scalar=lambda: None)


# --- (a) the API's English is the text it always was -------------------------------------------


def test_resource_messages_keep_their_english():
    from chaindb.api.query import int_param, parse_value
    from chaindb.chains.api import chain_roles, chains

    assert chains.not_found("X9").message == "no chain 'X9'"
    assert chain_roles.not_found("7").message == "no chain role '7'"
    with pytest.raises(Invalid) as caught:
        chains.where(MultiDict({"colour": "red"}))
    assert caught.value.message == "unknown filter 'colour'"
    with pytest.raises(Invalid) as caught:
        chains.order_by("-nope")
    assert caught.value.message == (
        "cannot order by 'nope'; choose from id, code, name_zh, tier, group, sort_order, "
        "target_2030_cny_100m"
    )
    with pytest.raises(Invalid) as caught:
        chains.where(MultiDict({"code__gte": "x"}))
    assert caught.value.message == "code__gte: gte works on numbers and dates only"
    assert caught.value.details == [
        {"field": "code__gte", "message": "code__gte: gte works on numbers and dates only"}
    ]
    with pytest.raises(Invalid) as caught:
        parse_value(date, "2024-13-01", "since")
    assert caught.value.message == "since: '2024-13-01' is not an ISO date (YYYY-MM-DD)"
    with pytest.raises(Invalid) as caught:
        int_param(MultiDict({"limit": "0"}), "limit", 50, 1, 1000)
    assert caught.value.message == "limit must be between 1 and 1000"
    with pytest.raises(Invalid) as caught:
        int_param(MultiDict({"offset": "-1"}), "offset", 0, 0, None)
    assert caught.value.message == "offset must be at least 0"
    with pytest.raises(Invalid) as caught:
        int_param(MultiDict({"offset": "x"}), "offset", 0, 0, None)
    assert caught.value.message == "offset must be an integer"


def test_reference_and_bulk_messages_keep_their_english():
    from chaindb.chains.api import chain_roles

    error = refusal(lambda: chain_roles.resolve(FakeSession(), {"chain_id": "XX"}))
    assert error.message == "chain_id: no chain with code 'XX'"
    assert error.details == [{"field": "chain_id", "message": "chain_id: no chain with code 'XX'"}]
    error = refusal(lambda: chain_roles.resolve(FakeSession(), {"enterprise_id": 12}))
    assert error.message == "enterprise_id: no enterprise with id 12"

    # A bulk item: the index prefixes the message; the details keep theirs under [3].
    bulk = error.at("[3]")
    assert bulk.message == "[3]: enterprise_id: no enterprise with id 12"
    assert bulk.details == [
        {"field": "[3].enterprise_id", "message": "enterprise_id: no enterprise with id 12"}
    ]
    assert type(bulk) is type(error) and bulk.status == error.status
    plain = Conflict("a user with this name already exists").at("[0]")
    assert plain.message == "[0]: a user with this name already exists"
    assert plain.details == [{"field": "[0]", "message": "a user with this name already exists"}]


def test_import_messages_keep_their_english():
    from chaindb.api.tables import MAX_COLUMNS, read_lines

    wide = ",".join(["x"] * (MAX_COLUMNS + 1)).encode()
    error = refusal(lambda: read_lines(b"a\n" + wide, "x.csv", "text/csv"))
    assert error.message == f"line 2: more than {MAX_COLUMNS} columns"
    assert error.details == [{"field": "file", "message": error.message}]
    error = refusal(lambda: read_lines(b"a\n", "", "image/png", uploaded=False))
    assert error.message == "import CSV (text/csv) or XLSX, not image/png"


def test_service_messages_keep_their_english():
    from chaindb.enterprises.service import check_designation, prepare_enterprise
    from chaindb.projects.service import check_project
    from chaindb.supply.service import find_chain, find_enterprise
    from chaindb.targets.api import _target_rules

    error = refusal(lambda: prepare_enterprise({"uscc": "91370100MA3C5A1234"}, None))
    assert error.message == (
        "uscc: '91370100MA3C5A1234' fails the GB 32100 check: the 18th character should be 'E'"
        "; a genuine early code may be accepted with uscc_check_override and uscc_override_reason"
    )
    error = refusal(lambda: prepare_enterprise({"uscc": "9137"}, None))
    assert error.message == "uscc: a credit code has 18 characters, '9137' has 4"
    error = refusal(lambda: prepare_enterprise({"region_code": "370102"}, None))
    assert error.message == (
        "region_code: 370102 is in Jinan; a local enterprise gives district_id (its planning "
        "unit) instead"
    )
    error = refusal(
        lambda: check_designation(None, {"year": 2024, "valid_until": date(2023, 5, 1)}, None)
    )
    assert error.message == "valid_until: 2023-05-01 is before the year it was granted (2024)"

    error = refusal(lambda: find_enterprise(FakeSession(), "hello", field="supplier"))
    assert error.message == (
        "supplier: 'hello' is neither an enterprise id nor a valid credit code: a credit code "
        "has 18 characters, 'HELLO' has 5"
    )
    assert isinstance(refusal(lambda: find_enterprise(FakeSession(), 5)), NotFound)
    assert refusal(lambda: find_enterprise(FakeSession(), 5)).message == "no enterprise with id 5"
    error = refusal(lambda: find_chain(FakeSession(), "ZZ"))
    assert error.message == "chain: no chain with code 'ZZ'"

    error = refusal(lambda: _target_rules(None, {"scope": "district", "chain_id": 3}, None))
    assert error.message == (
        "a district target names no chain; leave chain_id empty (or change scope); a district "
        "target needs its planning unit (district_id); give target_value, actual_value or both"
    )
    assert [d["message"] for d in error.details] == [
        "a district target names no chain; leave chain_id empty (or change scope)",
        "a district target needs its planning unit (district_id)",
        "give target_value, actual_value or both",
    ]

    values = {
        "name": "p", "chain_id": 1, "district_id": 1, "kind": "new", "stage": "lead",
        "is_key": False, "investor_name": "X", "parent_id": 9, "signed_on": date(2024, 1, 2),
    }  # fmt: skip
    error = refusal(lambda: check_project(FakeSession(), values, None))
    assert error.message == "invalid values: parent_id, signed_on"
    assert error.details == [
        {
            "field": "parent_id",
            "message": "parent_id: a new project has no parent; an expansion or capital increase "
            "names the original project (set kind)",
        },
        {
            "field": "signed_on",
            "message": "signed_on: the project is at stage lead: it has not reached signed, so "
            "it has no signed_on yet",
        },
    ]
    values = {**values, "kind": "capital_increase", "parent_id": None, "signed_on": None}
    error = refusal(lambda: check_project(FakeSession(), values, None))
    assert error.message == (
        "parent_id: a capital increase names the original project it adds to (parent_id)"
    )


class _Diag(SimpleNamespace):
    pass


def _database_error(kind, **diag) -> DBAPIError:
    base = {"constraint_name": None, "table_name": None, "column_name": None,
            "message_primary": None, "message_detail": None}  # fmt: skip
    orig = type("Refusal", (kind,), {"diag": _Diag(**{**base, **diag})})()
    return DBAPIError("SELECT 1", {}, orig)


def test_database_refusals_keep_their_english():
    from psycopg import errors as pg

    error = from_database_error(
        _database_error(
            pg.UniqueViolation,
            table_name="chain",
            constraint_name="uq_chain_code",
            message_detail="Key (code)=(X) already exists.",
        )
    )
    assert (error.message, error.details) == (
        "a chain with this code already exists",
        [{"field": "code", "message": "a chain with this code already exists"}],
    )
    error = from_database_error(
        _database_error(
            pg.ForeignKeyViolation,
            message_detail='Key (id)=(3) is still referenced from table "project".',
        )
    )
    assert error.message == "still referenced by project"
    error = from_database_error(
        _database_error(pg.ForeignKeyViolation, message_detail="Key (chain_id)=(9) is not present.")
    )
    assert error.message == "chain_id: the referenced record does not exist"
    error = from_database_error(_database_error(pg.NotNullViolation, column_name="name"))
    assert error.message == "name is required"
    error = from_database_error(_database_error(pg.NumericValueOutOfRange))
    assert error.message == "a value is out of range: the database refused the change"
    error = from_database_error(
        _database_error(
            pg.CheckViolation, constraint_name="ck_project_signed_on_not_ahead_of_stage"
        )
    )
    assert error.message == "signed_on is set but the project has not reached that stage"
    assert all(
        str(message) == Invalid(message).message for _, _, message in CONSTRAINT_MESSAGES.values()
    )


# --- (b) the templates reach the catalog --------------------------------------------------------


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[str]:
    pot = tmp_path_factory.mktemp("catalog") / "messages.pot"
    keywords = [arg for k in KEYWORDS for arg in ("-k", k)]
    subprocess.run(
        [str(PYBABEL), "-q", "extract", "-F", "babel.cfg", "--no-location", *keywords,
         "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
    )  # fmt: skip
    with pot.open("rb") as f:
        return {message.id for message in read_po(f) if isinstance(message.id, str) and message.id}


@pytest.mark.parametrize(
    "template",
    [
        "invalid values: %(fields)s",  # errors.py and schemas.py
        "a %(table)s with this %(columns)s already exists",
        "%(column)s is set but the project has not reached that stage",
        "an enterprise cannot supply itself",  # CONSTRAINT_MESSAGES
        "unknown filter %(param)r",  # resource.py
        "no chain %(key)r",
        "%(count)s rows refer to it",
        "no planning unit with id %(value)s",
        "line %(line)s: more than %(columns)s columns",  # api/tables.py
        "%(values)s values for %(columns)s columns",  # api/transfer.py
        "dropping a project needs a reason",  # projects/service.py: whole sentences
        "reviving a dropped project needs a reason",
        "moving a project back from %(from_stage)s to %(to_stage)s needs a reason",
        "%(day)s is before %(earlier)s (%(earlier_day)s); stages come in order",
        "%(name)s (id %(id)s) still has %(count)s live supply links in chain %(chain)s; "
        "end them first, or send end_links: true to end them with the role",  # supply
        "%(name)s (id %(id)s) already holds the chain-master role in chain %(chain)s "
        "(with no start recorded; chain role %(role)s)",
        "%(value)r is neither an enterprise id nor a valid credit code: %(reason)s",
        "%(code)r fails the GB 32100 check: the 18th character should be %(expected)r",  # uscc
        "%(region)s is in Jinan; a local enterprise gives district_id (its planning unit) "
        "instead",  # enterprises/service.py
        "a district target names no chain; leave chain_id empty (or change scope)",  # targets
        "a user named %(name)r already exists",  # auth/service.py
    ],
)
def test_templates_are_extracted(extracted: set[str], template: str):
    assert template in extracted


OWN_FILES = ["chaindb/errors.py", "chaindb/api/query.py", "chaindb/api/reads.py",
             "chaindb/api/writes.py", "chaindb/api/routes.py", "chaindb/api/transfer.py",
             "chaindb/api/exchange.py", "chaindb/amounts.py", "chaindb/enterprises/merge.py",
             "chaindb/api/schemas.py", "chaindb/projects/service.py", "chaindb/supply/service.py",
             "chaindb/enterprises/service.py", "chaindb/enterprises/uscc.py",
             "chaindb/auth/service.py", "chaindb/targets/api.py", "chaindb/chains/api.py",
             "chaindb/districts/api.py", "chaindb/supply/api.py", "chaindb/projects/api.py"]  # fmt: skip


@pytest.mark.parametrize("path", OWN_FILES)
def test_every_marked_literal_is_extracted(extracted: set[str], path: str):
    """Each literal given to N_() or to an error class is in the catalog (none hides in a call
    the extraction does not look into)."""
    tree = ast.parse((ROOT / path).read_text())
    marked = [
        (node.lineno, node.args[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in KEYWORDS
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ]
    assert marked
    assert [(line, text) for line, text in marked if text not in extracted] == []


def test_only_templates_are_extracted(extracted: set[str]):
    """Neither filled text nor glue (the joined targets message) lands in the catalog."""
    assert not any(m.startswith(("%(m0)s", "[", "'")) for m in extracted)
    assert not any("is at stage lead" in m or "{" in m for m in extracted)


# --- (c) the pages' face: the template looked up, then filled -----------------------------------


class Marked(NullTranslations):
    """A catalog that 'translates' every message with words by wrapping it, placeholders kept
    (glue such as "%(m0)s; %(m1)s" is in no catalog: it comes back as it is)."""

    def gettext(self, message):
        words = re.sub(r"%\(\w+\)[sr]", "", message)
        return f"ZH[{message}]" if re.search(r"[a-z]", words) else message

    ugettext = gettext


@pytest.fixture
def zh(app, monkeypatch):
    with app.test_request_context("/?lang=zh"):
        monkeypatch.setattr(flask_babel.Domain, "get_translations", lambda self: Marked())
        yield


def test_localized_asks_the_catalog_for_the_template(zh):
    error = Invalid(
        "until (%(until)s) is before since (%(since)s)",
        params={"until": date(2024, 1, 1), "since": date(2024, 2, 1)},
        field="until",
    )
    assert error.message == "until (2024-01-01) is before since (2024-02-01)"
    assert error.localized() == "ZH[until (2024-01-01) is before since (2024-02-01)]"
    assert error.localized_details() == [
        {"field": "until", "message": "ZH[until (2024-01-01) is before since (2024-02-01)]"}
    ]


def test_prefixes_are_the_apis_and_nested_messages_are_translated(zh):
    """The API says which field ("supplier: ..."); a page shows the message beside the field,
    and never a field's name."""
    from chaindb.supply.service import find_enterprise

    error = refusal(lambda: find_enterprise(FakeSession(), "hello", field="supplier"))
    assert error.message.startswith("supplier: 'hello' is neither")
    assert error.localized() == (
        "ZH['hello' is neither an enterprise id nor a valid credit code: "
        "ZH[a credit code has 18 characters, 'HELLO' has 5]]"
    )
    bulk = Invalid("no segment with id %(id)s", params={"id": 4}, prefix="segment_id").at("[2]")
    assert bulk.message == "[2]: segment_id: no segment with id 4"
    assert bulk.localized() == "ZH[no segment with id 4]"
    assert bulk.localized_details() == [{"field": "[2]", "message": "ZH[no segment with id 4]"}]


def test_details_of_their_own_are_translated_each(zh):
    from chaindb.targets.api import _target_rules

    error = refusal(lambda: _target_rules(None, {"scope": "city", "chain_id": 3}, None))
    assert error.localized() == (
        "ZH[a city target names no chain; leave chain_id empty (or change scope)]; "
        "ZH[give target_value, actual_value or both]"
    )
    assert [d["message"] for d in error.at("[1]").localized_details()] == [
        "ZH[a city target names no chain; leave chain_id empty (or change scope)]",
        "ZH[give target_value, actual_value or both]",
    ]
    renamed = error.renamed({"chain_id": "chain"})
    assert renamed.details[0] == {
        "field": "chain",
        "message": "a city target names no chain; leave chain_id empty (or change scope)",
    }
    assert renamed.localized_details()[0]["message"].startswith("ZH[a city target")


def test_a_broken_translation_falls_back_to_english(app, monkeypatch):
    class Broken(NullTranslations):
        def gettext(self, message):
            return "%(nonesuch)s"

        ugettext = gettext

    with app.test_request_context("/?lang=zh"):
        monkeypatch.setattr(flask_babel.Domain, "get_translations", lambda self: Broken())
        assert Message("no segment with id %(id)s", {"id": 1}).localized() == "no segment with id 1"


def test_localized_is_the_catalogs_template_filled(app):
    """With the real catalog (whatever it holds yet): gettext(template) % params."""
    with app.test_request_context("/?lang=zh"):
        error = NotFound("no user named %(name)r", params={"name": "李四"}, field="username")
        assert error.localized() == flask_babel.gettext("no user named %(name)r") % {"name": "李四"}
        assert error.message == "no user named '李四'"
