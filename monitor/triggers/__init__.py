"""Retraining triggers, the pure parts (RELIABILITY promise 9).

- :mod:`monitor.triggers.policy`: ``TriggerPolicy`` (which alerts, persistence, cooldown,
  concurrency, daily budget, approval, where to send), ``decide()`` and ``trigger_id()``;
- :mod:`monitor.triggers.targets`: the ``dispatch`` section (http, airflow, kubeflow, pull);
- :mod:`monitor.triggers.dispatch`: one idempotent delivery attempt per adapter.

The caller owns time, the database (counts, cooldown and the audit trail, read and written in
one transaction) and the outbox that retries deliveries.
"""
