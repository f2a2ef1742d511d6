"""Driftline's six dashboards: overview, feature drift, performance, slices, KPIs, operations.

Every panel reads the reporting views; descriptions say, in business terms, how to read it.

>>> [d.uid for d in all_dashboards()]  # doctest: +NORMALIZE_WHITESPACE
['driftline-overview', 'driftline-features', 'driftline-performance', 'driftline-slices',
 'driftline-kpis', 'driftline-operations']
"""

from __future__ import annotations

from dashboards.grafana import Annotation, Dashboard, Panel, Target, Variable
from dashboards.queries import RecordQuery

MODEL = Variable("model", "Model", "SELECT model_id FROM reporting.models ORDER BY 1")
FEATURE = Variable(
    "feature", "Feature",
    "SELECT DISTINCT feature FROM reporting.metric_records WHERE model_id = ${model:sqlstring}"
    " AND family = 'data_drift' AND feature IS NOT NULL ORDER BY 1", multi=True)
SLICE = Variable(
    "slice", "Slice",
    "SELECT DISTINCT slice FROM reporting.metric_records WHERE model_id = ${model:sqlstring}"
    " AND family = 'slice_performance' AND metric = 'count' AND slice IS NOT NULL ORDER BY 1",
    multi=True)
KPI = Variable(
    "kpi", "KPI",
    "SELECT DISTINCT metric FROM reporting.metric_records WHERE model_id = ${model:sqlstring}"
    " AND family = 'kpi' AND metric NOT LIKE '%.%' ORDER BY 1")

ALERTS = Annotation(
    "Alerts",
    "SELECT time, time_end AS timeend, rule || ': ' || COALESCE(summary, '') AS text,"
    " severity || ',' || state AS tags\nFROM reporting.alerts\n"
    "WHERE model_id = ${model:sqlstring} AND $__timeFilter(time)\nORDER BY 1", "red")
TRIGGERS = Annotation(
    "Retraining triggers",
    "SELECT time, 'retraining ' || status || ': ' || reason AS text, 'retraining' AS tags\n"
    "FROM reporting.triggers\nWHERE model_id = ${model:sqlstring} AND $__timeFilter(time)\n"
    "ORDER BY 1", "purple")

STATUS_COLOURS = [
    {"type": "value", "options": {
        "0": {"text": "ok", "color": "green", "index": 0},
        "1": {"text": "warning", "color": "orange", "index": 1},
        "2": {"text": "alert", "color": "red", "index": 2}}},
]
LABEL_METRICS = ("label_coverage", "label_delay_p50_s", "label_delay_p95_s",
                 "estimated_performance")
CALIBRATION = ("brier", "ece", "log_loss")
SLICE_TABLE = ("metric AS target", "slice", "value", "threshold AS rest", "ci_low", "ci_high",
               "p_value", "n", "status")


def series(q: RecordQuery) -> Target:
    return Target(q.sql(), "time_series", q)


def table(q: RecordQuery) -> Target:
    return Target(q.sql(), "table", q)


def line(title: str, description: str, *targets: Target, unit: str | None = None,
         width: int = 12, **kw: object) -> Panel:
    return Panel(title, "timeseries", list(targets), description, width=width, unit=unit,
                 custom={"lineWidth": 2, "pointSize": 5, "showPoints": "always",
                         "spanNulls": False}, **kw)  # type: ignore[arg-type]


def statuses(title: str, description: str, target: Target, width: int = 12) -> Panel:
    return Panel(title, "state-timeline", [target], description, width=width,
                 mappings=STATUS_COLOURS, steps=[(1, "orange"), (2, "red")],
                 options={"showValue": "never", "mergeValues": False, "rowHeight": 0.8})


def grid(title: str, description: str, target: Target, width: int = 12,
         height: int = 8) -> Panel:
    return Panel(title, "table", [target], description, width=width, height=height,
                 options={"showHeader": True, "cellHeight": "sm"})


def label_coverage(description: str) -> Panel:
    return line("Label coverage", description,
                series(RecordQuery("performance", metrics=("label_coverage",))),
                unit="percentunit", min=0, max=1)


