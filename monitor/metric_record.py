"""The metric record (CONTRACT section 3): every number Driftline computes is one."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from monitor.timeutil import format_ms


@dataclass(frozen=True)
class MetricRecord:
    model_id: str
    window_start: int
    window_end: int
    family: str
    metric: str
    feature: str | None
    slice: str | None
    value: float | None
    threshold: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    status: str
    revision: int = 0

    def to_public(self) -> dict[str, Any]:
        """The contract's JSON shape (times as RFC 3339)."""
        out = asdict(self)
        out["window_start"] = format_ms(self.window_start)
        out["window_end"] = format_ms(self.window_end)
        return out

    def key(self) -> tuple[Any, ...]:
        return (self.model_id, self.window_start, self.family, self.metric,
                self.feature or "", self.slice or "")
