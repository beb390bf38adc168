"""Retry parked outbox rows: `python -m bot graph-retry [--list]`.

The mirror parks a row that Graph refused too often (a column missing, a value SharePoint
rejects) and keeps it in the journal. Once the cause is fixed (often by running
`python -m bot provision` again), this command lists the parked rows and gives them a
fresh start; the running bot sends them at its next pass, within seconds. It works on
the journal file alone, so it runs beside the bot, or with the bot stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.errors import BcpError, ConfigurationError
from bot.settings import Settings
from bot.store import ParkedRow, open_journal


def main(argv: list[str]) -> int:
    """List the parked rows and unpark them (or only list them); return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bot graph-retry", description=__doc__)
    parser.add_argument("--list", action="store_true", help="only list the parked rows")
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env()
    except ConfigurationError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    try:
        parked, retried = asyncio.run(_retry(settings, only_list=args.list))
    except BcpError as error:
        print(f"Could not read the journal: {error}", file=sys.stderr)
        return 1

    print(f"{len(parked)} parked rows in {settings.database}")
    for row in parked:
        print(f"  {row.id}  {row.list_name}/{row.item_key}  {row.attempts} attempts, "
              f"queued {row.enqueued_at:%Y-%m-%d %H:%M} UTC: {row.last_error}")
    if args.list or not parked:
        return 0
    print(f"{retried} rows unparked; the bot sends them at its next pass.")
    if not settings.graph_enabled:
        print("Note: BCP_GRAPH_SITE_ID is not set here, so check that the bot itself runs "
              "with Graph mirroring on.")
    return 0


async def _retry(settings: Settings, only_list: bool) -> tuple[list[ParkedRow], int]:
    journal = open_journal(settings.database)
    try:
        parked = await journal.outbox_parked()
        retried = 0 if only_list or not parked else await journal.outbox_unpark()
        return parked, retried
    finally:
        await journal.close()
