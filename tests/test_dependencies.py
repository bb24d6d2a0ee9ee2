"""pyproject.toml declares what the code imports: a distribution that only arrives with another one
(pydantic through kedro-viz, click through kedro) can leave with its next release."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# Declared, but no module of the library imports them: each is used another way.
NOT_IMPORTED = {
    "kedro-viz": "`kedro viz`: the README's picture of the pipelines",
    "kedro-datasets": "the catalogs' dataset types (pandas.CSVDataset, json.JSONDataset, ...), which Kedro imports",
}

# Not distributions: the original MiCT-Net-PyTorch's modules, which benchmarks import from the
# checkout given with --original PATH.
FROM_A_CHECKOUT = ("mictnet", "option", "test")


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement string (PEP 503)."""
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement).group()).lower()


DEPENDENCIES = {_name(r) for r in PROJECT["dependencies"]}
DEV = {_name(r) for r in PROJECT["optional-dependencies"]["dev"]}


def imported_modules(folder: Path, root: Path = ROOT) -> dict[str, set[Path]]:
    """The top-level modules the files under ``folder`` import anywhere (inside functions too) that are
    neither the standard library's nor files or packages of ``folder`` itself, with the files importing
    each (relative to ``root``)."""
    files = sorted(folder.rglob("*.py"))
    local = {p.stem for p in files} | {p.name for p in folder.rglob("*") if p.is_dir()}
    found: dict[str, set[Path]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for top in (name.partition(".")[0] for name in names):
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(top, set()).add(path.relative_to(root))
    return found


def undeclared(modules: dict[str, set[Path]], declared: set[str]) -> list[str]:
    """One line for each module that no declared distribution provides, naming the distribution that does."""
    provided = importlib.metadata.packages_distributions()
    missing = []
    for module, files in sorted(modules.items()):
        distributions = {_name(d) for d in provided.get(module, ())}
        if not distributions & (declared | {"mict-pipeline"}):
            where = ", ".join(map(str, sorted(files)))
            missing.append(f"{module} (distribution {' or '.join(sorted(distributions)) or 'not installed'}): imported by {where}")
    return missing


def test_imports_are_found_anywhere_in_a_file(tmp_path):
    (tmp_path / "helper.py").write_text("")
    (tmp_path / "module.py").write_text(
        "import os, yaml.constructor\nfrom . import helper\nimport helper\n\ndef f():\n    from click import echo\n    import nosuchmodule\n"
    )
    modules = imported_modules(tmp_path, root=tmp_path)
    assert modules == {"yaml": {Path("module.py")}, "click": {Path("module.py")}, "nosuchmodule": {Path("module.py")}}
    assert undeclared(modules, {"pyyaml"}) == [
        "click (distribution click): imported by module.py",
        "nosuchmodule (distribution not installed): imported by module.py",
    ]


def test_the_library_declares_every_distribution_it_imports():
    assert undeclared(imported_modules(ROOT / "src" / "mict_pipeline"), DEPENDENCIES) == []


def test_tests_and_benchmarks_import_only_declared_distributions():
    """They run in the `pip install -e ".[dev]"` environment: the library's dependencies and the dev extra."""
    modules = imported_modules(ROOT / "tests")
    for path, files in imported_modules(ROOT / "benchmarks").items():
        modules.setdefault(path, set()).update(files)
    for name in FROM_A_CHECKOUT:
        modules.pop(name, None)
    assert undeclared(modules, DEPENDENCIES | DEV) == []


def test_every_dependency_is_imported_or_listed_with_its_use():
    provided = importlib.metadata.packages_distributions()
    imported = {_name(d) for module in imported_modules(ROOT / "src" / "mict_pipeline") for d in provided.get(module, ())}
    assert DEPENDENCIES - imported == set(NOT_IMPORTED)


@pytest.mark.parametrize("requirement", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"])
def test_constraints_pin_every_declared_distribution(requirement):
    """`make install` installs with -c constraints.txt: every declared distribution at a tested version."""
    pinned = {_name(line) for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line}
    assert _name(requirement) in pinned
