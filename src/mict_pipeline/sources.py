"""The project's source files that a module's code runs, and their digest (no Kedro).

One mechanism for two uses: a DVC stage depends on the source files of its nodes' modules
(:mod:`mict_pipeline.dvc_stages`), and a checkpoint records the digest of the same files for the
train nodes' module (:func:`code_record`), so a run resumes only with the code it was trained with.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from mict_pipeline.io.digest import file_digest

PACKAGE = "mict_pipeline"
# Kedro's wiring: which nodes run with which inputs is the stage's definition (its cmd, deps, params
# and outs), not code it computes with, so these modules are neither sources nor followed.
WIRING = re.compile(rf"{PACKAGE}\.(settings|context|pipeline_registry|dvc_stages|pipelines\.experiments|pipelines\.\w+\.pipeline)$")


def _module_file(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None


def _imported(module: str, path: Path) -> Iterator[str]:
    """Names of the project's modules ``module`` imports anywhere in its code (also inside functions)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) if node.level else node.module or ""
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]  # `from package import module`
        else:
            continue
        for name in names:
            parts = name.split(".")
            # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
            yield from (".".join(parts[:i]) for i in range(1, len(parts) + 1) if parts[0] == PACKAGE)


def wiring_only(path: Path) -> bool:
    """A package ``__init__.py`` that defines nothing (a docstring, imports, constants such as
    ``__version__``): what it imports is followed, the file itself computes nothing."""
    return path.name == "__init__.py" and not any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for node in ast.walk(ast.parse(path.read_text()))
    )


def source_files(modules: Iterable[str]) -> set[Path]:
    """The project's source files whose code importing ``modules`` runs (package ``__init__``
    files that only wire names left out)."""
    seen: set[str] = set()
    files: set[Path] = set()
    todo = [m for module in modules for m in (module, *_imported_parents(module))]
    while todo:
        module = todo.pop()
        if module in seen or WIRING.match(module):
            continue
        seen.add(module)
        path = _module_file(module)
        if path is None:
            continue
        if not wiring_only(path):
            files.add(path)
        todo.extend(_imported(module, path))
    return files


def _imported_parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def code_record(files: Iterable[Path], root: Path) -> dict[str, Any]:
    """The SHA-256 of each of ``files`` by its path relative to ``root``, and one digest of them all:
    the same code gives the same record wherever the project lies."""
    digests = {path.relative_to(root).as_posix(): file_digest(path) for path in sorted(files)}
    whole = hashlib.sha256("".join(f"{name}\0{digest}\n" for name, digest in sorted(digests.items())).encode())
    return {"sha256": whole.hexdigest(), "files": digests}


def module_code(modules: Iterable[str]) -> dict[str, Any]:
    """:func:`code_record` of the :func:`source_files` of ``modules``, named as in the package's
    folder (``mict_pipeline/clips/transforms.py``)."""
    return code_record(source_files(modules), Path(importlib.util.find_spec(PACKAGE).origin).parent.parent)


def changed_files(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The files that differ between two :func:`code_record` results: changed, added or removed."""
    before, after = old.get("files", {}), new.get("files", {})
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
