"""Model configuration (CONTRACT section 2): parsed, validated, refused as a whole when wrong.

>>> cfg = parse_config({"model_id": "m", "task": "binary_classification", "window": "1h",
...                     "features": [{"name": "age", "type": "numeric"}]})
>>> cfg.window_ms, cfg.lateness.allowed_lateness_ms
(3600000, 3600000)
>>> try:
...     parse_config({"model_id": "m", "task": "binary", "window": "1h", "features": []})
... except ConfigError as exc:
...     for field, message in exc.errors:
...         print(field, "->", message[:40])
task -> Input should be 'binary_classification',
features -> List should have at least 1 item after v
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from monitor.alerting.rules import AlertingConfig
from monitor.config_base import (
    MODEL_ID_PATTERN,
    NAME_PATTERN,
    ConfigError,
    Duration,
    _check_duration,
    _Strict,
)
from monitor.timeutil import parse_duration
from monitor.triggers.policy import TriggerPolicy

__all__ = ["MODEL_ID_PATTERN", "NAME_PATTERN", "ConfigError", "Duration", "ModelConfig",
           "load_config_file", "parse_config"]



class FeatureSpec(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    type: Literal["numeric", "categorical", "embedding"]


class KpiSpec(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    numerator: str = Field(min_length=1, max_length=128)
    denominator: str = Field(default="predictions", min_length=1, max_length=128)


class LatenessConfig(_Strict):
    """How long event time may run backwards (watermark) and how late a window may be revised."""

    out_of_orderness: Duration = "5m"
    allowed_lateness: Duration = "1h"
    feedback_lateness: Duration = "7d"

    _check = field_validator("out_of_orderness", "allowed_lateness", "feedback_lateness")(
        _check_duration
    )

    @property
    def out_of_orderness_ms(self) -> int:
        return parse_duration(self.out_of_orderness)

    @property
    def allowed_lateness_ms(self) -> int:
        return parse_duration(self.allowed_lateness)

    @property
    def feedback_lateness_ms(self) -> int:
        """How long feedback waits for its prediction before it is an orphan."""
        return parse_duration(self.feedback_lateness)


DRIFT_METHODS = ("auto", "ks", "chisquare", "z", "psi", "jensenshannon", "wasserstein",
                 "hellinger", "kl_div", "tvd", "linf", "anderson", "cramer_von_mises", "ed",
                 "fisher_exact")


class EffectSizeFloor(_Strict):
    """Smallest shift the calibrated mode alerts on, whatever the window size."""

    numeric: float = Field(default=0.075, ge=0, description="normed Wasserstein distance")
    categorical: float = Field(default=0.1, ge=0, description="Jensen-Shannon distance")


class MultivariateConfig(_Strict):
    """Joint drift of all numeric features, and of each embedding feature (torch)."""

    enabled: bool = True
    method: Literal["mmd", "domain_classifier"] = "mmd"
    threshold: float = Field(default=0.05, gt=0, lt=1, description="p-value")
    n_permutations: int = Field(default=100, ge=10, le=10_000)
    min_samples: int = Field(default=100, ge=10)
    device: Literal["auto", "cpu", "cuda"] = "auto"


CONCEPT_DETECTORS = ("ddm", "eddm", "hddm_a", "hddm_w", "adwin", "page_hinkley", "kswin",
                     "cusum")


class ConceptConfig(_Strict):
    """Streaming detectors on the per-prediction error stream (docs/performance.md)."""

    enabled: bool = True
    detectors: list[Literal[CONCEPT_DETECTORS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(CONCEPT_DETECTORS), max_length=len(CONCEPT_DETECTORS))


class DriftConfig(_Strict):
    """How data and prediction drift are tested (see docs/drift.md)."""

    mode: Literal["calibrated", "evidently"] = "calibrated"
    false_alarm_rate: float = Field(default=0.01, gt=0, lt=0.5)
    correction: Literal["bh", "bonferroni"] = "bh"
    effect_size_floor: EffectSizeFloor = Field(default_factory=EffectSizeFloor)
    resamples: int = Field(default=2000, ge=200, le=100_000)
    seed: int = Field(default=0, ge=0)
    method: Literal[DRIFT_METHODS] = "auto"  # type: ignore[valid-type]  # Literal of a tuple
    threshold: float | None = Field(default=None, gt=0)
    warning: float = Field(default=0.1, gt=0, description="PSI warning (method: psi)")
    alert: float = Field(default=0.25, gt=0, description="PSI alert (method: psi)")
    min_samples: int = Field(default=50, ge=1)
    bins: int = Field(default=10, ge=2, le=100)
    resolution: int = Field(default=5, ge=1, le=20)
    max_categories: int = Field(default=50, ge=1, le=1000)
    sample_size: int = Field(default=1000, ge=10, le=20_000)
    reference_sample_size: int = Field(default=5000, ge=10, le=100_000)
    drift_share_alert: float = Field(default=0.5, gt=0, le=1)
    multivariate: MultivariateConfig = Field(default_factory=MultivariateConfig)

    def policy(self) -> str:
        """The false-alarm budget in plain words (docs/drift.md).

        >>> DriftConfig().policy()[:70]
        'calibrated: about one false data-drift alert per 100 windows per model'
        """
        if self.method != "auto":
            return (f"every feature tested with {self.method} at a fixed threshold; "
                    "no false-alarm budget")
        if self.mode == "evidently":
            return ("evidently: Evidently's default tests and fixed thresholds; no false-alarm "
                    "budget (fixed thresholds alarm often on small windows)")
        per = round(1 / self.false_alarm_rate)
        floor = self.effect_size_floor
        return (f"calibrated: about one false data-drift alert per {per} windows per model "
                f"(false_alarm_rate {self.false_alarm_rate}, {self.correction} correction "
                f"across features; alerts need a normed Wasserstein distance >= {floor.numeric} "
                f"or a Jensen-Shannon distance >= {floor.categorical}; fewer than "
                f"{self.min_samples} values is insufficient_data)")

    @model_validator(mode="after")
    def _ordered(self) -> DriftConfig:
        if self.warning > self.alert:
            raise ValueError("warning must not exceed alert")
        return self


class QualityConfig(_Strict):
    """Absolute increase over the reference share that makes a warning or an alert."""

    warning_increase: float = Field(default=0.05, ge=0, le=1)
    alert_increase: float = Field(default=0.1, ge=0, le=1)


class SlicingConfig(_Strict):
    """How slices are reported and searched (docs/slices.md)."""

    min_support: int = Field(default=30, ge=1)
    max_values: int = Field(default=50, ge=1, le=1000)
    fdr: float = Field(default=0.05, gt=0, lt=1)
    top_k: int = Field(default=10, ge=1, le=100)
    pairs: bool = True
    sequential_delta: float = Field(default=0.02, ge=0, lt=1)
    sequential_alpha: float = Field(default=0.05, gt=0, lt=1)
    max_tracked: int = Field(default=500, ge=1, le=100_000)


class ModelConfig(_Strict):
    model_id: str = Field(pattern=MODEL_ID_PATTERN)
    task: Literal["binary_classification", "multiclass_classification", "regression"]
    window: Duration
    features: list[FeatureSpec] = Field(min_length=1, max_length=2000)
    slices: list[str] = Field(default_factory=list, max_length=50)
    kpis: list[KpiSpec] = Field(default_factory=list, max_length=100)
    lateness: LatenessConfig = Field(default_factory=LatenessConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    concept: ConceptConfig = Field(default_factory=ConceptConfig)
    slicing: SlicingConfig = Field(default_factory=SlicingConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    alerting: AlertingConfig = Field(default_factory=AlertingConfig)
    retraining: TriggerPolicy = Field(default_factory=TriggerPolicy)
    description: str = Field(default="", max_length=2000)

    _check_window = field_validator("window")(_check_duration)

    @field_validator("window")
    @classmethod
    def _window_size(cls, value: str | int) -> str | int:
        ms = parse_duration(value)
        if ms < 1000 or ms > 366 * 86_400_000:
            raise ValueError("window must be between 1s and 366d")
        return value

    @field_validator("features")
    @classmethod
    def _unique_features(cls, value: list[FeatureSpec]) -> list[FeatureSpec]:
        names = [f.name for f in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate feature names: {', '.join(dupes)}")
        return value

    @field_validator("slices")
    @classmethod
    def _slice_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name or len(name) > 128:
                raise ValueError("slice dimensions must be non-empty names")
        if len(set(value)) != len(value):
            raise ValueError("duplicate slice dimensions")
        return value

    @cached_property
    def window_ms(self) -> int:
        return parse_duration(self.window)

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def parse_config(data: object) -> ModelConfig:
    """Validate a configuration document; raise :class:`ConfigError` naming every bad field."""
    if not isinstance(data, dict):
        raise ConfigError([("<root>", "a model configuration must be a mapping")])
    try:
        config = ModelConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            [(".".join(str(p) for p in e["loc"]) or "<root>", e["msg"]) for e in exc.errors()]
        ) from None
    errors = _cross_field_errors(config)
    if errors:
        raise ConfigError(errors)
    return config


def _cross_field_errors(config: ModelConfig) -> list[tuple[str, str]]:
    """What each field allows alone but the document does not: slice dimensions and KPIs."""
    errors = []
    types = {f.name: f.type for f in config.features}
    for i, dim in enumerate(config.slices):
        if types.get(dim) == "embedding":
            errors.append((f"slices.{i}", f"{dim!r} is an embedding feature; slice dimensions "
                                          "are categorical or numeric features, or tags"))
    seen: dict[str, int] = {}
    for i, kpi in enumerate(config.kpis):
        if kpi.name in seen:
            errors.append((f"kpis.{i}.name", f"KPI {kpi.name!r} is defined twice "
                                             f"(also kpis.{seen[kpi.name]})"))
        seen.setdefault(kpi.name, i)
        if kpi.numerator == "predictions":
            errors.append((f"kpis.{i}.numerator", "the numerator is a feedback event name; "
                                                  "'predictions' may only be a denominator"))
        elif kpi.numerator == kpi.denominator:
            errors.append((f"kpis.{i}.denominator", f"numerator and denominator are both "
                                                    f"{kpi.numerator!r}"))
    return errors


def load_config_file(path: str | Path) -> ModelConfig:
    """Read YAML or JSON from ``path`` and validate it."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError([("<file>", f"cannot parse {path}: {exc}")]) from None
    return parse_config(data)
