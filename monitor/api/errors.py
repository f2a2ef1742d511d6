"""Every domain exception's HTTP answer, in one place.

Exceptions the routes raise (or let through from the domain)::

    ConfigError          (monitor.config)     -> 422, detail [{loc, msg, type}] naming each field
    ReferenceError       (monitor.reference)  -> 422, detail [{loc: ["body"], msg, type}]
    RequestValidationError (FastAPI; also raised by ``invalid()``) -> 422
    AuthenticationError  -> 401 with ``WWW-Authenticate: Bearer``
    PermissionDeniedError -> 403
    NotFoundError        -> 404
    ConflictError, IntegrityError (a concurrent create) -> 409
    ReportError          (monitor.report)     -> 409 (the stored samples cannot make a report)
    DataError (a value the database refuses; a last resort behind validation) -> 422
    body_too_large()     -> 413 (an HTTPException)
    UnsupportedMediaError -> 415
    OperationalError (database unreachable) -> 503 with ``Retry-After``
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from monitor.config import ConfigError
from monitor.reference import ReferenceError
from monitor.report import ReportError


class ApiError(Exception):
    """Base of the exceptions the API raises itself."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthenticationError(ApiError):
    status_code = 401


class PermissionDeniedError(ApiError):
    status_code = 403


class NotFoundError(ApiError):
    status_code = 404


class ConflictError(ApiError):
    status_code = 409


class UnsupportedMediaError(ApiError):
    status_code = 415


def invalid(where: str, name: str, msg: str, value: Any = None) -> RequestValidationError:
    """A 422 naming one parameter, shaped like FastAPI's own validation errors."""
    return RequestValidationError([{"type": "value_error", "loc": (where, name), "msg": msg,
                                    "input": value}])


def _loc(path: str) -> list[str | int]:
    return ["body", *(int(p) if p.isdigit() else p for p in path.split("."))]


def error_response(status_code: int, detail: Any,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


def body_too_large(limit: int) -> HTTPException:
    """413. An ``HTTPException`` because FastAPI turns any other exception raised while it
    reads a body into a 400."""
    return HTTPException(413, f"request body larger than {limit} bytes")


def too_large_response(limit: int) -> JSONResponse:
    return error_response(413, body_too_large(limit).detail)


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such inputs are echoed back as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, _finite(jsonable_encoder(exc.errors())))


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    headers = ({"WWW-Authenticate": 'Bearer realm="driftline"'}
               if isinstance(exc, AuthenticationError) else None)
    return error_response(exc.status_code, exc.message, headers)


async def _config_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ConfigError)
    return error_response(422, [{"type": "config_error", "loc": _loc(loc), "msg": msg}
                                for loc, msg in exc.errors])


async def _reference_error(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(422, [{"type": "reference_error", "loc": ["body"], "msg": str(exc)}])


async def _report_error(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(409, str(exc))


async def _integrity_error(_request: Request, _exc: Exception) -> JSONResponse:
    return error_response(409, "conflicting concurrent change; retry")


async def _data_error(_request: Request, _exc: Exception) -> JSONResponse:
    return error_response(422, [{"type": "value_error", "loc": ["request"],
                                 "msg": "a value the database cannot store or compare"}])


async def _operational_error(_request: Request, _exc: Exception) -> JSONResponse:
    return error_response(503, "database unavailable", {"Retry-After": "5"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ConfigError, _config_error)
    app.add_exception_handler(ReferenceError, _reference_error)
    app.add_exception_handler(ReportError, _report_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(OperationalError, _operational_error)
