"""Run BCP Board: settings from the environment, logging, the aiohttp app.

With no configuration it runs on its embedded default: a SQLite journal under data/,
the sample site registry, anonymous local auth (for the Agents Playground) and Graph
mirroring off. See the README for every setting.
"""

from __future__ import annotations

import logging
import sys

from aiohttp import web

from bot.errors import BcpError
from bot.settings import Settings
from bot.web import create_app

log = logging.getLogger("bot")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("aiohttp.access", "msrest", "urllib3", "azure", "httpx", "kiota"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def main() -> int:
    try:
        settings = Settings.from_env()
    except BcpError as error:
        print(f"BCP Board cannot start: {error}", file=sys.stderr)
        return 2

    configure_logging(settings.log_level)
    log.info("starting BCP Board with %s", settings.describe())
    if settings.anonymous:
        log.warning(
            "MicrosoftAppId is empty: running in anonymous local mode. Every request is "
            "accepted without a token and the local user is an admin. Use this only with "
            "the Agents Playground on this machine, never on a network."
        )
    if not settings.graph_enabled:
        log.info("Graph mirroring is off (BCP_GRAPH_SITE_ID is not set)")

    try:
        web.run_app(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            shutdown_timeout=30,
            print=None,
            access_log=None,
        )
    except BcpError as error:
        log.error("BCP Board stopped: %s", error)
        return 1
    except OSError as error:
        # A busy port is the usual cause: another bot, or the Playground, holds it.
        log.error(
            "BCP Board cannot listen on %s:%d: %s. Stop what uses the port or set PORT.",
            settings.host,
            settings.port,
            error.strerror or error,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
