"""Reference data upload: ``PUT /api/v1/models/{model_id}/reference``.

The raw body is the data; its format comes from ``?format=`` or else from ``Content-Type``:

- ``application/x-ndjson``: JSON lines, rows shaped like prediction events;
- ``application/json``: a JSON list of such rows;
- ``text/csv``: columns ``feature.<name>`` or plain feature names, ``score``, ``prediction``;
- ``application/vnd.apache.parquet``: the same columns as CSV.

Any other type without ``?format=`` is refused (415). The body is limited to
``api_max_upload_bytes`` (413). Each upload becomes the model's next reference version.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from monitor.api.deps import DbConn, ModelIdPath, SettingsDep, WriteKey
from monitor.api.errors import ConflictError, UnsupportedMediaError, body_too_large
from monitor.api.routes.models import public_model
from monitor.api.schemas import ReferencePublic
from monitor.db import repository
from monitor.reference import read_reference

router = APIRouter(tags=["reference"])

MEDIA_TYPES = {
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/json": "json",
    "text/csv": "csv",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
}
Format = Literal["jsonl", "json", "csv", "parquet"]


async def upload_body(request: Request, settings: SettingsDep) -> bytes:
    """The request body, read up to ``api_max_upload_bytes`` (413 beyond)."""
    limit = settings.api_max_upload_bytes
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise body_too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def upload_format(request: Request,
                  fmt: Annotated[Format | None, Query(alias="format")] = None) -> str:
    """``?format=`` if given, else the format of the ``Content-Type`` (415 when unknown)."""
    if fmt is not None:
        return fmt
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise UnsupportedMediaError(
            f"unsupported Content-Type {media or '(none)'!r}: use one of "
            f"{', '.join(sorted(MEDIA_TYPES))}, or ?format=jsonl|json|csv|parquet")
    return MEDIA_TYPES[media]


@router.put("/models/{model_id}/reference", status_code=status.HTTP_201_CREATED,
            response_model=ReferencePublic,
            openapi_extra={"requestBody": {"required": True, "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in MEDIA_TYPES}}},
            responses={404: {"description": "unknown model"},
                       413: {"description": "body larger than api_max_upload_bytes"},
                       415: {"description": "unknown Content-Type and no ?format="}})
async def put_reference(
    _: WriteKey,
    model_id: ModelIdPath,
    data_format: Annotated[str, Depends(upload_format)],
    body: Annotated[bytes, Depends(upload_body)],
    conn: DbConn,
) -> ReferencePublic:
    """Upload reference data; it becomes the model's next reference version (201)."""
    return await run_in_threadpool(_store, conn, model_id, body, data_format)


def _store(conn: Connection, model_id: str, body: bytes, data_format: str) -> ReferencePublic:
    before = public_model(conn, model_id)
    # End the read transaction while parsing: on SQLite it holds the write lock.
    conn.commit()
    cols = read_reference(before.config, body, data_format)
    after = public_model(conn, model_id)
    if after.config_version != before.config_version:
        raise ConflictError("the model's configuration changed during the upload; retry")
    info = repository.set_reference(conn, after.config, cols,
                                    f"api:{data_format}:{len(body)} bytes")
    return ReferencePublic.of(info)
