"""The ``dispatch`` section: URLs, headers and auth are checked when the policy is parsed."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from monitor.triggers.targets import (
    AirflowDispatch,
    BearerAuth,
    DispatchTarget,
    HttpDispatch,
    KubeflowDispatch,
)

parse = TypeAdapter(DispatchTarget).validate_python


def test_each_type_parses() -> None:
    assert isinstance(parse({"type": "http", "url": "https://h.example/x"}), HttpDispatch)
    airflow = parse({"type": "airflow", "url": "https://a.example/", "dag_id": "retrain.v2",
                     "auth": {"type": "bearer", "token": "t"}})
    assert isinstance(airflow, AirflowDispatch)
    assert airflow.base_url == "https://a.example"
    assert airflow.auth == BearerAuth(type="bearer", token="t")
    kfp = parse({"type": "kubeflow", "url": "http://kfp.example/pipeline", "pipeline_id": "p"})
    assert isinstance(kfp, KubeflowDispatch)
    assert (kfp.version_id, kfp.experiment_id, kfp.parameters) == (None, None, {})


@pytest.mark.parametrize(("data", "message"), [
    ({"type": "http", "url": "file:///etc/passwd"}, "URL must use http or https"),
    ({"type": "http", "url": "gopher://h.example"}, "URL must use http or https"),
    ({"type": "http", "url": "https://u:p@h.example"}, "credentials in URLs are refused"),
    ({"type": "http", "url": "https://h.example/#frag"}, "URL must not have a fragment"),
    ({"type": "http", "url": "https:///path"}, "URL has no host"),
    ({"type": "http", "url": "https://h.example:99999"}, "malformed URL"),
    ({"type": "http", "url": "https://h.example", "headers": {"Idempotency-Key": "x"}},
     "is set by Driftline"),
    ({"type": "http", "url": "https://h.example", "headers": {"X-A": "1\r\nX-B: 2"}},
     "line break"),
    ({"type": "http", "url": "https://h.example", "headers": {"bad name": "1"}},
     "invalid header name"),
    ({"type": "airflow", "url": "https://a.example", "dag_id": "../admin"}, "pattern"),
    ({"type": "airflow", "url": "https://a.example", "dag_id": "d",
      "headers": {"Authorization": "x"}, "auth": {"type": "bearer", "token": "t"}},
     "either auth or an Authorization header"),
    ({"type": "kubeflow", "url": "https://k.example"}, "Field required"),
    ({"type": "pull", "url": "https://x.example"}, "Extra inputs are not permitted"),
])
def test_bad_targets_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match="(?s)" + message.replace("(", r"\(")):
        parse(data)


def test_secrets_stay_out_of_reprs() -> None:
    target = parse({"type": "airflow", "url": "https://a.example", "dag_id": "d",
                    "headers": {"X-Token": "hdr-secret"},
                    "auth": {"type": "basic", "username": "u", "password": "pw-secret"}})
    assert "secret" not in repr(target)
