"""`chaindb user demo`: the README's credentials sign in, a second run keeps the user as it is,
and production refuses it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from chaindb.cli import DEMO_ADMIN


@pytest.mark.slow
def test_the_demo_admin_of_the_readme(scratch_database):
    from chaindb.auth.service import check_password
    from chaindb.db import make_engine

    url = scratch_database(migrated=True)
    env = {"PATH": str(Path(sys.executable).parent), "DATABASE_URL": url, "HOME": str(Path.home())}
    chaindb = str(Path(sys.executable).parent / "chaindb")

    def cli(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [chaindb, *args], env={**env, **extra}, capture_output=True, text=True, timeout=120
        )

    first = cli("user", "demo")
    assert first.returncode == 0, first.stderr
    assert "admin / chaindb-demo" in first.stdout
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert f"**`{DEMO_ADMIN[0]}`** with the password **`{DEMO_ADMIN[1]}`**" in readme
    assert cli("user", "demo").returncode == 0  # idempotent
    refused = cli("user", "demo", CHAINDB_ENV="production", CHAINDB_SECRET_KEY="p" * 40)
    assert refused.returncode != 0 and "not in production" in refused.stderr

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            user = check_password(session=session, username=DEMO_ADMIN[0], password=DEMO_ADMIN[1])
            assert user is not None and user.role == "admin"
    finally:
        engine.dispose()