# ---------------------------------------------------------------------- overview
def overview() -> Dashboard:
    panels = [
        line("Share of drifted features",
             "Of the model's input features, the share whose distribution moved away from the "
             "reference in each window. The dashed line is the share at which the window "
             "counts as drifted.",
             series(RecordQuery("data_drift", metrics=("drift_share",),
                                bands=("threshold",))),
             unit="percentunit", min=0, max=1),
        grid("Drifted features in the latest window",
             "Each feature's drift score against its threshold in the newest window of the "
             "time range, worst first. Open Feature drift for the history.",
             table(RecordQuery("data_drift", feature="any", exclude=("drift_share",),
                               series=("feature",),
                               table=("feature", "metric", "value", "threshold", "p_value",
                                      "n", "status")))),
        line("Performance: realized and estimated",
             "Realized accuracy and ROC AUC need labels; the estimated ones come from the "
             "model's own confidence and are available as soon as predictions arrive. A gap "
             "between them is a sign that the model's confidence no longer fits reality.",
             series(RecordQuery("performance", metrics=("accuracy", "roc_auc"),
                                name_prefix="realized ")),
             series(RecordQuery("estimated_performance", metrics=("accuracy", "roc_auc"),
                                name_prefix="estimated ")),
             min=0, max=1),
        line("KPIs with 95% intervals",
             "Each business KPI per window (for example the click-through rate), with the "
             "band of values the window's data is consistent with.",
             series(RecordQuery("kpi", plain=True, bands=("ci_low", "ci_high"))),
             unit="percentunit"),
        label_coverage("The share of predictions whose outcome (label) has arrived. Realized "
                       "performance is only as good as this coverage."),
        grid("Alerts",
             "Alert episodes of this model that were open during the time range: when they "
             "started and ended (event time), the rule, and what it is about.",
             Target("SELECT time AS started, time_end AS ended, rule, severity, state, family,"
                    " metric, feature, slice, summary\nFROM reporting.alerts\n"
                    "WHERE model_id = ${model:sqlstring} AND time <= $__timeTo()\n"
                    "  AND (time_end IS NULL OR time_end >= $__timeFrom())\n"
                    "ORDER BY time DESC, alert_id\nLIMIT 200")),
        grid("Retraining triggers",
             "Requests to retrain the model, why they were made and where they stand "
             "(pending, dispatched, running, succeeded, failed, suppressed).",
             Target("SELECT time, trigger_id, status, reason, manual\nFROM reporting.triggers"
                    "\nWHERE model_id = ${model:sqlstring} AND $__timeFilter(time)\n"
                    "ORDER BY time DESC, trigger_id\nLIMIT 200"), width=24, height=6),
    ]
    return Dashboard("driftline-overview", "Driftline: model overview",
                     "Is the model healthy? Drift, performance, KPIs, label coverage, alerts "
                     "and retraining, per window.", panels, [MODEL], [ALERTS, TRIGGERS])


# ---------------------------------------------------------------------- features
def features() -> Dashboard:
    panels = [
        line("Drift score by feature",
             "How far each selected feature's distribution is from the reference (the "
             "feature's drift metric: Wasserstein distance in standard deviations for numbers, "
             "Jensen-Shannon distance for categories).",
             series(RecordQuery("data_drift", series=("feature", "metric"), feature="var",
                                exclude=("drift_share",))),
             width=24),
        statuses("Drift verdict by feature and window",
                 "Green: like the reference; orange: a warning; red: drifted.",
                 series(RecordQuery("data_drift", series=("feature",), value="status",
                                    feature="var", exclude=("drift_share",)))),
        grid("Latest window by feature",
             "The newest window's scores, thresholds, p-values and sample sizes, worst first.",
             table(RecordQuery("data_drift", series=("feature",),
                               table=("feature", "metric", "value", "threshold", "p_value",
                                      "n", "status"), feature="var", exclude=("drift_share",)))),
        line("Data quality",
             "Missing values, out-of-range numbers, unseen categories and type violations, as "
             "shares of the window's rows.",
             series(RecordQuery("data_quality", feature="var", series=("feature", "metric"),
                                exclude=("schema_change",))), unit="percentunit"),
        line("Prediction drift",
             "How far the distribution of the model's outputs moved from the reference.",
             series(RecordQuery("prediction_drift", feature="any",
                                series=("feature", "metric")))),
        line("Multivariate drift",
             "Drift of all features together (MMD or a domain classifier): catches changes in "
             "how features relate that no single feature shows.",
             series(RecordQuery("multivariate_drift", series=("metric",)),
                    ), width=24),
    ]
    return Dashboard("driftline-features", "Driftline: feature drift",
                     "Which inputs moved, by how much, and since when.", panels,
                     [MODEL, FEATURE], [ALERTS])


