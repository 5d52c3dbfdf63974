"""The build's steps beyond pyproject.toml: compile the translation catalogs, and carry the
migrations.

Flask-Babel reads compiled catalogs (messages.mo); git holds only their sources (messages.po).
Every build of chaindb compiles them, so that any install of it (`pip install .`, a wheel, the
image) serves its pages in Chinese: a regular build writes the .mo files into the build folder
beside the copied .po files; an editable install (scripts/setup) writes them beside the sources,
where the running code looks for them. A catalog with an error stops the build.

A regular build also copies the migrations (alembic.ini and alembic/, which stay at the top of
the repository where Alembic's tools expect them) into the package as chaindb/_alembic/, so that
an installed wheel migrates its database with no source tree beside it (the image installs only
the wheel; chaindb.migrations.alembic_ini finds them).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

CATALOGS = Path("chaindb", "translations")
MIGRATIONS = Path("chaindb", "_alembic")


def compile_catalogs(translations: Path) -> list[Path]:
    """Compile every <locale>/LC_MESSAGES/*.po under translations to a .mo beside it.

    As `pybabel compile` does: fuzzy entries are left out, and so is a catalog whose header is
    marked fuzzy.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(translations.glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        if catalog.fuzzy:
            continue
        errors = [
            f"{po}: {message.id!r}: {error}"
            for message, problems in catalog.check()
            for error in problems
        ]
        if errors:
            raise SetupError("translation catalog errors:\n" + "\n".join(errors))
        mo = po.with_suffix(".mo")
        with mo.open("wb") as target:
            write_mo(target, catalog)
        written.append(mo)
    return written


def copy_migrations(target: Path) -> list[Path]:
    """alembic.ini and alembic/ (without caches) under target; the files written."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree("alembic", target / "alembic", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2("alembic.ini", target / "alembic.ini")
    return sorted(path for path in target.rglob("*") if path.is_file())


class BuildPyWithCatalogs(build_py):
    """build_py, then the .mo files of chaindb's catalogs."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            compile_catalogs(CATALOGS)
        else:
            self._mo_files = compile_catalogs(Path(self.build_lib, CATALOGS))
            self._migrations = copy_migrations(Path(self.build_lib, MIGRATIONS))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        extra = [*getattr(self, "_mo_files", []), *getattr(self, "_migrations", [])]
        return [*super().get_outputs(include_bytecode), *map(str, extra)]


setup(cmdclass={"build_py": BuildPyWithCatalogs})
