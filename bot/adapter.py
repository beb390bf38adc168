"""The Bot Framework adapter, and what BCP Board corrects in the SDK's per-activity cost.

Kept at the edge so a later move to the Microsoft 365 Agents SDK stays small.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

from botbuilder.core import InvokeResponse, MessageFactory
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, Attachment
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from msrest.serialization import Model
from msrest.universal_http.requests import ClientRetryPolicy

from bot.cards import CARD_CONTENT_TYPE
from bot.settings import Settings

log = logging.getLogger(__name__)

# Teams answers from a handful of regional service URLs; more than this is not Teams.
MAX_KEPT_CLIENTS = 64


def speed_up_connector_clients() -> None:
    """Make msrest's retry policy cheap to build.

    NOTE: botbuilder 4.17.1 builds a connector client and a user-token client for every
    incoming activity, and each builds msrest's ClientRetryPolicy, whose constructor
    tests `i not in safe_codes` for range(999) against a 500-item *list*: about 6 ms of
    CPU per client, 12-17 ms per activity, which caps a 2-core bot near 80 invokes/s.
    The same codes as a frozenset give the same retry behaviour for a fraction of the
    cost. Idempotent; called once when the adapter is built.
    """
    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)


def card_activity(card: dict) -> Activity:
    """Return a message carrying the Adaptive Card `card`, to post or to update in place."""
    return MessageFactory.attachment(
        Attachment(content_type=CARD_CONTENT_TYPE, content=_CardAsRendered(card))
    )


class _CardAsRendered(Model):
    """A rendered card that the SDK sends as it is.

    NOTE: botbuilder deep-copies every outgoing activity, and msrest walks an attachment's
    content node by node, once to check it against the model and once to serialise it:
    about 20 ms of CPU for a 30 KB board card (0.2 ms with this wrapper), which made typed
    commands and board updates the costliest activities of all. As an msrest Model whose
    only attribute is `additional_properties`, the card goes into the request body as the
    dict it is, and the copy keeps the same card; the JSON sent is the same. Cards are
    never changed after they are rendered.
    """

    _attribute_map = {"additional_properties": {"key": "", "type": "{object}"}}

    def __init__(self, card: dict):
        super().__init__()
        self.additional_properties = card

    def __deepcopy__(self, memo: dict) -> _CardAsRendered:
        return self


def card_response(card: dict) -> InvokeResponse:
    """Answer an Action.Execute with `card`, shown to the person who pressed it."""
    return _AnswerAsRendered(
        status=200, body={"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card}
    )


class _AnswerAsRendered(InvokeResponse):
    """An invoke answer that the SDK's deep copy keeps as it is.

    NOTE: ActivityHandler hands the invoke response to TurnContext.send_activity, which
    deep-copies it like any outgoing activity before the adapter keeps it for the HTTP
    answer: a copy of the whole card for every submission and form (2-9 KB, a tenth of
    a submission's CPU). The answer is written as JSON straight after; nothing changes it.
    """

    def __deepcopy__(self, memo: dict) -> _AnswerAsRendered:
        return self


class KeptClientsAuthentication(ConfigurationBotFrameworkAuthentication):
    """Bot Framework authentication that builds each outgoing client once and keeps it.

    NOTE: even with a cheap retry policy, building the two clients costs about 1 ms of
    CPU per activity (msrest configuration, a requests session and its pools), a third
    of all the CPU a report takes, and each new requests session opens a new connection
    for the turn's replies. The clients hold no per-turn state: one connector client per
    (app id, service URL, audience) and one user-token client per app id send the same
    requests with the same credentials, which renew their own tokens.
    """

    def __init__(self, configuration):
        super().__init__(configuration)
        self._connectors: dict[tuple[str, str, str], ConnectorClient] = {}
        self._token_clients: dict[str, UserTokenClient] = {}

    async def authenticate_request(self, activity, auth_header: str):
        result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _KeptConnectors(
                result.connector_factory, _app_id(result.claims_identity), self._connectors
            )
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        factory = super().create_connector_factory(claims_identity)
        return _KeptConnectors(factory, _app_id(claims_identity), self._connectors)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        app_id = _app_id(claims_identity)
        client = self._token_clients.get(app_id)
        if client is None:
            client = await super().create_user_token_client(claims_identity)
            _keep(self._token_clients, app_id, client)
        return client


class _KeptConnectors(ConnectorFactory):
    def __init__(self, factory: ConnectorFactory, app_id: str, kept: dict):
        self._factory = factory
        self._app_id = app_id
        self._kept = kept

    async def create(self, service_url: str, audience: str = None) -> ConnectorClient:
        key = (self._app_id, service_url, audience or "")
        client = self._kept.get(key)
        if client is None:
            client = await self._factory.create(service_url, audience)
            _keep(self._kept, key, client)
        return client


def _app_id(claims_identity: ClaimsIdentity) -> str:
    claims = claims_identity.claims if claims_identity else {}
    return (
        claims.get(AuthenticationConstants.AUDIENCE_CLAIM)
        or claims.get(AuthenticationConstants.APP_ID_CLAIM)
        or ""
    )


def _keep(kept: dict, key, client) -> None:
    if len(kept) >= MAX_KEPT_CLIENTS:
        log.warning("more than %d Bot Framework clients; starting afresh", MAX_KEPT_CLIENTS)
        kept.clear()
    kept[key] = client


def create_adapter(settings: Settings, **overrides) -> CloudAdapter:
    """Build the CloudAdapter: anonymous when no app id is set, else Bot Framework JWT.

    Args:
        overrides: extra configuration names for the SDK, e.g. the test-only
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL.
    """
    speed_up_connector_clients()
    configuration = SimpleNamespace(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE=settings.app_type,
        APP_TENANTID=settings.app_tenant_id,
        **overrides,
    )
    return CloudAdapter(KeptClientsAuthentication(configuration))
