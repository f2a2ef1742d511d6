"""Building blocks of every configuration model: strict models, durations, name patterns.

>>> _check_duration("15m")
'15m'
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from monitor.timeutil import parse_duration

MODEL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$"


class ConfigError(ValueError):
    """A model configuration is invalid; ``errors`` lists (field path, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{loc}: {msg}" for loc, msg in errors))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Duration = Annotated[str | int, Field(description="e.g. 30s, 15m, 1h, 1d, 7d")]


def _check_duration(value: str | int) -> str | int:
    parse_duration(value)
    return value
