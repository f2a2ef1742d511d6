"""Adapters against real local HTTP servers: what is sent, and what each answer means."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from monitor.triggers.dispatch import (
    DispatchResult,
    TriggerRequest,
    dispatch,
    dispatch_airflow,
    dispatch_http,
    dispatch_kubeflow,
)
from monitor.triggers.targets import (
    AirflowDispatch,
    HttpDispatch,
    KubeflowDispatch,
    PullDispatch,
)
from tests.monitor.triggers.receiver import Answer, Receiver, Recorded, Respond

Serve = Callable[[Respond], Receiver]

TRIGGER = TriggerRequest(
    trigger_id="trg_0123456789abcdef01234567",
    model_id="churn",
    reason="data_drift_sustained",
    evidence={"window_start": "2026-01-01T00:00:00Z", "drifted_features": ["age"], "psi": 0.31},
    created_at_ms=1_767_225_600_000,
)
PAYLOAD = {
    "trigger_id": "trg_0123456789abcdef01234567",
    "model_id": "churn",
    "reason": "data_drift_sustained",
    "evidence": {"window_start": "2026-01-01T00:00:00Z", "drifted_features": ["age"],
                 "psi": 0.31},
    "created_at": "2026-01-01T00:00:00Z",
}


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Respond:
    return lambda _request: Answer(status, body, headers or {})


def http_target(receiver: Receiver, **extra: Any) -> HttpDispatch:
    return HttpDispatch(type="http", url=f"{receiver.url}/hooks/retrain", **extra)


# --- generic HTTP ----------------------------------------------------------------------------


def test_http_2xx_posts_the_trigger_with_its_idempotency_key(serve: Serve,
                                                             client: httpx.Client) -> None:
    receiver = serve(answer(202, {"accepted": True}))
    target = http_target(receiver, headers={"X-Api-Token": "s3cret"})

    result = dispatch_http(target, TRIGGER, client)

    assert result == DispatchResult("dispatched", 202, None, "HTTP 202: delivered", None)
    [request] = receiver.recorded()
    assert (request.method, request.path, request.query) == ("POST", "/hooks/retrain", {})
    assert request.headers["idempotency-key"] == TRIGGER.trigger_id
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-api-token"] == "s3cret"
    assert request.json() == PAYLOAD


def test_http_retries_send_the_same_key_and_the_same_bytes(serve: Serve,
                                                           client: httpx.Client) -> None:
    receiver = serve(answer(503))
    target = http_target(receiver)
    dispatch_http(target, TRIGGER, client)
    dispatch_http(target, TRIGGER, client)
    first, second = receiver.recorded()
    assert first.body == second.body
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]


def test_http_409_is_already_exists(serve: Serve, client: httpx.Client) -> None:
    receiver = serve(answer(409, {"error": "duplicate"}))
    result = dispatch_http(http_target(receiver), TRIGGER, client)
    assert result == DispatchResult("already_exists", 409, None, "HTTP 409: already exists")


@pytest.mark.parametrize(("status", "retry_after"),
                         [(500, None), (502, None), (503, "30"), (408, None), (429, "120")])
def test_http_transient_answers_are_retried(serve: Serve, client: httpx.Client, status: int,
                                            retry_after: str | None) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    receiver = serve(answer(status, {"error": "busy"}, headers))
    result = dispatch_http(http_target(receiver), TRIGGER, client)
    assert result == DispatchResult("retry", status, None, f'HTTP {status}: {{"error": "busy"}}',
                                    retry_after)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_http_other_4xx_are_permanent(serve: Serve, client: httpx.Client, status: int) -> None:
    receiver = serve(answer(status, b"no such hook"))
    result = dispatch_http(http_target(receiver), TRIGGER, client)
    assert result == DispatchResult("permanent", status, None, f"HTTP {status}: no such hook")
    assert len(receiver.recorded()) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_http_redirects_are_not_followed(serve: Serve, client: httpx.Client,
                                         status: int) -> None:
    inside = serve(answer(200))
    outside = serve(answer(status, headers={"Location": f"{inside.url}/admin"}))

    result = dispatch_http(http_target(outside), TRIGGER, client)

    assert result == DispatchResult(
        "permanent", status, None, f"HTTP {status}: redirect to {inside.url}/admin not followed")
    assert len(outside.recorded()) == 1
    assert inside.recorded() == []


def test_a_client_that_follows_redirects_still_does_not(serve: Serve) -> None:
    inside = serve(answer(200))
    outside = serve(answer(302, headers={"Location": inside.url}))
    with httpx.Client(follow_redirects=True, trust_env=False) as client:
        result = dispatch_http(http_target(outside), TRIGGER, client)
    assert (result.outcome, result.status_code) == ("permanent", 302)
    assert inside.recorded() == []


def test_connection_refused_is_retried(client: httpx.Client) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = HttpDispatch(type="http", url=f"http://127.0.0.1:{port}/hook")
    result = dispatch_http(target, TRIGGER, client)
    assert (result.outcome, result.status_code) == ("retry", None)
    assert result.detail.startswith("network error (ConnectError)")


def test_a_slow_receiver_times_out_and_is_retried(serve: Serve, client: httpx.Client) -> None:
    receiver = serve(lambda _r: Answer(200, delay_s=1.0))
    result = dispatch_http(http_target(receiver), TRIGGER, client, timeout=0.2)
    assert result == DispatchResult("retry", None, None, "timed out (ReadTimeout)")


class Refused(Exception):
    pass


def test_check_url_sees_the_url_and_can_refuse_it(serve: Serve, client: httpx.Client) -> None:
    receiver = serve(answer(200))
    seen: list[str] = []

    def refuse(url: str) -> None:
        seen.append(url)
        raise Refused("loopback address")

    with pytest.raises(Refused, match="loopback address"):
        dispatch_http(http_target(receiver), TRIGGER, client, check_url=refuse)
    assert seen == [f"{receiver.url}/hooks/retrain"]
    assert receiver.recorded() == []


def test_check_url_sees_every_kubeflow_url(serve: Serve, client: httpx.Client) -> None:
    kfp = KubeflowLike()
    receiver = serve(lambda r: kfp(_strip(r, "/pipeline")))
    seen: list[str] = []
    dispatch_kubeflow(kubeflow_target(receiver), TRIGGER, client, check_url=seen.append)
    assert [url.split("?")[0] for url in seen] == [f"{receiver.url}/pipeline/apis/v2beta1/runs"] * 2
    assert seen[0].startswith(f"{receiver.url}/pipeline/apis/v2beta1/runs?filter=%7B%22predicates")


# --- Airflow ---------------------------------------------------------------------------------


def airflow_server(serve: Serve, first: list[int] | None = None) -> tuple[Receiver, set[str]]:
    """An Airflow-like API: creates a DAG run once, answers 409 for its id afterwards.

    ``first`` lists statuses to answer before that (an Airflow that is down)."""
    runs: set[str] = set()
    outages = list(first or [])

    def respond(request: Recorded) -> Answer:
        if outages:
            return Answer(outages.pop(0), {"title": "Service Unavailable"})
        run_id = request.json()["dag_run_id"]
        if run_id in runs:
            return Answer(409, {"detail": f"DAGRun with DAG ID: 'retrain_churn' and DAGRun "
                                          f"ID: '{run_id}' already exists",
                                "status": 409, "title": "Conflict", "type": "about:blank"})
        runs.add(run_id)
        return Answer(200, {"dag_id": "retrain_churn", "dag_run_id": run_id, "state": "queued"})

    return serve(respond), runs


def test_airflow_creates_the_dag_run_once_and_a_repeat_is_409(serve: Serve,
                                                              client: httpx.Client) -> None:
    receiver, runs = airflow_server(serve)
    target = AirflowDispatch(type="airflow", url=f"{receiver.url}/", dag_id="retrain_churn",
                             conf={"env": "prod"},
                             auth={"type": "basic", "username": "driftline", "password": "pw"})

    first = dispatch_airflow(target, TRIGGER, client)
    again = dispatch_airflow(target, TRIGGER, client)

    assert first == DispatchResult("dispatched", 200, TRIGGER.trigger_id,
                                   f"dag run {TRIGGER.trigger_id} created in retrain_churn")
    assert again == DispatchResult(
        "already_exists", 409, TRIGGER.trigger_id,
        f"dag run {TRIGGER.trigger_id} already exists in retrain_churn (HTTP 409)")
    assert runs == {TRIGGER.trigger_id}
    requests = receiver.recorded()
    assert len(requests) == 2
    for request in requests:
        assert (request.method, request.path) == ("POST", "/api/v1/dags/retrain_churn/dagRuns")
        assert request.json() == {"dag_run_id": TRIGGER.trigger_id,
                                  "conf": {"env": "prod", **PAYLOAD}}
        assert request.headers["authorization"] == "Basic " + base64.b64encode(
            b"driftline:pw").decode()
    assert requests[0].body == requests[1].body


def test_airflow_down_is_retried_then_created_once(serve: Serve, client: httpx.Client) -> None:
    receiver, runs = airflow_server(serve, first=[503, 502])
    target = AirflowDispatch(type="airflow", url=receiver.url, dag_id="retrain_churn",
                             auth={"type": "bearer", "token": "tok"})

    outcomes = [dispatch_airflow(target, TRIGGER, client).outcome for _ in range(4)]

    assert outcomes == ["retry", "retry", "dispatched", "already_exists"]
    assert runs == {TRIGGER.trigger_id}
    assert {r.headers["authorization"] for r in receiver.recorded()} == {"Bearer tok"}


def test_airflow_conf_cannot_override_the_trigger_fields(serve: Serve,
                                                         client: httpx.Client) -> None:
    receiver, _runs = airflow_server(serve)
    target = AirflowDispatch(type="airflow", url=receiver.url, dag_id="retrain_churn",
                             conf={"trigger_id": "spoofed", "team": "ml"})
    dispatch_airflow(target, TRIGGER, client)
    conf = receiver.recorded()[0].json()["conf"]
    assert conf["trigger_id"] == TRIGGER.trigger_id
    assert conf["team"] == "ml"


@pytest.mark.parametrize(("status", "outcome"), [(400, "permanent"), (401, "permanent"),
                                                  (404, "permanent"), (500, "retry")])
def test_airflow_errors(serve: Serve, client: httpx.Client, status: int, outcome: str) -> None:
    receiver = serve(answer(status, {"title": "nope"}))
    target = AirflowDispatch(type="airflow", url=receiver.url, dag_id="retrain_churn")
    result = dispatch_airflow(target, TRIGGER, client)
    assert (result.outcome, result.status_code, result.external_id) == (outcome, status, None)


# --- Kubeflow --------------------------------------------------------------------------------


class KubeflowLike:
    """Runs by id; list filtered by the JSON ``display_name EQUALS`` predicate; no dedupe."""

    def __init__(self, create_delay_s: float = 0.0) -> None:
        self.runs: dict[str, dict[str, Any]] = {}
        self.create_delay_s = create_delay_s

    def __call__(self, request: Recorded) -> Answer:
        if request.method == "GET" and request.path == "/apis/v2beta1/runs":
            [predicate] = json.loads(request.query["filter"][0])["predicates"]
            assert (predicate["key"], predicate["operation"]) == ("display_name", "EQUALS")
            found = [r for r in self.runs.values()
                     if r["display_name"] == predicate["string_value"]]
            # grpc-gateway leaves empty fields out: no runs is ``{}``
            return Answer(200, {"runs": found, "total_size": len(found)} if found else {})
        if request.method == "POST" and request.path == "/apis/v2beta1/runs":
            run_id = f"run-{len(self.runs) + 1}"
            self.runs[run_id] = {**request.json(), "run_id": run_id, "state": "PENDING"}
            return Answer(200, self.runs[run_id], delay_s=self.create_delay_s)
        return Answer(404, {"error": "not found"})


def kubeflow_target(receiver: Receiver, **extra: Any) -> KubeflowDispatch:
    return KubeflowDispatch(type="kubeflow", url=f"{receiver.url}/pipeline",
                            pipeline_id="pl-1", **extra)


def test_kubeflow_looks_up_then_creates_one_run(serve: Serve, client: httpx.Client) -> None:
    kfp = KubeflowLike()
    receiver = serve(lambda r: kfp(_strip(r, "/pipeline")))
    target = kubeflow_target(receiver, version_id="v-7", experiment_id="exp-1",
                             parameters={"epochs": 3})

    result = dispatch_kubeflow(target, TRIGGER, client)

    assert result == DispatchResult("dispatched", 200, "run-1", "kubeflow run run-1 created")
    lookup, create = receiver.recorded()
    assert (lookup.method, lookup.path) == ("GET", "/pipeline/apis/v2beta1/runs")
    assert lookup.query == {
        "filter": ['{"predicates":[{"key":"display_name","operation":"EQUALS",'
                   f'"string_value":"{TRIGGER.trigger_id}"}}]}}'],
        "experiment_id": ["exp-1"],
    }
    assert (create.method, create.path) == ("POST", "/pipeline/apis/v2beta1/runs")
    assert create.json() == {
        "display_name": TRIGGER.trigger_id,
        "description": "Driftline retraining trigger for churn: data_drift_sustained",
        "pipeline_version_reference": {"pipeline_id": "pl-1", "pipeline_version_id": "v-7"},
        "runtime_config": {"parameters": {"epochs": 3, **PAYLOAD}},
        "experiment_id": "exp-1",
    }


def test_kubeflow_retry_after_a_timed_out_create_finds_the_run(serve: Serve,
                                                               client: httpx.Client) -> None:
    kfp = KubeflowLike(create_delay_s=1.0)  # creates the run, then answers too late
    receiver = serve(lambda r: kfp(_strip(r, "/pipeline")))
    target = kubeflow_target(receiver)

    first = dispatch_kubeflow(target, TRIGGER, client, timeout=0.3)
    second = dispatch_kubeflow(target, TRIGGER, client, timeout=0.3)
    third = dispatch_kubeflow(target, TRIGGER, client, timeout=0.3)

    assert first == DispatchResult("retry", None, None, "timed out (ReadTimeout)")
    expected = DispatchResult("already_exists", 200, "run-1",
                              f"kubeflow run run-1 already exists for {TRIGGER.trigger_id}")
    assert second == third == expected
    assert list(kfp.runs) == ["run-1"]
    assert [r.method for r in receiver.recorded()] == ["GET", "POST", "GET", "GET"]
    create = next(r for r in receiver.recorded() if r.method == "POST")
    assert "experiment_id" not in create.json()
    assert create.json()["pipeline_version_reference"] == {"pipeline_id": "pl-1"}


def test_kubeflow_ignores_runs_with_other_names(serve: Serve, client: httpx.Client) -> None:
    other = {"run_id": "old", "display_name": "trg_somebody_else"}
    receiver = serve(lambda r: Answer(200, {"runs": [other]}) if r.method == "GET"
                     else Answer(200, {"run_id": "new"}))
    result = dispatch_kubeflow(kubeflow_target(receiver), TRIGGER, client)
    assert (result.outcome, result.external_id) == ("dispatched", "new")


@pytest.mark.parametrize(("respond", "outcome", "detail"), [
    (answer(503, {"error": "unavailable"}), "retry",
     'run lookup failed: HTTP 503: {"error": "unavailable"}'),
    (answer(409), "permanent", "run lookup failed: HTTP 409"),
    (answer(403, b"forbidden"), "permanent", "run lookup failed: HTTP 403: forbidden"),
    (answer(200, b"<html>sign in</html>"), "permanent",
     "run lookup answered something other than a JSON object"),
], ids=["503", "409", "403", "html"])
def test_kubeflow_never_creates_when_the_lookup_fails(serve: Serve, client: httpx.Client,
                                                      respond: Respond, outcome: str,
                                                      detail: str) -> None:
    receiver = serve(respond)
    result = dispatch_kubeflow(kubeflow_target(receiver), TRIGGER, client)
    assert (result.outcome, result.detail) == (outcome, detail)
    assert [r.method for r in receiver.recorded()] == ["GET"]


def test_kubeflow_lookup_timeout_is_retried_without_creating(serve: Serve,
                                                             client: httpx.Client) -> None:
    receiver = serve(lambda _r: Answer(200, {}, delay_s=1.0))
    result = dispatch_kubeflow(kubeflow_target(receiver), TRIGGER, client, timeout=0.2)
    assert result.outcome == "retry"
    assert [r.method for r in receiver.recorded()] == ["GET"]


# --- routing ---------------------------------------------------------------------------------


def test_dispatch_routes_on_the_target_type(serve: Serve, client: httpx.Client) -> None:
    receiver, runs = airflow_server(serve)
    target = AirflowDispatch(type="airflow", url=receiver.url, dag_id="retrain_churn")
    assert dispatch(target, TRIGGER, client).outcome == "dispatched"
    assert runs == {TRIGGER.trigger_id}
    hook = serve(answer(200))
    assert dispatch(http_target(hook), TRIGGER, client).outcome == "dispatched"
    assert hook.recorded()[0].headers["idempotency-key"] == TRIGGER.trigger_id


def test_pull_targets_are_not_dispatched(client: httpx.Client) -> None:
    with pytest.raises(ValueError, match="'pull' targets are not pushed"):
        dispatch(PullDispatch(type="pull"), TRIGGER, client)  # type: ignore[arg-type]


def _strip(request: Recorded, prefix: str) -> Recorded:
    """The request as the API behind a path prefix sees it."""
    assert request.path.startswith(prefix)
    return Recorded(request.method, request.path[len(prefix):], request.query, request.headers,
                    request.body)
