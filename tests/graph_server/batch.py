"""JSON batching: POST /$batch with up to 20 requests, each served and faulted on its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, unquote, urlsplit

from .odata import Reply, bad_request, error_body
from .routes import Call

MAX_REQUESTS = 20
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
Serve = Callable[[Call, str], Awaitable[Reply | None]]


def inner_call(outer: Call, request: dict) -> Call:
    """Turn one entry of a $batch body into a Call; the url is relative to the version."""
    url = request["url"]
    parts = urlsplit(url)
    segments = [unquote(s) for s in parts.path.strip("/").split("/") if s]
    headers = {k.lower(): str(v) for k, v in (request.get("headers") or {}).items()}
    return Call(
        method=request["method"].upper(),
        segments=segments,
        query=dict(parse_qsl(parts.query, keep_blank_values=True)),
        headers=headers,
        body=request.get("body"),
        base_url=outer.base_url,
    )


def check_batch(body: object) -> list[dict]:
    """Validate a $batch body's shape; raise a 400 GraphHttpError naming the problem."""
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        raise bad_request('A $batch body is {"requests": [...]}.')
    requests = body["requests"]
    if not 1 <= len(requests) <= MAX_REQUESTS:
        raise bad_request(f"A batch holds 1 to {MAX_REQUESTS} requests, not {len(requests)}.")

    seen: set[str] = set()
    for request in requests:
        if not isinstance(request, dict):
            raise bad_request("Each batch request must be a JSON object.")
        unknown = set(request) - {"id", "method", "url", "headers", "body", "dependsOn"}
        if unknown:
            raise bad_request(f"Unknown batch request properties: {sorted(unknown)}")
        request_id = request.get("id")
        if not isinstance(request_id, str) or not request_id or request_id in seen:
            raise bad_request(f"Batch request ids must be unique strings: {request_id!r}")
        if str(request.get("method", "")).upper() not in METHODS:
            raise bad_request(f"Batch request {request_id}: method {request.get('method')!r}")
        url = request.get("url")
        if not isinstance(url, str) or not url or "://" in url:
            raise bad_request(f"Batch request {request_id}: url must be relative, got {url!r}")
        depends = request.get("dependsOn", [])
        if not isinstance(depends, list) or any(d not in seen for d in depends):
            raise bad_request(f"Batch request {request_id}: dependsOn must name earlier ids.")
        seen.add(request_id)
    return requests


async def run_batch(outer: Call, serve: Serve, shuffle: Callable[[list], None]) -> Reply:
    """Serve each request in order; answer in Graph's batch shape, in no promised order."""
    requests = check_batch(outer.body)
    statuses: dict[str, int] = {}
    responses = []
    for request in requests:
        request_id = request["id"]
        reply = await _one(outer, request, statuses, serve)
        statuses[request_id] = reply.status
        entry = {
            "id": request_id,
            "status": reply.status,
            "headers": {"Content-Type": "application/json", **reply.headers},
        }
        if reply.body is not None:
            entry["body"] = reply.body
        responses.append(entry)

    # NOTE: Graph documents that batch responses may come in any order; so do ours.
    shuffle(responses)
    return Reply(200, {"responses": responses})


async def _one(outer: Call, request: dict, statuses: dict[str, int], serve: Serve) -> Reply:
    if any(statuses[d] >= 400 for d in request.get("dependsOn", [])):
        return Reply(424, error_body("failedDependency", "A request it depends on failed."))
    headers = {k.lower() for k in (request.get("headers") or {})}
    if request.get("body") is not None and "content-type" not in headers:
        return Reply(
            400,
            error_body(
                "BadRequest", "Content-Type header is required when a batch request has a body."
            ),
        )

    reply = await serve(inner_call(outer, request), request["id"])
    if reply is None:
        # A dropped connection cannot happen inside a batch: the gateway answers for it.
        return Reply(504, error_body("gatewayTimeout", "The request timed out."))
    return reply
