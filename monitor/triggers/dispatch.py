"""Delivering a trigger to a training stack, idempotently (promise 9).

Each adapter makes one delivery attempt and says what it achieved; the outbox relay retries
``retry`` outcomes with backoff and stops on the others. A retry never starts a second run:

- generic HTTP sends ``Idempotency-Key: <trigger_id>``; the receiver dedupes on it;
- Airflow gets the trigger id as the ``dag_run_id``, so a repeat is answered 409;
- Kubeflow has no idempotency key, so the run is looked up by its display name (the trigger id)
  before it is created.

Every URL, exactly as it will be requested, goes through ``check_url`` first: the caller's SSRF
check, which refuses by raising (its exception propagates and nothing is sent; e.g.
``monitor.delivery.ssrf``'s errors, one permanent, one transient). Redirects are never followed,
whatever the client's setting, and every request has a timeout.

>>> def airflow(request):
...     run_id = json.loads(request.content)["dag_run_id"]
...     return httpx.Response(200, json={"dag_run_id": run_id})
>>> target = AirflowDispatch(type="airflow", url="https://airflow.example", dag_id="retrain")
>>> trigger = TriggerRequest("trg_1", "churn", "data_drift_sustained", {"psi": 0.4}, 0)
>>> with httpx.Client(transport=httpx.MockTransport(airflow)) as client:
...     result = dispatch(target, trigger, client)
>>> result.outcome, result.external_id, result.detail
('dispatched', 'trg_1', 'dag run trg_1 created in retrain')
"""

from __future__ import annotations

import base64
import dataclasses
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from monitor.timeutil import format_ms
from monitor.triggers._http import (
    DEFAULT_TIMEOUT,
    DispatchResult,
    Outcome,
    UrlCheck,
    allow_any_url,
    classify,
    send,
)
from monitor.triggers.targets import (
    AirflowDispatch,
    Auth,
    BasicAuth,
    HttpDispatch,
    KubeflowDispatch,
    PushDispatch,
)

__all__ = ["DEFAULT_TIMEOUT", "DispatchResult", "Outcome", "TriggerRequest", "UrlCheck",
           "allow_any_url", "dispatch", "dispatch_airflow", "dispatch_http", "dispatch_kubeflow"]

Timeout = httpx.Timeout | float


@dataclass(frozen=True)
class TriggerRequest:
    """A trigger as the training stack sees it; ``evidence`` must be JSON-serialisable."""

    trigger_id: str
    model_id: str
    reason: str
    evidence: dict[str, Any]
    created_at_ms: int

    def payload(self) -> dict[str, Any]:
        """The JSON fields every adapter sends (``created_at`` in RFC 3339).

        >>> TriggerRequest("trg_1", "m", "kpi_drop", {}, 1_000).payload()["created_at"]
        '1970-01-01T00:00:01Z'
        """
        return {"trigger_id": self.trigger_id, "model_id": self.model_id, "reason": self.reason,
                "evidence": self.evidence, "created_at": format_ms(self.created_at_ms)}


def dispatch(target: PushDispatch, trigger: TriggerRequest, client: httpx.Client, *,
             check_url: UrlCheck = allow_any_url,
             timeout: Timeout = DEFAULT_TIMEOUT) -> DispatchResult:
    """One delivery attempt with the adapter that ``target.type`` names (``pull`` has none)."""
    if isinstance(target, HttpDispatch):
        return dispatch_http(target, trigger, client, check_url=check_url, timeout=timeout)
    if isinstance(target, AirflowDispatch):
        return dispatch_airflow(target, trigger, client, check_url=check_url, timeout=timeout)
    if isinstance(target, KubeflowDispatch):
        return dispatch_kubeflow(target, trigger, client, check_url=check_url, timeout=timeout)
    raise ValueError(f"{getattr(target, 'type', target)!r} targets are not pushed")


def dispatch_http(target: HttpDispatch, trigger: TriggerRequest, client: httpx.Client, *,
                  check_url: UrlCheck = allow_any_url,
                  timeout: Timeout = DEFAULT_TIMEOUT) -> DispatchResult:
    """POST the trigger as JSON to ``target.url`` with ``Idempotency-Key: <trigger_id>``."""
    headers = {**target.headers, "idempotency-key": trigger.trigger_id}
    reply = send(client, "POST", target.url, check_url=check_url, timeout=timeout,
                 headers=headers, body=_encode(trigger.payload()))
    if isinstance(reply, DispatchResult):
        return reply
    result = classify(reply)
    if result.outcome == "dispatched":
        return dataclasses.replace(result, detail=f"HTTP {reply.status_code}: delivered")
    return result


