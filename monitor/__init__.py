"""Driftline's service: Kafka ingestion, event-time windows, storage, API, CLI.

``monitor`` turns messages into calls on the pure algorithms in ``detectors`` and owns time,
identity, I/O and persistence. ``detectors`` never imports from here.
"""

__version__ = "0.1.0"
