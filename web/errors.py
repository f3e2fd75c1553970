"""HTTP errors as JSON bodies with a stable code, the same shape as signalling acks."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from sessions.errors import DomainError
from signaling.client_faults import ClientFaultLog

client_faults = ClientFaultLog(logging.getLogger(__name__))


class Unauthorized(DomainError):
    code = "unauthorized"


class NotFound(DomainError):
    code = "not_found"


class BadRequest(DomainError):
    code = "bad_request"


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"


_STATUS_OF_CODE = {
    "unauthorized": 401,
    "forbidden": 403,
    "csrf": 403,
    "not_found": 404,
    "unknown_room": 404,
    "unknown_scenario": 404,
    "unknown_seat": 400,
    "recording_in_progress": 409,
    "too_large": 413,
    "unsupported_media_type": 415,
    "unavailable": 503,  # the storage refused (disk full); nothing changed
    "server_closing": 503,
    "wrong_node": 409,  # the room runs on another node (placement/)
    "node_unavailable": 503,  # that node did not answer a request sent on to it
    # people and sign-in (web/signin.py, web/people_api.py)
    "bad_credentials": 401,
    "too_many_attempts": 429,
    "unknown_person": 404,
    "unknown_invitation": 404,
    "invitation_used": 410,
    "invitation_expired": 410,
    "email_taken": 409,
    "own_account": 409,
    "person_deactivated": 409,
}


def json_error(code: str, message: str, status: int | None = None, **extra: Any) -> web.Response:
    return web.json_response(
        {"ok": False, "code": code, "message": message, **extra},
        status=status or _STATUS_OF_CODE.get(code, 400),
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure of an API route answers with a code and a message."""
    try:
        return await handler(request)
    except DomainError as exc:
        # an error may name its own status where one code means two things (a person
        # missing from a path is 404, one named in a body 400)
        return json_error(exc.code, exc.message, getattr(exc, "status", None))
    except web.HTTPRequestEntityTooLarge:
        return json_error("too_large", "the request body is too large")
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.status < 400:
            raise
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "bad_method"}
        return json_error(code.get(exc.status, "bad_request"), exc.reason, exc.status)
    except json.JSONDecodeError:
        return json_error("bad_request", "the body must be JSON")


class ClientHttpErrors(logging.Filter):
    """aiohttp.server logs a request it cannot parse (a bad request line, a header
    too long, broken chunked encoding) or a client that hung up mid-request as an
    ERROR with a traceback. Those are the client's: one rate-limited line instead.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError | ConnectionResetError):
            client_faults.refused("HTTP request", f"{type(exc).__name__}: {exc}".strip())
            return False
        return True


def quiet_client_http_errors() -> None:
    """Install :class:`ClientHttpErrors` on aiohttp's server logger (once)."""
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, ClientHttpErrors) for f in server_log.filters):
        server_log.addFilter(ClientHttpErrors())
