"""Driftline's Grafana dashboards, generated from code.

``dashboards.definitions`` builds every dashboard; ``python -m dashboards.generate`` writes them
to ``dashboards/json/`` (committed; a test checks that regenerating changes nothing);
``dashboards.catalog`` reads the committed JSON for ``driftline dashboards push`` and ``export``.
Panels query the PostgreSQL reporting views (schema ``reporting``, migration 0004) through the
SELECT-only role ``driftline_reporting``.
"""
