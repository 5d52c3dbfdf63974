"""The import contracts (pyproject.toml, [tool.importlinter]) that ./scripts/test checks: they
hold on the code as it is, and an import from the shared machinery up into a domain breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from chaindb.config import PROJECT_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_code_keeps_the_contracts():
    result = lint_imports(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_import_from_the_shared_machinery_into_a_domain_breaks_them(tmp_path):
    shutil.copytree(
        PROJECT_ROOT / "chaindb",
        tmp_path / "chaindb",
        ignore=shutil.ignore_patterns("__pycache__", "static", "translations", "templates"),
    )
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path)
    errors = tmp_path / "chaindb" / "errors.py"
    errors.write_text(errors.read_text() + "\nfrom chaindb.supply import service  # upward\n")

    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "Shared machinery imports no domain BROKEN" in result.stdout
    assert "chaindb.errors -> chaindb.supply.service" in result.stdout