def dispatch_airflow(target: AirflowDispatch, trigger: TriggerRequest, client: httpx.Client, *,
                     check_url: UrlCheck = allow_any_url,
                     timeout: Timeout = DEFAULT_TIMEOUT) -> DispatchResult:
    """``POST {url}/api/v1/dags/{dag_id}/dagRuns`` with the trigger id as the ``dag_run_id``.

    ``logical_date`` is left out (Airflow uses the time of the request); the trigger's fields
    are added to ``target.conf`` (and win over keys of the same name). A 409 means an earlier
    attempt created the run.
    """
    url = f"{target.base_url}/api/v1/dags/{quote(target.dag_id, safe='')}/dagRuns"
    body = {"dag_run_id": trigger.trigger_id, "conf": {**target.conf, **trigger.payload()}}
    reply = send(client, "POST", url, check_url=check_url, timeout=timeout,
                 headers=_headers(target.headers, target.auth), body=_encode(body))
    if isinstance(reply, DispatchResult):
        return reply
    result = classify(reply)
    run = f"dag run {trigger.trigger_id}"
    if result.outcome == "dispatched":
        data = reply.json_object() or {}
        run_id = data.get("dag_run_id")
        external = run_id if isinstance(run_id, str) else trigger.trigger_id
        return dataclasses.replace(result, external_id=external,
                                   detail=f"{run} created in {target.dag_id}")
    if result.outcome == "already_exists":
        return dataclasses.replace(result, external_id=trigger.trigger_id,
                                   detail=f"{run} already exists in {target.dag_id} (HTTP 409)")
    return result


def dispatch_kubeflow(target: KubeflowDispatch, trigger: TriggerRequest, client: httpx.Client,
                      *, check_url: UrlCheck = allow_any_url,
                      timeout: Timeout = DEFAULT_TIMEOUT) -> DispatchResult:
    """Look the run up by display name (the trigger id); create it only when there is none.

    The lookup is ``GET {url}/apis/v2beta1/runs?filter=...`` with the JSON predicate
    ``display_name EQUALS <trigger_id>`` (scoped to ``experiment_id`` when set). The run's
    parameters are the trigger's fields (the pipeline must declare them) added to
    ``target.parameters``. If a create times out after the server made the run, the next
    attempt finds it and answers ``already_exists``.
    """
    found = _find_kubeflow_run(target, trigger, client, check_url=check_url, timeout=timeout)
    if found is not None:
        return found
    reference = {"pipeline_id": target.pipeline_id}
    if target.version_id is not None:
        reference["pipeline_version_id"] = target.version_id
    body: dict[str, Any] = {
        "display_name": trigger.trigger_id,
        "description": f"Driftline retraining trigger for {trigger.model_id}: {trigger.reason}",
        "pipeline_version_reference": reference,
        "runtime_config": {"parameters": {**target.parameters, **trigger.payload()}},
    }
    if target.experiment_id is not None:
        body["experiment_id"] = target.experiment_id
    reply = send(client, "POST", f"{target.base_url}/apis/v2beta1/runs", check_url=check_url,
                 timeout=timeout, headers=_headers(target.headers, target.auth),
                 body=_encode(body))
    if isinstance(reply, DispatchResult):
        return reply
    result = classify(reply)
    if result.outcome == "dispatched":
        run_id = (reply.json_object() or {}).get("run_id")
        external = run_id if isinstance(run_id, str) else None
        return dataclasses.replace(result, external_id=external,
                                   detail=f"kubeflow run {external or '?'} created")
    return result


def _find_kubeflow_run(target: KubeflowDispatch, trigger: TriggerRequest, client: httpx.Client,
                       *, check_url: UrlCheck, timeout: Timeout) -> DispatchResult | None:
    """``already_exists`` with the run's id, a failure to look, or None when there is no run."""
    predicate = {"key": "display_name", "operation": "EQUALS", "string_value": trigger.trigger_id}
    query: dict[str, str] = {"filter": json.dumps({"predicates": [predicate]},
                                                  separators=(",", ":"))}
    if target.experiment_id is not None:
        query["experiment_id"] = target.experiment_id
    url = f"{target.base_url}/apis/v2beta1/runs?{urlencode(query, quote_via=quote)}"
    reply = send(client, "GET", url, check_url=check_url, timeout=timeout,
                 headers=_headers(target.headers, target.auth))
    if isinstance(reply, DispatchResult):
        return reply
    if not 200 <= reply.status_code < 300:
        result = classify(reply, conflict_exists=False)
        return dataclasses.replace(result, detail=f"run lookup failed: {result.detail}")
    data = reply.json_object()
    if data is None:
        return DispatchResult("permanent", reply.status_code, None,
                              "run lookup answered something other than a JSON object")
    runs = data.get("runs") or []  # an empty list is left out of the answer
    for run in runs if isinstance(runs, list) else []:
        if isinstance(run, dict) and run.get("display_name") == trigger.trigger_id:
            run_id = run.get("run_id")
            external = run_id if isinstance(run_id, str) else None
            return DispatchResult("already_exists", reply.status_code, external,
                                  f"kubeflow run {external or '?'} already exists for "
                                  f"{trigger.trigger_id}")
    return None


def _headers(configured: dict[str, str], auth: Auth | None) -> dict[str, str]:
    headers = dict(configured)
    if isinstance(auth, BasicAuth):
        token = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode("ascii")
        headers["authorization"] = f"Basic {token}"
    elif auth is not None:
        headers["authorization"] = f"Bearer {auth.token}"
    return headers


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")
