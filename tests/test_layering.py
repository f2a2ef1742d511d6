"""``detectors`` is a pure library: it never imports ``monitor``, Kafka, SQL or torch."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("monitor", "kafka", "sqlalchemy", "fastapi", "torch")


def test_detectors_imports_nothing_from_the_service() -> None:
    offenders = []
    for path in (ROOT / "detectors").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
