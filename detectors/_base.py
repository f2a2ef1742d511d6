"""Shared pieces of the detectors package.

Exception hierarchy::

    DetectorError (ValueError)
    ├── NotFittedError      score or update called before fit
    ├── IncompatibleState   merge of states built on different reference profiles
    └── StateVersionError   a saved state of an unknown version
"""

from __future__ import annotations

from typing import Any

STATE_VERSION = 1


class DetectorError(ValueError):
    """Base class of every error raised by ``detectors``."""


class NotFittedError(DetectorError):
    """A profile was used before ``fit`` learned it from reference data."""


class IncompatibleState(DetectorError):
    """Two states were built on different profiles and cannot be merged."""


class StateVersionError(DetectorError):
    """A saved state has a ``state_version`` this code does not read."""


def check_version(state: dict[str, Any], kind: str) -> None:
    version = state.get("state_version")
    if version != STATE_VERSION:
        raise StateVersionError(f"{kind} state_version {version!r} is not {STATE_VERSION}")
    if state.get("kind") != kind:
        raise StateVersionError(f"expected a {kind} state, got {state.get('kind')!r}")
