"""Model configurations: ``/api/v1/models``."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy import Connection

from monitor.api.deps import DbConn, ModelIdPath, ReadKey, WriteKey
from monitor.api.errors import ConflictError, NotFoundError, invalid
from monitor.api.schemas import ModelCreate, ModelPublic, ModelsPublic, ReferencePublic
from monitor.db import repository

router = APIRouter(prefix="/models", tags=["models"])


def public_model(conn: Connection, model_id: str) -> ModelPublic:
    """The stored model with its active reference; 404 when there is none."""
    info = repository.get_model_info(conn, model_id)
    if info is None:
        raise NotFoundError(f"model {model_id!r} not found")
    return ModelPublic.of(info, repository.get_reference_info(conn, model_id))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ModelPublic,
             responses={409: {"description": "the model already exists"}})
def create_model(_: WriteKey, conn: DbConn, body: ModelCreate) -> ModelPublic:
    """Register a model; 409 if one with this ``model_id`` exists (use PUT to replace it)."""
    if repository.get_model_info(conn, body.model_id) is not None:
        raise ConflictError(f"model {body.model_id!r} already exists; PUT replaces it")
    repository.upsert_model(conn, body)
    return public_model(conn, body.model_id)


@router.get("", response_model=ModelsPublic)
def list_models(_: ReadKey, conn: DbConn) -> ModelsPublic:
    items = [ModelPublic.of(info, repository.get_reference_info(conn, info.config.model_id))
             for info in repository.list_model_infos(conn)]
    return ModelsPublic(items=items, count=len(items))


@router.get("/{model_id}", response_model=ModelPublic)
def get_model(_: ReadKey, conn: DbConn, model_id: ModelIdPath) -> ModelPublic:
    return public_model(conn, model_id)


@router.put("/{model_id}", response_model=ModelPublic,
            responses={201: {"description": "created", "model": ModelPublic}})
def put_model(_: WriteKey, conn: DbConn, model_id: ModelIdPath, body: ModelCreate,
              response: Response) -> ModelPublic:
    """Create or replace a model's configuration (201 when created, 200 when replaced).

    The body's ``model_id`` must equal the path's. A changed configuration bumps
    ``config_version``; the workers pick it up on their next refresh.
    """
    if body.model_id != model_id:
        raise invalid("body", "model_id", f"model_id {body.model_id!r} differs from the path's "
                      f"{model_id!r}", body.model_id)
    if repository.upsert_model(conn, body):
        response.status_code = status.HTTP_201_CREATED
    return public_model(conn, model_id)


@router.delete("/{model_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_model(_: WriteKey, conn: DbConn, model_id: ModelIdPath) -> Response:
    """Delete a model with its references, windows and metric records."""
    if not repository.delete_model(conn, model_id):
        raise NotFoundError(f"model {model_id!r} not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{model_id}/reference", response_model=ReferencePublic, tags=["reference"])
def get_reference(_: ReadKey, conn: DbConn, model_id: ModelIdPath) -> ReferencePublic:
    """The active reference's version and size; 404 when the model has none."""
    public = public_model(conn, model_id)
    if public.reference is None:
        raise NotFoundError(f"model {model_id!r} has no reference yet")
    return public.reference
