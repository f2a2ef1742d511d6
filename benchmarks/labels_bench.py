"""Label benchmarks (sections 9-10 of docs/benchmarks.md), run in one go and spliced in.

    python -m benchmarks.labels_bench --out docs/benchmarks.md          # full sizes
    python -m benchmarks.labels_bench --quick --out /tmp/bench.md       # small sizes

9. Concept-drift detectors: updates per second against River 0.26 on the same seeded error
   stream, and whether both find the same change points (:mod:`benchmarks.concept_bench`).
10. CBPE: estimation error against realized performance on a covariate-shift stream, band
    coverage, and the pure-concept-drift blind spot (:mod:`benchmarks.cbpe_bench`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from pathlib import Path

from benchmarks import cbpe_bench, common, concept_bench

START = "<!-- labels benchmarks: start -->"
END = "<!-- labels benchmarks: end -->"


def _captured(fn: object, argv: list[str]) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        fn(argv)  # type: ignore[operator]
    return buf.getvalue().strip()


def section(quick: bool) -> str:
    began = time.perf_counter()
    n = ["--n", "100000", "--kswin-n", "5000", "--repeats", "1"] if quick else []
    concept = _captured(concept_bench.main, n)
    cbpe = _captured(cbpe_bench.main, ["--references", "3" if quick else "10"])
    machine = common.machine()
    took = (time.perf_counter() - began) / 60
    return "\n".join([
        START,
        "## 9. Labels: concept-drift detectors against River",
        "",
        concept,
        "",
        "## 10. Labels: estimated performance (CBPE) against realized",
        "",
        "Covariate shift (inputs move, P(y | score) stays): mean absolute error of the estimate "
        "against the realized metric per window, bias, share of realized values inside the 95% "
        "band, mean band half-width, and the error of simply repeating the reference's value. "
        "Then the blind spot: pure concept drift, where the estimate cannot follow.",
        "",
        "```",
        cbpe,
        "```",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine['cpu']} "
        f"({machine['cores']} cores){', quick plan' if quick else ''}; took {took:.1f} min.",
        END,
    ])


def splice(document: str, block: str) -> str:
    if START in document and END in document:
        head, rest = document.split(START, 1)
        return head + block + rest.split(END, 1)[1]
    return document.rstrip("\n") + "\n\n" + block + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    block = section(args.quick)
    existing = args.out.read_text() if args.out.exists() else ""
    args.out.write_text(splice(existing, block))
    print(f"wrote the label sections into {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