# ---------------------------------------------------------------------- performance
def performance() -> Dashboard:
    panels = [
        line("Realized performance",
             "Quality measured against the labels that have arrived.",
             series(RecordQuery("performance", exclude=LABEL_METRICS + CALIBRATION)),
             width=24),
        line("Estimated performance (label-free)",
             "What the model's confidence implies its quality is, before labels arrive.",
             series(RecordQuery("estimated_performance"))),
        line("Calibration",
             "Brier score, expected calibration error and log loss: lower is better.",
             series(RecordQuery("performance", metrics=CALIBRATION))),
        label_coverage("The share of the window's predictions that have a label."),
        line("Label delay",
             "How long labels take to arrive after the prediction (median and 95th "
             "percentile).",
             series(RecordQuery("performance",
                                metrics=("label_delay_p50_s", "label_delay_p95_s"))),
             unit="s"),
        statuses("Concept drift detectors",
                 "Each detector's verdict on the stream of errors: red when the relation "
                 "between inputs and outcomes changed.",
                 series(RecordQuery("concept_drift", series=("metric",), value="status")),
                 width=24),
    ]
    return Dashboard("driftline-performance", "Driftline: performance",
                     "How good are the predictions, measured and estimated.", panels,
                     [MODEL], [ALERTS, TRIGGERS])


# ---------------------------------------------------------------------- slices
def slices() -> Dashboard:
    panels = [
        grid("Worst slices in the latest window",
             "Segments doing worse than the rest of the window (error rate, and each KPI's "
             "misses), worst first; `alert` marks a finding that survives the false-discovery "
             "correction. `rest` is the rate outside the segment.",
             table(RecordQuery("slice_performance", metric_prefix="worst.", slice="any",
                               series=("slice",), table=SLICE_TABLE, limit=50)),
             width=24, height=9),
        Panel("Error rate by slice and window", "heatmap",
              [series(RecordQuery("slice_performance", metrics=("accuracy",), slice="var",
                                  series=("slice",), value="error"))],
              "Each row a segment, each column a window; the darker, the more of its "
              "predictions were wrong.", width=24, height=9,
              options={"calculate": False, "cellGap": 1,
                       "color": {"mode": "scheme", "scheme": "Reds", "steps": 64,
                                 "exponent": 0.5, "fill": "dark-red", "reverse": False},
                       "yAxis": {"axisPlacement": "left"}, "rowsFrame": {"layout": "auto"},
                       "cellValues": {"unit": "percentunit", "decimals": 0},
                       "tooltip": {"mode": "single", "yHistogram": False},
                       "legend": {"show": True}}),
        grid("Evidence across windows",
             "Segments whose bad rate has been above the rest's for long enough to be sure "
             "(an always-valid sequential test): `alert` means sure.",
             table(RecordQuery("slice_performance", metric_prefix="sequential.", slice="any",
                               series=("slice",), table=SLICE_TABLE, limit=50))),
        line("Prediction drift by slice",
             "How far each segment's predictions moved from the same segment in the "
             "reference.",
             series(RecordQuery("slice_performance", metrics=("prediction_drift",),
                                slice="var", series=("slice",)))),
        line("Slice sizes",
             "Predictions per window in each selected segment.",
             series(RecordQuery("slice_performance", metrics=("count",), slice="var",
                                series=("slice",))), width=24),
    ]
    return Dashboard("driftline-slices", "Driftline: slices",
                     "Which segments suffer.", panels, [MODEL, SLICE], [ALERTS])


