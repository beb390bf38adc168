"""The aiohttp application: /api/messages for Teams, /healthz for operators.

/api/messages is served by our own handler instead of CloudAdapter.process.
NOTE: botbuilder 4.17.1's CloudAdapter.process serialises an invoke response body
twice, so every Action.Execute answered with a card fails with HTTP 500
('dict' object has no attribute 'is_xml_model'). Calling process_activity ourselves
and writing the body as JSON avoids it.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web
from botbuilder.schema import Activity

from bot import __version__
from bot.adapter import create_adapter
from bot.handler import BcpBot
from bot.scheduler import Clock, SystemClock
from bot.services import Services
from bot.settings import Settings

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
BOT = web.AppKey("bot", BcpBot)
ADAPTER = web.AppKey("adapter", object)
ADAPTER_OVERRIDES = web.AppKey("adapter_overrides", dict)
CLOCK = web.AppKey("clock", object)
SERVICES = web.AppKey("services", Services)
MAX_BODY = 256 * 1024


def create_app(
    settings: Settings, *, clock: Clock | None = None, **adapter_overrides
) -> web.Application:
    """Build the application; the journal and timed work start and stop with it.

    Args:
        clock: the time for reports and timed work; tests pass a clock they move.
        adapter_overrides: extra SDK configuration names (see bot.adapter).
    """
    app = web.Application(client_max_size=MAX_BODY)
    app[SETTINGS] = settings
    app[ADAPTER_OVERRIDES] = adapter_overrides
    app[CLOCK] = clock or SystemClock()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.cleanup_ctx.append(_lifetime)
    return app


async def _lifetime(app: web.Application):
    settings = app[SETTINGS]
    app[ADAPTER] = create_adapter(settings, **app[ADAPTER_OVERRIDES])
    services = app[SERVICES] = await Services.start(settings, app[ADAPTER], app[CLOCK])
    app[BOT] = BcpBot(
        settings,
        services.journal,
        services.reports,
        checkins=services.checkins,
        requests=services.requests,
        roles=services.roles,
        publisher=services.publisher,
        reminders=services.reminders,
    )
    log.info(
        "journal %s holds %d reports; %d sites registered",
        settings.database,
        await services.journal.report_count(),
        len(services.registry),
    )

    yield

    await services.stop()
    log.info("journal closed")


async def messages(request: web.Request) -> web.Response:
    """Take one activity from the Bot Framework and answer it."""
    if "application/json" not in request.headers.get("Content-Type", ""):
        return web.json_response({"error": "expected application/json"}, status=415)
    try:
        activity = Activity().deserialize(await request.json())
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return web.json_response({"error": "body is not an activity"}, status=400)

    # NOTE: with an app id set, the SDK raises (HTTP 500) on a missing header; say 401.
    auth_header = request.headers.get("Authorization", "")
    if not request.app[SETTINGS].anonymous and not auth_header:
        return web.json_response({"error": "missing Authorization header"}, status=401)

    bot = request.app[BOT]
    try:
        response = await request.app[ADAPTER].process_activity(auth_header, activity, bot.on_turn)
    except PermissionError:
        log.warning("rejected an activity with a bad token from %s", request.remote)
        return web.json_response({"error": "unauthorized"}, status=401)

    if response is None:
        return web.Response(status=201)
    body = response.body
    if hasattr(body, "serialize"):
        body = body.serialize()
    return web.json_response(body, status=response.status)


async def healthz(request: web.Request) -> web.Response:
    """Say whether the bot can serve: version, journal reachable, and details."""
    bot = request.app[BOT]
    journal_ok = await bot.journal.ping()
    details = {"sites": len(bot.registry), **await request.app[SERVICES].health()}
    if journal_ok:
        details["reports"] = await bot.journal.report_count()
        details["outbox"] = await bot.journal.outbox_stats()
    return web.json_response(
        {"ok": journal_ok, "version": __version__, "journal": journal_ok, "details": details},
        status=200 if journal_ok else 503,
    )
