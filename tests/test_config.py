from __future__ import annotations

import pytest

from chaindb.config import DEV_SECRET, ConfigError, Settings, normalize_database_url


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@h:5432/db",
        "postgres://u:p@h:5432/db",
        "postgresql+psycopg2://u:p@h:5432/db",
        "postgresql+psycopg://u:p@h:5432/db",
    ],
)
def test_postgres_urls_are_normalised_for_psycopg3(url):
    assert normalize_database_url(url) == "postgresql+psycopg://u:p@h:5432/db"


def test_a_unix_socket_url_keeps_its_query():
    url = "postgresql://postgres:@/chaindb?host=/srv/pg"
    assert normalize_database_url(url) == "postgresql+psycopg://postgres:@/chaindb?host=/srv/pg"


def test_a_cluster_url_names_every_member_in_its_query():
    """libpq's multi-host form, as `chaindb cluster up` prints it for real hosts: SQLAlchemy
    cannot read several hosts in the netloc, so they move to the query, where both read them."""
    from sqlalchemy.dialects.postgresql import psycopg as dialect
    from sqlalchemy.engine import make_url

    url = normalize_database_url(
        "postgresql://app:s3cret@db1:5432,db2:5433,[::1]/chaindb?target_session_attrs=read-write"
    )
    assert url == (
        "postgresql+psycopg://app:s3cret@/chaindb?host=db1,db2,::1&port=5432,5433,5432"
        "&target_session_attrs=read-write"
    )
    _, kwargs = dialect.dialect().create_connect_args(make_url(url))
    assert kwargs["host"] == "db1,db2,::1" and kwargs["port"] == "5432,5433,5432"
    assert kwargs["target_session_attrs"] == "read-write"
    for bad in ("postgresql://u@db1:x,db2/db", "postgresql://u@:5432,db2/db"):
        with pytest.raises(ConfigError):
            normalize_database_url(bad)


def test_other_databases_are_refused():
    with pytest.raises(ConfigError, match="PostgreSQL"):
        normalize_database_url("mysql://u@h/db")


def test_development_runs_with_defaults():
    settings = Settings.from_env({})
    assert settings.env == "development"
    assert settings.database_url is None  # the embedded server
    assert (settings.host, settings.port) == ("127.0.0.1", 5000)


def test_production_refuses_the_development_secret():
    with pytest.raises(ConfigError, match="CHAINDB_SECRET_KEY"):
        Settings.from_env({"CHAINDB_ENV": "production", "DATABASE_URL": "postgresql://h/db"})
    with pytest.raises(ConfigError, match="CHAINDB_SECRET_KEY"):
        Settings.from_env(
            {
                "CHAINDB_ENV": "production",
                "DATABASE_URL": "postgresql://h/db",
                "CHAINDB_SECRET_KEY": "short",
            }
        )


def test_production_needs_a_database_url():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Settings.from_env({"CHAINDB_ENV": "production", "CHAINDB_SECRET_KEY": "k" * 48})


def test_production_with_secret_and_url_starts():
    settings = Settings.from_env(
        {
            "CHAINDB_ENV": "production",
            "CHAINDB_SECRET_KEY": "k" * 48,
            "DATABASE_URL": "postgres://h/db",
        }
    )
    assert settings.secret_key != DEV_SECRET
    assert settings.database_url == "postgresql+psycopg://h/db"


@pytest.mark.parametrize("name,value", [("CHAINDB_ENV", "staging"), ("CHAINDB_PORT", "http")])
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_the_report_refresher_is_on_unless_turned_off():
    assert Settings.from_env({}).reports_listen is True
    assert Settings.from_env({"CHAINDB_REPORTS_LISTEN": "off"}).reports_listen is False
    assert Settings.from_env({"CHAINDB_REPORTS_LISTEN": "1"}).reports_listen is True
    with pytest.raises(ConfigError, match="true or false"):
        Settings.from_env({"CHAINDB_REPORTS_LISTEN": "sometimes"})
