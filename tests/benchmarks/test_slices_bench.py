"""``benchmarks.slices_bench`` writes sections 11-12 between its markers and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import labels_bench, slices_bench
from benchmarks.slices_bench import END, START, splice

HEAD = "# Driftline benchmarks\n\n## 1. Backtest\n\ntext\n\n"
LABELS = f"{labels_bench.START}\n## 9. Labels\n{labels_bench.END}\n"


def test_splice_appends_when_there_are_no_markers() -> None:
    block = f"{START}\nnew\n{END}"
    assert splice(HEAD + LABELS, block) == HEAD + LABELS + "\n" + block + "\n"
    assert splice("", block) == "\n\n" + block + "\n"


def test_splice_replaces_only_between_the_markers() -> None:
    tail = "\n## after\n"
    document = HEAD + LABELS + f"\n{START}\nold\n{END}" + tail
    block = f"{START}\nnew\n{END}"
    assert splice(document, block) == HEAD + LABELS + "\n" + block + tail
    assert splice(splice(document, block), block) == splice(document, block)


def test_the_label_writer_leaves_the_slice_sections_alone() -> None:
    slices = f"{START}\nslices\n{END}\n"
    document = HEAD + LABELS + "\n" + slices
    block = f"{labels_bench.START}\nnew labels\n{labels_bench.END}"
    assert labels_bench.splice(document, block) == HEAD + block + "\n\n" + slices


def test_main_writes_both_sections_into_the_document(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slices_bench, "QUICK", slices_bench.Plan(
        rows=(400,), repeats=1, kpi_windows=20, kpi_streams=20, kpi_repeats=1, null_windows=5))
    out = tmp_path / "benchmarks.md"
    out.write_text(HEAD + LABELS + f"\n{START}\nstale sections\n{END}\n\n## after\n")
    assert slices_bench.main(["--quick", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith(HEAD + LABELS + "\n" + START + "\n## 11. Slices")
    assert text.endswith(END + "\n\n## after\n")
    assert text.count(START) == text.count(END) == 1
    assert "stale sections" not in text
    assert "## 12. KPIs" in text
    block = text[text.index(START):text.index(END)]
    rows = [line for line in block.splitlines() if line.startswith("| 400 |")]
    assert len(rows) == 2 * len(slices_bench.DIMS) * len(slices_bench.VALUES)
    assert "| NO |" not in block  # worst_from_counts(merged partitions) == worst_slices


def test_run_only_slices_calls_the_slice_writer(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import run

    calls: list[list[str]] = []
    monkeypatch.setattr(slices_bench, "main", lambda argv: calls.append(argv) or 0)
    out = tmp_path / "b.md"
    assert run.main(["--only", "slices", "--quick", "--out", str(out)]) == 0
    assert run.main(["--only", "slices", "--out", str(out)]) == 0
    assert calls == [["--out", str(out), "--quick"], ["--out", str(out)]]
