"""Open a Microsoft Graph client (msgraph-sdk) from the settings.

Microsoft's Graph hosts get a token from azure-identity: a client secret when one is set,
else the managed identity of the machine. A loopback base URL (a Graph-compatible test
server) gets no token at all.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Self, TypeVar
from urllib.parse import urlsplit

import httpx
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import ClientAuthenticationError
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import AnonymousAuthenticationProvider
from kiota_abstractions.request_information import RequestInformation
from kiota_http.middleware.options import RetryHandlerOption
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.graph_request_adapter import options as sdk_options
from msgraph_core import GraphClientFactory
from msgraph_core.authentication import AzureIdentityAuthenticationProvider

from bot.errors import ConfigurationError, GraphError
from bot.settings import Settings

T = TypeVar("T")

# Microsoft's Graph hosts, global and national clouds. Only these get a token.
GRAPH_HOSTS = [
    "graph.microsoft.com",
    "graph.microsoft.us",
    "dod-graph.microsoft.us",
    "microsoftgraph.chinacloudapi.cn",
]
DEFAULT_TIMEOUT = 30.0
ERROR_MAPPING = {"XXX": ODataError}


class GraphRequestError(GraphError):
    """Graph answered with an error status (after the SDK's own retries)."""

    def __init__(self, message: str, status: int | None, code: str):
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass
class GraphConnection:
    """A Graph client and what it holds open; close it when done (or use `async with`).

    `adapter` is exposed for requests the SDK's builders cannot shape, such as a raw
    JSON $batch whose inner response bodies the caller needs.
    """

    client: GraphServiceClient
    adapter: GraphRequestAdapter
    http: httpx.AsyncClient
    credential: AsyncTokenCredential | None = None

    async def close(self) -> None:
        await self.http.aclose()
        if self.credential is not None:
            await self.credential.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()


def connect(
    settings: Settings,
    *,
    retry: RetryHandlerOption | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> GraphConnection:
    """Build a Graph client for settings.graph_base_url.

    Args:
        settings: the bot's settings; Graph must be enabled (a site id set).
        retry: the SDK's retry policy (429, 503, 504 with Retry-After); None keeps the
            SDK's default of 3 retries. Pass RetryHandlerOption(should_retry=False) to
            handle every failure yourself.
        timeout: seconds for a whole request; connecting has 10 at most.

    Raises:
        ConfigurationError: Graph is off, the base URL is neither Microsoft's Graph nor
            a loopback server, or a client secret is set without tenant and client ids.
    """
    if not settings.graph_enabled:
        raise ConfigurationError(
            "Graph mirroring is off: BCP_GRAPH_SITE_ID is empty. Set it to the SharePoint "
            "site id (host,site-guid,web-guid) to turn mirroring on."
        )
    host = _check_base_url(settings.graph_base_url)

    credential = None
    if _is_loopback(host):
        auth = AnonymousAuthenticationProvider()
    else:
        credential = _credential(settings)
        # NOTE: msgraph-core's provider defaults allowed_hosts to full URLs
        # ("https://graph.microsoft.com"), which kiota 1.16 rejects with ValueError, and
        # GraphServiceClient(credentials=...) allows every host. Name the hosts.
        auth = AzureIdentityAuthenticationProvider(credential, allowed_hosts=GRAPH_HOSTS)

    # NOTE: the SDK's default middleware options (URL replacement for /me, telemetry
    # header) live in a module-level dict of msgraph.graph_request_adapter; keep them
    # and add the retry policy. Its RetryHandler reads Retry-After only as whole seconds
    # or an HTTP date, and adds its `delay` (3 s by default) to every computed backoff.
    options = dict(sdk_options)
    if retry is not None:
        options[RetryHandlerOption.get_key()] = retry
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0))),
        options=options,
    )
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = settings.graph_base_url
    return GraphConnection(GraphServiceClient(request_adapter=adapter), adapter, http, credential)


async def call(what: str, request: Awaitable[T]) -> T:
    """Await one Graph request; turn its failure into a GraphError that says what failed.

    The SDK has already retried 429, 503 and 504 by then. Network errors are not retried
    by the SDK and arrive here as httpx.TransportError.
    """
    try:
        return await request
    except APIError as error:
        status = error.response_status_code
        detail = getattr(getattr(error, "error", None), "message", None) or error.message
        code = getattr(getattr(error, "error", None), "code", None) or "error"
        message = f"Graph refused to {what}: HTTP {status} {code}: {detail}"
        raise GraphRequestError(message, status, code) from error
    except httpx.TransportError as error:
        raise GraphError(f"Could not reach Graph to {what}: {error!r}") from error
    except ClientAuthenticationError as error:
        raise GraphError(
            f"Could not get a token to {what}. Check BCP_GRAPH_TENANT_ID, "
            f"BCP_GRAPH_CLIENT_ID and BCP_GRAPH_CLIENT_SECRET: {error.message}"
        ) from error


async def send_json(client: GraphServiceClient, request: RequestInformation, what: str) -> dict:
    """Send a request built by an SDK request builder; return the JSON body as plain data.

    The request goes through the SDK's whole pipeline (auth, retry, telemetry); only the
    answer skips the SDK's models.
    """
    # NOTE: msgraph-sdk 1.65 parses each model object in about 10 ms: every
    # Entity.get_field_deserializers call runs some 2,500 function-level imports. A list
    # of 100 columns or items costs a second of CPU; plain JSON costs nothing.
    adapter = client.request_adapter
    content = await call(what, adapter.send_primitive_async(request, "bytes", ERROR_MAPPING))
    return json.loads(content) if content else {}


def _check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host in GRAPH_HOSTS:
        return host
    if parts.scheme in ("http", "https") and _is_loopback(host):
        return host
    raise ConfigurationError(
        f"BCP_GRAPH_BASE_URL={base_url!r} is not accepted. Use Microsoft Graph "
        "(https://graph.microsoft.com/v1.0 or a national cloud's Graph host) or a "
        "loopback test server (http://127.0.0.1:PORT/v1.0)."
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _credential(settings: Settings) -> AsyncTokenCredential:
    from azure.identity.aio import ClientSecretCredential, ManagedIdentityCredential

    if settings.graph_client_secret:
        missing = [
            name
            for name, value in (
                ("BCP_GRAPH_TENANT_ID", settings.graph_tenant_id),
                ("BCP_GRAPH_CLIENT_ID", settings.graph_client_id),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError(
                f"BCP_GRAPH_CLIENT_SECRET is set but {' and '.join(missing)} is empty. Set "
                "both to the app registration's ids, or drop the secret to use a managed "
                "identity."
            )
        return ClientSecretCredential(
            settings.graph_tenant_id, settings.graph_client_id, settings.graph_client_secret
        )
    # A user-assigned identity is chosen by its client id; empty means system-assigned.
    return ManagedIdentityCredential(client_id=settings.graph_client_id or None)
