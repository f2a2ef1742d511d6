"""Where a retraining trigger goes: the ``dispatch`` section of a trigger policy.

Four kinds, told apart by ``type``: a generic ``http`` endpoint, an Airflow DAG, a Kubeflow
pipeline, or ``pull`` (nothing is pushed; the training stack polls the API). URLs must be
http(s) without credentials; whether they may reach private addresses is decided later, at send
time, by the ``check_url`` hook of :mod:`monitor.triggers.dispatch`.

>>> from pydantic import TypeAdapter
>>> parse = TypeAdapter(DispatchTarget).validate_python
>>> parse({"type": "airflow", "url": "https://airflow.example/", "dag_id": "retrain"}).base_url
'https://airflow.example'
>>> parse({"type": "pull"})
PullDispatch(type='pull')
>>> from pydantic import ValidationError
>>> try:
...     parse({"type": "http", "url": "https://user:pw@hooks.example/x"})
... except ValidationError as exc:
...     print(exc.errors()[0]["msg"])
Value error, credentials in URLs are refused; use headers or auth
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from monitor.config_base import _Strict

# Airflow's own rule for DAG ids (airflow.utils.helpers.KEY_REGEX), and a length limit.
DAG_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,250}$"
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
# Headers the adapters set themselves; a configured header must not override them.
RESERVED_HEADERS = frozenset(
    {"content-type", "content-length", "host", "idempotency-key", "transfer-encoding"})


def check_target_url(url: str) -> str:
    """http(s) with a host and no credentials (promise 8); anything else is refused.

    >>> check_target_url("https://ci.example/hook")
    'https://ci.example/hook'
    >>> check_target_url("file:///etc/passwd")
    Traceback (most recent call last):
    ...
    ValueError: URL must use http or https
    """
    if len(url) > 2048:
        raise ValueError("URL longer than 2048 characters")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a malformed port
    except ValueError as exc:
        raise ValueError(f"malformed URL: {exc}") from None
    if parts.scheme not in {"http", "https"}:
        raise ValueError("URL must use http or https")
    if not parts.hostname:
        raise ValueError("URL has no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials in URLs are refused; use headers or auth")
    if parts.fragment:
        raise ValueError("URL must not have a fragment")
    return url


def _check_headers(value: dict[str, str]) -> dict[str, str]:
    for name, header in value.items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"invalid header name {name!r}")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is set by Driftline and cannot be configured")
        if any(c in header for c in "\r\n\0"):
            raise ValueError(f"header {name!r} has a line break or NUL in its value")
    return value


class BasicAuth(_Strict):
    """HTTP basic authentication (Airflow's ``basic_auth`` backend)."""

    type: Literal["basic"]
    username: str = Field(min_length=1, max_length=256)
    password: str = Field(max_length=1024, repr=False)


class BearerAuth(_Strict):
    """``Authorization: Bearer <token>`` (an auth proxy, a service-account token)."""

    type: Literal["bearer"]
    token: str = Field(min_length=1, max_length=8192, repr=False)


Auth = Annotated[BasicAuth | BearerAuth, Field(discriminator="type")]


class _UrlTarget(_Strict):
    url: str
    headers: dict[str, str] = Field(default_factory=dict, max_length=32, repr=False)

    _check_url = field_validator("url")(check_target_url)
    _check_header_map = field_validator("headers")(_check_headers)

    @property
    def base_url(self) -> str:
        """``url`` without a trailing slash, ready for an API path to be appended."""
        return self.url.rstrip("/")


class HttpDispatch(_UrlTarget):
    """POST the trigger as JSON to ``url`` with ``Idempotency-Key: <trigger_id>``."""

    type: Literal["http"]


class _ApiTarget(_UrlTarget):
    auth: Auth | None = None

    @model_validator(mode="after")
    def _one_authorization(self) -> _ApiTarget:
        if self.auth is not None and any(k.lower() == "authorization" for k in self.headers):
            raise ValueError("set either auth or an Authorization header, not both")
        return self


class AirflowDispatch(_ApiTarget):
    """Create a DAG run through Airflow's stable REST API; ``url`` is the webserver's base URL."""

    type: Literal["airflow"]
    dag_id: str = Field(pattern=DAG_ID_PATTERN)
    conf: dict[str, Any] = Field(default_factory=dict, description="extra DAG run conf")


class KubeflowDispatch(_ApiTarget):
    """Create a Kubeflow Pipelines (v2beta1) run; ``url`` is the API's base URL."""

    type: Literal["kubeflow"]
    pipeline_id: str = Field(min_length=1, max_length=256)
    version_id: str | None = Field(default=None, min_length=1, max_length=256)
    experiment_id: str | None = Field(default=None, min_length=1, max_length=256)
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="extra pipeline parameters")


class PullDispatch(_Strict):
    """Nothing is pushed: the training stack polls ``GET /triggers`` and reports back."""

    type: Literal["pull"]


PushDispatch = HttpDispatch | AirflowDispatch | KubeflowDispatch
DispatchTarget = Annotated[PushDispatch | PullDispatch, Field(discriminator="type")]
