"""Pictures of the dashboards for the README, drawn from the panels' real query results.

Loads the showcase stream (:mod:`dashboards.showcase`) into a PostgreSQL database with
``driftline backtest --into-database``'s code, runs every panel's SQL as Grafana would (macros
expanded, variables set to "All"), and draws each dashboard's panels in its grid layout with
matplotlib: lines for time series, coloured bands for state timelines, a grid for the heatmap,
text for tables and stats. This is not a screenshot of Grafana (there is no Grafana here); the
numbers are exactly what the panels receive.

    python -m dashboards.pictures --database-url postgresql+psycopg://.../scratch \\
        --out docs/img/dashboards

The database must be migrated-or-empty and is written to; use a scratch one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from dashboards.definitions import all_dashboards
from dashboards.grafana import Dashboard, Panel
from dashboards.macros import all_values, run
from dashboards.showcase import HOUR_MS, MODEL_ID, START_MS, WINDOWS, write_showcase

STATUS_COLOURS = {0: "#56a64b", 1: "#ff9830", 2: "#e02f44"}


def load_showcase(engine: Engine, url: str) -> None:
    from monitor.backtest import run_backtest
    from monitor.config import load_config_file
    from monitor.db.migrate import upgrade

    upgrade(url)
    files = write_showcase(Path(tempfile.mkdtemp(prefix="driftline-showcase-")))
    run_backtest(load_config_file(files.config), files.reference, files.predictions,
                 files.feedback, engine=engine)


def _range() -> tuple[datetime, datetime]:
    return (datetime.fromtimestamp(START_MS / 1000, UTC) - timedelta(hours=1),
            datetime.now(UTC) + timedelta(hours=1))


def run_panel(engine: Engine, sql: str, variables: dict[str, list[str]]) -> tuple[list[str],
                                                                                list[Any]]:
    return run(engine, sql, *_range(), variables)


def variables_for(engine: Engine) -> dict[str, list[str]]:
    return all_values(engine, [v for d in all_dashboards() for v in d.variables], *_range(),
                      {"model": [MODEL_ID]})


def _series(rows: list[Any]) -> dict[str, tuple[list[Any], list[float]]]:
    out: dict[str, tuple[list[Any], list[float]]] = {}
    for t, name, value in rows:
        xs, ys = out.setdefault(str(name), ([], []))
        xs.append(t)
        ys.append(float("nan") if value is None else float(value))
    return out


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%m-%d %H:%M")
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)[:28]


def draw_panel(ax: Any, panel: Panel, results: list[tuple[list[str], list[Any]]]) -> None:
    import matplotlib.dates as mdates

    ax.set_title(panel.title, fontsize=9, loc="left", color="#d8d9da")
    ax.set_facecolor("#181b1f")
    for side in ax.spines.values():
        side.set_color("#2c3235")
    ax.tick_params(colors="#9fa7b3", labelsize=7)
    rows = [r for _, rs in results for r in rs]
    if panel.kind == "timeseries":
        for name, (xs, ys) in _series(rows).items():
            band = name.endswith((" low", " high", " threshold"))
            ax.plot(xs, ys, lw=1 if band else 1.8, ls="--" if band else "-",
                    marker=None if band else "o", ms=2.5, label=name)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %Hh"))
        if len(_series(rows)) <= 8:
            ax.legend(fontsize=6, loc="upper left", frameon=False, labelcolor="#d8d9da")
    elif panel.kind in ("state-timeline", "heatmap"):
        series = _series(rows)
        names = sorted(series)
        times = sorted({t for xs, _ in series.values() for t in xs})
        for i, name in enumerate(names):
            for t, v in zip(*series[name], strict=True):
                j = times.index(t)
                colour = (STATUS_COLOURS.get(int(v), "#444") if panel.kind == "state-timeline"
                          else (0.88, 0.18, 0.27, min(1.0, 0.1 + 1.6 * v)))
                ax.add_patch(_rect(j, i, colour))
        ax.set_xlim(0, max(len(times), 1))
        ax.set_ylim(0, max(len(names), 1))
        ax.set_yticks([i + 0.5 for i in range(len(names))], names, fontsize=6)
        ax.set_xticks([j + 0.5 for j in range(0, len(times), 2)],
                      [times[j].strftime("%d %Hh") for j in range(0, len(times), 2)])
    elif panel.kind == "stat":
        value = rows[0][0] if rows else 0
        ax.text(0.5, 0.45, _cell(float(value)), ha="center", va="center", fontsize=26,
                color="#73bf69" if not value else "#ff9830", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
    else:  # table
        columns = results[0][0] if results else []
        shown = [[_cell(v) for v in r] for r in rows[:8]]
        ax.set_xticks([])
        ax.set_yticks([])
        if shown:
            table = ax.table(cellText=shown, colLabels=columns, loc="upper center",
                             cellLoc="left")
            table.auto_set_font_size(False)
            table.set_fontsize(6)
            for cell in table.get_celld().values():
                cell.set_facecolor("#181b1f")
                cell.set_edgecolor("#2c3235")
                cell.get_text().set_color("#d8d9da")


def _rect(x: int, y: int, colour: Any) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x + 0.05, y + 0.1), 0.9, 0.8, color=colour)


def draw(dashboard: Dashboard, engine: Engine, variables: dict[str, list[str]],
         out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model = dashboard.to_json()
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in model["panels"])
    fig = plt.figure(figsize=(16, bottom * 0.42), facecolor="#111217")
    fig.suptitle(f"{dashboard.title}   (model {MODEL_ID}, {WINDOWS} hourly windows)",
                 color="#d8d9da", x=0.01, ha="left", fontsize=12)
    for panel, placed in zip(dashboard.panels, model["panels"], strict=True):
        g = placed["gridPos"]
        labels = 0.05 if panel.kind in ("state-timeline", "heatmap") else 0.0  # row names
        ax = fig.add_axes((g["x"] / 24 + 0.035 + labels,
                           1 - (g["y"] + g["h"]) / bottom * 0.94 - 0.01,
                           g["w"] / 24 - 0.05 - labels, g["h"] / bottom * 0.94 - 0.05))
        draw_panel(ax, panel, [run_panel(engine, t.sql, variables) for t in panel.targets])
    path = out / f"{dashboard.uid}.png"
    fig.savefig(path, dpi=80, facecolor=fig.get_facecolor())
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    from monitor.db.engine import make_engine

    parser = argparse.ArgumentParser(prog="python -m dashboards.pictures")
    parser.add_argument("--database-url", required=True, help="a scratch PostgreSQL database")
    parser.add_argument("--out", default="docs/img/dashboards")
    args = parser.parse_args(argv)
    engine = make_engine(args.database_url)
    if engine.dialect.name != "postgresql":
        print("the reporting views exist on PostgreSQL only", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"loading the showcase stream ({WINDOWS} windows of {HOUR_MS // 60000} minutes)...")
    load_showcase(engine, args.database_url)
    variables = variables_for(engine)
    for d in all_dashboards():
        print(f"wrote {draw(d, engine, variables, out)}")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
