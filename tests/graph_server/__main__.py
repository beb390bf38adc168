"""Run the fake Graph standalone: `python -m tests.graph_server [--port N] [--seed N]`.

Prints the base URL (for BCP_GRAPH_BASE_URL) and the site id, then serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio

from .server import GraphServer


async def _serve(args: argparse.Namespace) -> None:
    server = GraphServer(seed=args.seed, port=args.port, units_per_minute=args.budget)
    async with server:
        if args.fault_rate:
            server.faults.randomly(args.fault_rate)
        print(f"BCP_GRAPH_BASE_URL={server.url}", flush=True)
        print(f"BCP_GRAPH_SITE_ID={server.site_id}", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=None, help="resource units a minute")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    args = parser.parse_args()
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
