"""A regular (non-editable) build of chaindb carries the compiled translation catalogs.

git holds only the .po sources; the build compiles them (setup.py), so that `pip install .`
gives pages in Chinese without scripts/setup. Built here from a copy of the sources without any
.mo file, offline (no build isolation: the venv's setuptools and Babel).
"""

from __future__ import annotations

import gettext
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from chaindb.config import PROJECT_ROOT

# What the build reads, and nothing compiled.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "chaindb", "seeds", "alembic", "alembic.ini")
LEFT_OUT = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")


@pytest.mark.slow
def test_the_wheel_carries_the_compiled_catalogs(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name in SOURCES:
        if (PROJECT_ROOT / name).is_dir():
            shutil.copytree(PROJECT_ROOT / name, source / name, ignore=LEFT_OUT)
        else:
            shutil.copy2(PROJECT_ROOT / name, source / name)
    assert not list(source.rglob("*.mo"))

    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--verbose", "--wheel-dir", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )  # fmt: skip
    output = built.stdout + built.stderr
    assert built.returncode == 0, output[-4000:]
    # The project's own configuration draws no warning from setuptools (the license is SPDX).
    assert "SetuptoolsDeprecationWarning" not in output, output[-4000:]

    (wheel,) = (tmp_path / "dist").glob("chaindb-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert "chaindb/translations/zh/LC_MESSAGES/messages.mo" in names
        assert "chaindb/translations/en/LC_MESSAGES/messages.mo" in names
        catalog = archive.read("chaindb/translations/zh/LC_MESSAGES/messages.mo")
        (metadata,) = (name for name in names if name.endswith(".dist-info/METADATA"))
        assert "License-Expression: LicenseRef-Proprietary" in archive.read(metadata).decode()
    assert gettext.GNUTranslations(io.BytesIO(catalog)).gettext("Overview") == "概览"

    # The migrations travel in the wheel: installed alone (the image installs only the wheel),
    # chaindb finds them, and they are the checkout's, to the same head.
    migrations = {name for name in names if name.startswith("chaindb/_alembic/")}
    assert "chaindb/_alembic/alembic.ini" in migrations
    assert "chaindb/_alembic/alembic/env.py" in migrations
    versions = sorted(p.name for p in (PROJECT_ROOT / "alembic" / "versions").glob("*.py"))
    assert versions == sorted(
        Path(name).name
        for name in migrations
        if name.startswith("chaindb/_alembic/alembic/versions/") and name.endswith(".py")
    )
    assert not [name for name in names if "__pycache__" in name]
    target = tmp_path / "installed"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
         "--target", str(target), str(wheel)],
        check=True, timeout=300, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )  # fmt: skip
    found = subprocess.run(
        [sys.executable, "-c", "import chaindb.migrations as m; print(m.alembic_ini()); "
         "print(m.head_revision())"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(target), "CHAINDB_ALEMBIC_INI": ""},
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    ini, head = found.stdout.split()
    assert Path(ini) == target / "chaindb" / "_alembic" / "alembic.ini"
    from chaindb.migrations import head_revision

    assert head == head_revision()
