"""Write every dashboard to ``dashboards/json/<uid>.json``, or check that the files are current.

    python -m dashboards.generate           # regenerate
    python -m dashboards.generate --check   # exit 1, naming the stale files, if any differ
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from dashboards.catalog import JSON_DIR
from dashboards.definitions import all_dashboards


def render(model: dict[str, Any]) -> str:
    """The committed form of a dashboard: sorted keys, two-space indent, final newline."""
    return json.dumps(model, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated() -> dict[str, str]:
    """File name -> content for every dashboard."""
    return {f"{d.uid}.json": render(d.to_json()) for d in all_dashboards()}


def stale(directory: Path = JSON_DIR) -> list[str]:
    """Files that are missing, different, or no longer generated."""
    want = generated()
    have = {p.name: p.read_text(encoding="utf-8") for p in directory.glob("*.json")}
    return sorted(name for name in want.keys() | have.keys() if want.get(name) != have.get(name))


def write(directory: Path = JSON_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    want = generated()
    for p in directory.glob("*.json"):
        if p.name not in want:
            p.unlink()
    paths = []
    for name, text in want.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards.generate")
    parser.add_argument("--check", action="store_true", help="only compare with the files")
    args = parser.parse_args(argv)
    if args.check:
        names = stale()
        for name in names:
            print(f"stale: dashboards/json/{name}", file=sys.stderr)
        return 1 if names else 0
    for path in write():
        print(f"wrote {path.relative_to(JSON_DIR.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
