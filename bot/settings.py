"""Configuration: one frozen dataclass built from the environment in one place.

Every option has a default that needs nothing, so `python app.py` runs on a fresh
machine: SQLite journal under data/, the sample site registry, anonymous local auth
and Graph mirroring off.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Mapping

from bot.errors import ConfigurationError

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
SAMPLE_SITES = PACKAGE_DIR / "data" / "sample_sites.csv"
GRAPH_PUBLIC_URL = "https://graph.microsoft.com/v1.0"


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment.

    Attributes (environment variable, default):
        port: PORT, 3978.
        host: BCP_HOST, 127.0.0.1 in anonymous mode (nothing else may reach an
            unauthenticated bot), else 0.0.0.0.
        app_id: MicrosoftAppId, empty. Empty means anonymous local mode (Agents Playground).
        app_password: MicrosoftAppPassword, empty.
        app_tenant_id: MicrosoftAppTenantId, empty.
        app_type: MicrosoftAppType, "MultiTenant" (or "SingleTenant", "UserAssignedMSI").
        database: BCP_DATABASE, data/bcp.sqlite3 (relative to the working directory).
        sites: BCP_SITES, the sample registry shipped in bot/data/.
        stale_after: BCP_STALE_AFTER, 3 hours ("3h", "90m", "45s" or plain minutes). An
            open or full site silent this long is flagged on the board, and its last
            reporters are reminded, at most once per this interval.
        stale_check_every: BCP_STALE_CHECK_EVERY, 1 minute: how often silent sites are
            looked for.
        default_locale: BCP_DEFAULT_LOCALE, empty: follow each activity's locale.
            "ja" or "en" overrides it for users who have not chosen a language.
        timezone: BCP_TIMEZONE, Asia/Tokyo: shown when the client sends no time zone.
        admins: BCP_ADMINS, comma-separated Entra object ids.
        hq_users: BCP_HQ_USERS, comma-separated Entra object ids.
        board_interval: BCP_BOARD_INTERVAL, 3 seconds: the shortest time between two
            updates of the board card in one conversation, however fast reports come;
            also how long alerts for one site wait to be grouped.
        graph_*: BCP_GRAPH_TENANT_ID, BCP_GRAPH_CLIENT_ID, BCP_GRAPH_CLIENT_SECRET,
            BCP_GRAPH_SITE_ID, BCP_GRAPH_BASE_URL (public Graph v1.0),
            BCP_GRAPH_UNITS_PER_MINUTE (1200), BCP_GRAPH_POLL_INTERVAL (30 seconds: how
            often HQ's edits are read back), BCP_GRAPH_MAX_ATTEMPTS (8: failures after
            which an outbox row is parked). Mirroring is on when a site id is set.
        log_level: BCP_LOG_LEVEL, INFO.
    """

    port: int = 3978
    host: str = "127.0.0.1"
    app_id: str = ""
    app_password: str = ""
    app_tenant_id: str = ""
    app_type: str = "MultiTenant"
    database: Path = Path("data/bcp.sqlite3")
    sites: Path = SAMPLE_SITES
    stale_after: timedelta = timedelta(hours=3)
    stale_check_every: timedelta = timedelta(minutes=1)
    default_locale: str = ""
    timezone: str = "Asia/Tokyo"
    admins: frozenset[str] = field(default_factory=frozenset)
    hq_users: frozenset[str] = field(default_factory=frozenset)
    board_interval: float = 3.0
    graph_tenant_id: str = ""
    graph_client_id: str = ""
    graph_client_secret: str = ""
    graph_site_id: str = ""
    graph_base_url: str = GRAPH_PUBLIC_URL
    graph_units_per_minute: int = 1200
    graph_poll_interval: float = 30.0
    graph_max_attempts: int = 8
    log_level: str = "INFO"

    @property
    def anonymous(self) -> bool:
        """Return True when no app id is set: no token is checked or sent."""
        return not self.app_id

    @property
    def graph_enabled(self) -> bool:
        return bool(self.graph_site_id)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Build settings from the environment; raise ConfigurationError on a bad value."""
        env = os.environ if env is None else env
        get = lambda name, default="": env.get(name, default).strip()  # noqa: E731

        app_id = get("MicrosoftAppId")
        return cls(
            port=_integer("PORT", get("PORT", "3978"), 1, 65535),
            host=get("BCP_HOST") or ("0.0.0.0" if app_id else "127.0.0.1"),
            app_id=app_id,
            app_password=get("MicrosoftAppPassword"),
            app_tenant_id=get("MicrosoftAppTenantId"),
            app_type=_choice(
                "MicrosoftAppType",
                get("MicrosoftAppType", "MultiTenant") or "MultiTenant",
                ("MultiTenant", "SingleTenant", "UserAssignedMSI"),
            ),
            database=Path(get("BCP_DATABASE") or "data/bcp.sqlite3"),
            sites=Path(get("BCP_SITES")) if get("BCP_SITES") else SAMPLE_SITES,
            stale_after=parse_duration("BCP_STALE_AFTER", get("BCP_STALE_AFTER", "3h") or "3h"),
            stale_check_every=parse_duration(
                "BCP_STALE_CHECK_EVERY", get("BCP_STALE_CHECK_EVERY", "1m") or "1m"
            ),
            default_locale=_choice(
                "BCP_DEFAULT_LOCALE", get("BCP_DEFAULT_LOCALE").lower(), ("", "ja", "en")
            ),
            timezone=_timezone(get("BCP_TIMEZONE", "Asia/Tokyo") or "Asia/Tokyo"),
            admins=_id_set(get("BCP_ADMINS")),
            hq_users=_id_set(get("BCP_HQ_USERS")),
            board_interval=parse_duration(
                "BCP_BOARD_INTERVAL", get("BCP_BOARD_INTERVAL", "3s") or "3s"
            ).total_seconds(),
            graph_tenant_id=get("BCP_GRAPH_TENANT_ID"),
            graph_client_id=get("BCP_GRAPH_CLIENT_ID"),
            graph_client_secret=get("BCP_GRAPH_CLIENT_SECRET"),
            graph_site_id=get("BCP_GRAPH_SITE_ID"),
            graph_base_url=(get("BCP_GRAPH_BASE_URL") or GRAPH_PUBLIC_URL).rstrip("/"),
            graph_units_per_minute=_integer(
                "BCP_GRAPH_UNITS_PER_MINUTE", get("BCP_GRAPH_UNITS_PER_MINUTE", "1200"), 1, 10**6
            ),
            graph_poll_interval=parse_duration(
                "BCP_GRAPH_POLL_INTERVAL", get("BCP_GRAPH_POLL_INTERVAL", "30s") or "30s"
            ).total_seconds(),
            graph_max_attempts=_integer(
                "BCP_GRAPH_MAX_ATTEMPTS", get("BCP_GRAPH_MAX_ATTEMPTS", "8") or "8", 1, 1000
            ),
            log_level=_choice(
                "BCP_LOG_LEVEL",
                (get("BCP_LOG_LEVEL", "INFO") or "INFO").upper(),
                ("DEBUG", "INFO", "WARNING", "ERROR"),
            ),
        )

    def describe(self) -> dict[str, object]:
        """Return the settings an operator needs to see at startup, without secrets."""
        return {
            "host": self.host,
            "port": self.port,
            "auth": "anonymous (local only)" if self.anonymous else f"app {self.app_id}",
            "database": str(self.database),
            "sites": str(self.sites),
            "stale_after": str(self.stale_after),
            "stale_check_every": str(self.stale_check_every),
            "board_interval": f"{self.board_interval:g}s",
            "default_locale": self.default_locale or "per activity",
            "timezone": self.timezone,
            "admins": len(self.admins),
            "hq_users": len(self.hq_users),
            "graph": f"site {self.graph_site_id} at {self.graph_base_url}"
            if self.graph_enabled
            else "off",
        }


def parse_duration(name: str, text: str) -> timedelta:
    """Parse "3h", "90m", "45s", "1h30m" or plain minutes ("180") into a timedelta."""
    units = {"h": 3600, "m": 60, "s": 1}
    value = text.strip().lower()
    if value.isdigit():
        return timedelta(minutes=int(value))

    total, number = 0.0, ""
    for char in value:
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total += float(number) * units[char]
            number = ""
        else:
            number = "?"
            break
    if number or total <= 0:
        raise ConfigurationError(
            f"{name}={text!r} is not a duration. Use forms like 3h, 90m, 45s or 1h30m."
        )
    return timedelta(seconds=total)


def _integer(name: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ConfigurationError(f"{name}={text!r} must be a whole number from {low} to {high}.")
    return value


def _choice(name: str, value: str, accepted: tuple[str, ...]) -> str:
    if value not in accepted:
        shown = ", ".join(repr(a) for a in accepted)
        raise ConfigurationError(f"{name}={value!r} is not accepted. Use one of: {shown}.")
    return value


def _timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigurationError(
            f"BCP_TIMEZONE={name!r} is not a known IANA time zone, e.g. Asia/Tokyo."
        ) from error
    return name


def _id_set(text: str) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in text.split(",") if part.strip())
