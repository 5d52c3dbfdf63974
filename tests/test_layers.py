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


def module_cycles(package: str) -> list[list[str]]:
    """The groups of modules of `package` that import each other, directly or through others,
    when they run: imports under TYPE_CHECKING (for the type checker only) do not count."""
    import grimp

    graph = grimp.build_graph(package, cache_dir=None, exclude_type_checking_imports=True)
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        order[module] = low[module] = len(order)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in order:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], order[imported])
        if low[module] == order[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in order:
            visit(module)
    return cycles


def test_no_module_imports_itself_through_others():
    assert module_cycles("chaindb") == []


def test_a_module_that_imports_its_importer_is_a_cycle(tmp_path):
    shutil.copytree(
        PROJECT_ROOT / "chaindb",
        tmp_path / "chaindb",
        ignore=shutil.ignore_patterns("__pycache__", "static", "translations", "templates"),
    )
    refresh = tmp_path / "chaindb" / "reports" / "refresh.py"
    refresh.write_text(refresh.read_text() + "\nfrom chaindb.reports import listener  # back\n")
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[2]); "
        "from tests.test_layers import module_cycles; print(module_cycles('chaindb'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), str(PROJECT_ROOT)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[['chaindb.reports.listener', 'chaindb.reports.refresh']]"


def test_a_rule_of_the_chain_map_reaching_up_into_supply_breaks_them(tmp_path):
    shutil.copytree(
        PROJECT_ROOT / "chaindb",
        tmp_path / "chaindb",
        ignore=shutil.ignore_patterns("__pycache__", "static", "translations", "templates"),
    )
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path)
    service = tmp_path / "chaindb" / "chains" / "service.py"
    service.write_text(service.read_text() + "\nfrom chaindb.supply.models import SupplyLink\n")

    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "The chain map's and the districts' rules import no domain above them BROKEN" in (
        result.stdout
    )
    assert "chaindb.chains.service -> chaindb.supply.models" in result.stdout


# --- one home per concept -------------------------------------------------------------------------

# A concept written out again instead of calling its one definition (the database's functions,
# which the Python model expressions chains.models.role_held_on / role_not_ended and
# enterprises.models.is_local call): pattern -> what to use.
WRITTEN_OUT = {
    r"\bsince\s*<=|\.since\s*<=": "role_held_on()",
    r"\buntil\s*>=\s*(current_date|day|:|func\.|today)": "role_held_on() or role_not_ended()",
    r"\b(e|enterprise|supplier|buyer|Enterprise|supplier\.c)\.district_id\s*"
    r"(IS (NOT )?NULL|\.is_(not)?\(None\))": "is_local()",
    r"WITH RECURSIVE subtree|parent_id\s*=\s*t\.segment_id": "segment_subtrees() / chain_gaps()",
    r"local\w*(::numeric)?\s*/\s*(NULLIF|\w*links|\w*value|total)": "supply_totals()",
}


def concept_written_out(root: Path) -> list[str]:
    """Lines of the application's Python and SQL (not the migrations, which keep the text of
    their time) that write out a concept instead of calling its function."""
    import re

    found = []
    for path in sorted((root / "chaindb").rglob("*")):
        if path.suffix not in (".py", ".sql") or "translations" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith(("--", "#", "'")):  # a comment, a COMMENT's text
                continue
            for pattern, instead in WRITTEN_OUT.items():
                if re.search(pattern, line):
                    where = path.relative_to(root)
                    found.append(f"{where}:{number}: {line.strip()} (use {instead})")
    return found


def test_each_concept_is_defined_once():
    """'Role held on a day', 'local', 'the segments below', 'gap' and 'local supply rate' are
    SQL functions (migration 8d4f6a2c1e73) that the views, the triggers and the code call."""
    assert concept_written_out(PROJECT_ROOT) == []


def test_a_concept_written_out_again_is_found(tmp_path):
    (tmp_path / "chaindb" / "reports" / "sql").mkdir(parents=True)
    (tmp_path / "chaindb" / "home.py").write_text(
        "live = (ChainRole.since <= day) & Enterprise.district_id.is_not(None)\n"
        "rate = local_links / links\n"
    )
    (tmp_path / "chaindb" / "reports" / "sql" / "report_x.sql").write_text(
        "SELECT 1 WHERE e.district_id IS NULL AND (r.until IS NULL OR r.until >= current_date)\n"
    )
    found = concept_written_out(tmp_path)
    assert [line.split(": ", 1)[0] for line in found] == [
        "chaindb/home.py:1",
        "chaindb/home.py:1",
        "chaindb/home.py:2",
        "chaindb/reports/sql/report_x.sql:1",
        "chaindb/reports/sql/report_x.sql:1",
    ]
