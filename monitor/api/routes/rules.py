"""A model's alert rules and retraining policy: ``GET|PUT /api/v1/models/{model_id}/rules``.

``PUT`` replaces the ``alerting`` and/or ``retraining`` sections of the stored configuration.
The whole new document is validated as ``PUT /models/{model_id}`` would validate it (422 naming
the field, e.g. ``alerting.rules.0.name``), then stored: ``config_version`` goes up and the
workers pick the change up on their next refresh.
"""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import Connection

from monitor.alert_store import AuditEntry
from monitor.api.deps import DbConn, ModelIdPath, ReadKey, WriteKey
from monitor.api.errors import NotFoundError, invalid
from monitor.api.schemas import RulesPublic, RulesUpdate
from monitor.config import parse_config
from monitor.db import alerting_sql, repository

router = APIRouter(tags=["rules"])


def _rules(conn: Connection, model_id: str) -> RulesPublic:
    info = repository.get_model_info(conn, model_id)
    if info is None:
        raise NotFoundError(f"model {model_id!r} not found")
    config = info.config
    return RulesPublic(model_id=model_id, config_version=info.config_version,
                       alerting=config.alerting,
                       effective_rules=config.alerting.effective_rules(),
                       retraining=config.retraining)


@router.get("/models/{model_id}/rules", response_model=RulesPublic,
            responses={404: {"description": "unknown model"}})
def get_rules(_: ReadKey, conn: DbConn, model_id: ModelIdPath) -> RulesPublic:
    """The model's ``alerting`` and ``retraining`` sections, and the rules in force."""
    return _rules(conn, model_id)


@router.put("/models/{model_id}/rules", response_model=RulesPublic,
            responses={404: {"description": "unknown model"}})
def put_rules(principal: WriteKey, conn: DbConn, model_id: ModelIdPath,
              body: RulesUpdate) -> RulesPublic:
    """Replace the sections given (at least one); the others stay as they are."""
    sections = {name: section.model_dump(mode="json")
                for name, section in (("alerting", body.alerting),
                                      ("retraining", body.retraining)) if section is not None}
    if not sections:
        raise invalid("body", "alerting", "give alerting, retraining, or both")
    info = repository.get_model_info(conn, model_id)
    if info is None:
        raise NotFoundError(f"model {model_id!r} not found")
    repository.upsert_model(conn, parse_config({**info.config.to_json(), **sections}))
    result = _rules(conn, model_id)
    changed = result.config_version != info.config_version
    alerting_sql.add_audit(conn, [AuditEntry(
        principal.actor, "rules_updated", model_id, None,
        {"sections": sorted(sections), "changed": changed,
         "config_version": result.config_version})])
    return result
