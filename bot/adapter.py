"""The Bot Framework adapter, and the one correction BCP Board makes to the SDK.

Kept at the edge so a later move to the Microsoft 365 Agents SDK stays small.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from msrest.universal_http.requests import ClientRetryPolicy

from bot.settings import Settings

log = logging.getLogger(__name__)


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
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(configuration))
