"""Where the model fails: the worst slices of each window, and evidence that builds up across
windows (``slice_performance`` records ``worst.<target>`` and ``sequential.<target>``).

A *target* is a 0/1 "bad" flag per prediction (:func:`targets`):

- ``error_rate``: labelled predictions; bad is a wrong class (classifiers), or an absolute error
  above the window's median absolute error (regression: the slices holding more of the large
  errors).
- one per KPI (``<kpi name>``): the predictions (or, for a KPI over another event, the
  predictions with that event); bad is a *miss*, no numerator event. Its records report the
  KPI's hit rate, so a slice whose CTR fell shows a lower ``value`` than the rest.

**Per window** (:func:`worst_records`): every single dimension and pair of dimensions with at
least ``slicing.min_support`` rows is tested against the rest of the window (one-sided z-test,
:mod:`detectors.slices`), with Benjamini-Hochberg at ``slicing.fdr`` over all slices of the
window and target; the ``slicing.top_k`` worst are records. ``value`` is the slice's rate,
``threshold`` the rest's, ``status`` ``alert`` for a discovery. On a stream where no slice
differs, at most ``fdr`` of a target's windows hold any discovery.

**Across windows** (:func:`sequential_update`, when a window becomes final): each slice's counts
feed a mixture SPRT of "the slice's bad rate exceeds the rest's by more than
``slicing.sequential_delta``" (:class:`detectors.slices.MixtureSPRT`), so a slice too small to
stand out in one window is found over several. Each slice is tested at ``sequential_alpha /
max_tracked``, so the chance that *any* of up to ``max_tracked`` slices without such an excess
ever alarms, however many windows are watched, is at most ``sequential_alpha`` (Ville's
inequality and a union bound). The ``top_k`` slices with the strongest evidence are records:
``value`` the cumulative excess rate, ``threshold`` the tolerated excess, ``p_value`` always
valid, ``n`` the cumulative rows, ``status`` ``alert`` once the slice alarmed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from monitor.config import KpiSpec, ModelConfig
from monitor.performance_eval import RecordBuilder, prediction_error
from monitor.records import ALERT, OK, MetricRecord
from monitor.store import Outcome

ERROR_RATE = "error_rate"
SEQUENTIAL_KEY = "__slices__"

Target = tuple[list[dict[str, str]], np.ndarray]


def _errors(config: ModelConfig, outcomes: list[Outcome]) -> Target:
    rows, errs = [], []
    for o in outcomes:
        if not o.labelled:
            continue
        e = prediction_error(config, o)
        if e is not None:
            rows.append(o.slices)
            errs.append(e)
    arr = np.asarray(errs, dtype=np.float64)
    if config.task == "regression" and arr.size:
        return rows, (arr > float(np.median(arr))).astype(np.int64)
    return rows, arr.astype(np.int64)


def _misses(spec: KpiSpec, outcomes: list[Outcome]) -> Target | None:
    if not any(spec.numerator in o.events for o in outcomes):
        return None  # its events never arrived: nothing to compare (the kpi record says so)
    if spec.denominator == "predictions":
        base = outcomes
    else:
        base = [o for o in outcomes if o.events.get(spec.denominator, 0.0) > 0]
    return ([o.slices for o in base],
            np.asarray([o.events.get(spec.numerator, 0.0) <= 0 for o in base], dtype=np.int64))


def targets(config: ModelConfig, outcomes: list[Outcome]) -> dict[str, Target]:
    """``{target: (slice values per row, 0/1 bad per row)}`` of a window's outcomes."""
    if not config.slices:
        return {}
    out: dict[str, Target] = {ERROR_RATE: _errors(config, outcomes)}
    for spec in config.kpis:
        found = _misses(spec, outcomes)
        if found is not None:
            out[spec.name] = found
    return {k: v for k, v in out.items() if v[1].size}


def _is_kpi(target: str) -> bool:
    return target != ERROR_RATE


def worst_records(config: ModelConfig, window_start: int, outcomes: list[Outcome],
                  revision: int = 0) -> list[MetricRecord]:
    """The ``top_k`` worst slices of a window per target (module docstring)."""
    from detectors.slices import worst_slices

    s = config.slicing
    out = RecordBuilder(config, window_start, revision)
    for target, (rows, bad) in targets(config, outcomes).items():
        found = worst_slices(rows, bad, min_support=s.min_support, fdr=s.fdr, top_k=s.top_k,
                             pairs=s.pairs and len(config.slices) > 1)
        for r in found:
            if _is_kpi(target):  # the KPI's hit rate: 1 - miss rate
                value, rest, ci = 1.0 - r.rate, 1.0 - r.rest_rate, (1.0 - r.ci_high,
                                                                    1.0 - r.ci_low)
            else:
                value, rest, ci = r.rate, r.rest_rate, (r.ci_low, r.ci_high)
            out.add("slice_performance", f"worst.{target}", value, r.n,
                    ALERT if r.significant else OK, slice_key=r.slice, threshold=rest,
                    p_value=r.p_value, ci=ci)
    return out.records


def _new_test(config: ModelConfig) -> Any:
    from detectors.slices import MixtureSPRT

    s = config.slicing
    return MixtureSPRT(delta=s.sequential_delta, alpha=s.sequential_alpha / s.max_tracked,
                       min_n=s.min_support, max_tracked=s.max_tracked)


def sequential_update(config: ModelConfig, saved: dict[str, Any] | None, window_start: int,
                      outcomes: list[Outcome], revision: int = 0
                      ) -> tuple[dict[str, Any], list[MetricRecord]]:
    """Feed one final window to each target's per-slice test; the new state and its records."""
    from detectors.slices import MixtureSPRT, slice_counts

    s = config.slicing
    state: dict[str, Any] = {}
    out = RecordBuilder(config, window_start, revision)
    found = targets(config, outcomes)
    for target in [ERROR_RATE, *(k.name for k in config.kpis)]:
        old = (saved or {}).get(target)
        fresh = _new_test(config)
        test = (MixtureSPRT.from_state(old) if old and old["params"] == fresh.get_params()
                else fresh)
        if target in found:
            rows, bad = found[target]
            counts = slice_counts(rows, bad, pairs=s.pairs and len(config.slices) > 1)
            test.update(counts, (int(bad.size), int(bad.sum())))
        elif test.windows_ == 0:
            continue
        state[target] = test.to_state()
        for e in test.statistics()[: s.top_k]:
            out.add("slice_performance", f"sequential.{target}", e.effect, e.n,
                    ALERT if e.alarmed_at is not None else OK, slice_key=e.slice,
                    threshold=s.sequential_delta, p_value=e.p_value)
    return state, out.records
