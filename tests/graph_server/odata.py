"""OData pieces of the fake Graph: replies, error bodies, $filter, paging tokens, times."""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class Reply:
    """One HTTP answer, before it becomes an aiohttp response or a $batch entry."""

    status: int
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)


class GraphHttpError(Exception):
    """Raise inside a route to answer with Graph's error shape."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def reply(self) -> Reply:
        return Reply(self.status, error_body(self.code, self.message), dict(self.headers))


def error_body(code: str, message: str) -> dict:
    """Return Graph's error body: {"error": {"code", "message", "innerError"}}."""
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": format_time(utc_now()),
                "request-id": str(uuid.uuid4()),
                "client-request-id": str(uuid.uuid4()),
            },
        }
    }


def bad_request(message: str) -> GraphHttpError:
    return GraphHttpError(400, "invalidRequest", message)


def not_found(what: str) -> GraphHttpError:
    return GraphHttpError(404, "itemNotFound", f"{what} not found")


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    """Format like SharePoint: UTC, whole seconds, trailing Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_CLAUSE = re.compile(
    r"^\s*fields/(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+eq\s+"
    r"(?P<value>'(?:[^']|'')*'|-?\d+(?:\.\d+)?|true|false|null)\s*$"
)


def parse_filter(text: str) -> list[tuple[str, object]]:
    """Parse `fields/Name eq 'x' and fields/Other eq 3` into [(name, value), ...].

    Only what the bot sends is understood; anything else is a 400, as an unsupported
    query is on SharePoint.
    """
    clauses = []
    for part in re.split(r"\s+and\s+", text.strip()):
        match = _CLAUSE.match(part)
        if not match:
            raise bad_request(f"Invalid filter clause: {part!r}")
        clauses.append((match["name"], _literal(match["value"])))
    return clauses


def _literal(text: str) -> object:
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    return float(text) if "." in text else int(text)


def encode_token(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> dict | None:
    """Return the token's data, or None when it is not one of ours."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None
