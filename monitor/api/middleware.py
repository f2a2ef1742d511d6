"""Request body size limits (RELIABILITY promise 10): 413 above the limit.

A declared ``Content-Length`` above the limit is refused before the body is read; a body sent
without one (chunked) is counted as it streams and refused as soon as it passes the limit.
The reference upload (``PUT /api/v1/models/{model_id}/reference``) has its own, larger limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.api.errors import body_too_large, error_response, too_large_response

UPLOAD_PATH = re.compile(r"^/api/v1/models/[^/]+/reference/?$")


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, body_limit: int, upload_limit: int,
                 is_upload: Callable[[str, str], bool] | None = None) -> None:
        self.app = app
        self.body_limit = body_limit
        self.upload_limit = upload_limit
        self.is_upload = is_upload or (
            lambda method, path: method == "PUT" and UPLOAD_PATH.match(path) is not None)

    def limit_for(self, scope: Scope) -> int:
        upload = self.is_upload(str(scope.get("method", "")), str(scope.get("path", "")))
        return self.upload_limit if upload else self.body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        if declared == -1:
            await error_response(400, "invalid Content-Length")(scope, receive, send)
            return
        if declared is not None and declared > limit:
            await too_large_response(limit)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise body_too_large(limit)
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    """The declared length; None when absent, -1 when malformed."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else -1
    return None