# ---------------------------------------------------------------------- KPIs
def kpis() -> Dashboard:
    panels = [
        line("KPI with its 95% interval",
             "The selected KPI per window, for the whole model, with the band its data is "
             "consistent with.",
             series(RecordQuery("kpi", metric_template="{kpi}", bands=("ci_low", "ci_high"))),
             unit="percentunit", width=24),
        line("KPI by slice",
             "The same KPI in each selected segment.",
             series(RecordQuery("kpi", metric_template="{kpi}", slice="var",
                                series=("slice",))), unit="percentunit"),
        statuses("Change test",
                 "Red once an always-valid test is sure the KPI fell below its reference "
                 "level; it does not cry wolf on noisy windows.",
                 series(RecordQuery("kpi", metric_template="{kpi}.change", series=("metric",),
                                    value="status"))),
        grid("Segments missing the KPI most (latest window)",
             "Segments where the KPI is lowest compared with the rest of the window.",
             table(RecordQuery("slice_performance", metric_template="worst.{kpi}",
                               slice="any", series=("slice",), table=SLICE_TABLE, limit=50)),
             width=24),
    ]
    return Dashboard("driftline-kpis", "Driftline: KPIs",
                     "Business outcomes of the model's predictions.", panels,
                     [MODEL, KPI, SLICE], [ALERTS, TRIGGERS])


# ---------------------------------------------------------------------- operations
def operations() -> Dashboard:
    panels = [
        line("Events per second (event time)",
             "Predictions applied per second of event time in each window of the model.",
             series(RecordQuery("ingestion", metrics=("events",), value="per_second")),
             unit="reqps"),
        Panel("Consumer lag", "stat",
              [Target("SELECT COALESCE(SUM(lag), 0) AS lag\nFROM reporting.consumer_partitions")],
              "Messages waiting in Kafka, over every partition the service consumes.",
              width=4, unit="short", steps=[(10_000, "orange"), (100_000, "red")]),
        Panel("Outbox backlog", "stat",
              [Target("SELECT COUNT(*) AS backlog\nFROM reporting.outbox\n"
                      "WHERE status = 'pending'")],
              "Notifications and retraining triggers not yet delivered.", width=4,
              unit="short", steps=[(1, "orange"), (100, "red")]),
        Panel("Oldest undelivered", "stat",
              [Target("SELECT COALESCE(EXTRACT(EPOCH FROM (now() - MIN(time))), 0) AS age\n"
                      "FROM reporting.outbox\nWHERE status = 'pending'")],
              "Age of the oldest undelivered message.", width=4, unit="s",
              steps=[(300, "orange"), (3600, "red")]),
        grid("Lag by partition",
             "Per topic and partition: next offset, high-water mark, lag, the latest event "
             "time seen, and the counters of accepted, duplicate, late and dead-lettered "
             "events.",
             Target("SELECT consumer_group, topic, partition, lag, next_offset, highwater,"
                    " latest_event_time, accepted, duplicates, late, dead_letters\n"
                    "FROM reporting.consumer_partitions\nORDER BY consumer_group, topic, "
                    "partition"), width=24, height=7),
        line("Dead letters per window",
             "Events of this model that could not be processed, by the window they belong to.",
             series(RecordQuery("ingestion", metrics=("dead_letters",)))),
        grid("Dead letters by reason",
             "Events that could not be processed and why, received in the time range.",
             Target("SELECT reason, stream, COUNT(*) AS events, MAX(time) AS last_seen\n"
                    "FROM reporting.dead_letters\nWHERE $__timeFilter(time)\n"
                    "GROUP BY reason, stream\nORDER BY events DESC, reason, stream")),
        line("Late events per window",
             "Valid events that arrived after their window's allowed lateness: counted, not "
             "applied.",
             series(RecordQuery("ingestion", metrics=("late_events",)))),
        grid("Undelivered messages",
             "Pending and failed notifications and triggers with their attempts and last "
             "error.",
             Target("SELECT time, kind, channel_id, trigger_id, model_id, status, attempts,"
                    " next_attempt_at, last_status_code, last_error\nFROM reporting.outbox\n"
                    "WHERE status <> 'sent'\nORDER BY time, id\nLIMIT 200")),
    ]
    return Dashboard("driftline-operations", "Driftline: operations",
                     "Is the pipeline keeping up? Throughput, lag, dead letters, late events, "
                     "deliveries.", panels, [MODEL], time_from="now-24h")


def all_dashboards() -> list[Dashboard]:
    return [overview(), features(), performance(), slices(), kpis(), operations()]
