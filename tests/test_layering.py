"""``detectors`` is a pure library: it never imports ``monitor``, Kafka or SQL, and torch only
lazily, inside the functions of ``detectors/multivariate`` (or for type checking there)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("monitor", "kafka", "sqlalchemy", "fastapi", "torch")
LAZY_TORCH = ROOT / "detectors" / "multivariate"


def imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name.split(".")[0] for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [node.module.split(".")[0]]
    return []


def is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test) in {
        "TYPE_CHECKING", "typing.TYPE_CHECKING"}


def imports_with_place(tree: ast.AST) -> list[tuple[str, str]]:
    """``(module, place)`` of every import; place is "function", "type_checking" or "module"."""
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, place: str) -> None:
        found.extend((name, place) for name in imported(node))
        if isinstance(node, ast.If) and is_type_checking(node) and place == "module":
            for stmt in node.body:
                visit(stmt, "type_checking")
            for stmt in node.orelse:  # the runtime branch
                visit(stmt, place)
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            place = "function"
        for child in ast.iter_child_nodes(node):
            visit(child, place)

    visit(tree, "module")
    return found


def offenders(source: str, path: Path) -> list[str]:
    lazy_ok = LAZY_TORCH in path.parents
    return [f"{path.relative_to(ROOT)}: {name} ({place})"
            for name, place in imports_with_place(ast.parse(source))
            if name in FORBIDDEN
            and not (name == "torch" and lazy_ok and place in {"function", "type_checking"})]


def test_detectors_imports_nothing_from_the_service() -> None:
    found = [o for p in (ROOT / "detectors").rglob("*.py") for o in offenders(p.read_text(), p)]
    assert found == []


def test_torch_only_inside_functions_of_multivariate() -> None:
    lazy = "def f():\n    import torch.nn\n"
    typing_only = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import torch\n"
    eager = "import numpy\nfrom torch import nn\n"
    inside = LAZY_TORCH / "example.py"
    elsewhere = ROOT / "detectors" / "drift" / "example.py"
    assert offenders(lazy, inside) == offenders(typing_only, inside) == []
    assert offenders(eager, inside) == ["detectors/multivariate/example.py: torch (module)"]
    runtime_branch = typing_only + "else:\n    import torch\n"
    assert offenders(runtime_branch, inside) == [
        "detectors/multivariate/example.py: torch (module)"]
    assert offenders(lazy, elsewhere) == ["detectors/drift/example.py: torch (function)"]
    assert offenders(typing_only, elsewhere) == [
        "detectors/drift/example.py: torch (type_checking)"]
