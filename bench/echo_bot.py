"""A bare Bot Framework bot on aiohttp: the framework's own ceiling, for comparison.

It is served the way BCP Board is (an aiohttp handler that deserialises the activity,
calls CloudAdapter.process_activity anonymously and writes the invoke response as JSON)
and does nothing else: each Action.Execute is answered with a small card, each message
with a one-line text reply through the connector in its serviceUrl.

    python -m bench.echo_bot --port 3979            # the SDK as published
    python -m bench.echo_bot --port 3979 --corrected

--corrected removes the SDK's per-activity client cost: botbuilder 4.17.1 builds two
connector-side clients for every activity, and each builds msrest's ClientRetryPolicy,
which tests range(999) against a 500-item list. The same codes as a frozenset keep the
behaviour and drop the cost. This file makes that change itself instead of importing
BCP Board's, so the baseline does not move when the product's code does.
"""

from __future__ import annotations

import argparse
import logging
from types import SimpleNamespace

from aiohttp import web
from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from msrest.universal_http.requests import ClientRetryPolicy

CARD = "application/vnd.microsoft.card.adaptive"


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext):
        await turn_context.send_activity(f"echo: {(turn_context.activity.text or '')[:100]}")

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        action = (turn_context.activity.value or {}).get("action") or {}
        card = {
            "type": "AdaptiveCard",
            "version": "1.5",
            "body": [{"type": "TextBlock", "text": f"Received {action.get('verb', '?')}"}],
        }
        return InvokeResponse(status=200, body={"statusCode": 200, "type": CARD, "value": card})


def create_app(corrected: bool) -> web.Application:
    if corrected:
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)
    configuration = SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant",
                                    APP_TENANTID="")
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(configuration))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        activity = Activity().deserialize(await request.json())
        response = await adapter.process_activity("", activity, bot.on_turn)
        if response is None:
            return web.Response(status=201)
        return web.json_response(response.body, status=response.status)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "corrected": corrected})

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=3979)
    parser.add_argument("--corrected", action="store_true",
                        help="remove the per-activity ClientRetryPolicy cost")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    web.run_app(create_app(args.corrected), host="127.0.0.1", port=args.port, print=None,
                access_log=None)


if __name__ == "__main__":
    main()
