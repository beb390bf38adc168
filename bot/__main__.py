"""Command line: `python -m bot COMMAND`.

Commands:
    package     build and validate the Teams app package (manifest/ -> build/bcp-board.zip)
    provision   create the SharePoint lists of the shared board through Microsoft Graph
    graph-retry retry the outbox rows the Graph mirror parked (--list only shows them)
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "package": "bot.package",
    "provision": "bot.graph.provision",
    "graph-retry": "bot.graph.retry",
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__.strip())
        return 2
    module = importlib.import_module(COMMANDS[argv[0]])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
