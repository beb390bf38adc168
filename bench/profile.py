"""Summarise a py-spy profile of the bot: where its CPU went, by function and by layer.

`python -m bench.run --profile DIR` records one with py-spy (`pip install py-spy`) while
the load runs against BCP Board; this reads py-spy's raw (collapsed stack) output:

    python -m bench.profile DIR/closed-bot.txt [--top 25] [--under "BcpBot.on_turn"]

It prints the share of samples per thread, the functions that were running (self), the
functions on the stack (inclusive), and, with --under, the callees of one function.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_LINE = re.compile(r":\d+\)$")

# Stack frames that mark a layer of the bot, first match wins, checked innermost first.
LAYERS = (
    ("SDK: per-activity clients", ("create_user_token_client", "_ConnectorFactoryImpl.create")),
    ("SDK: outgoing sends (connector)", ("TurnContext.send_activity",)),
    ("journal thread (SQLite)", ("SqliteJournal._",)),
    ("BCP Board: handler, cards, use cases", ("BcpBot.",)),
    ("SDK: activity (de)serialisation", ("Model.deserialize", "Model.serialize")),
    ("SDK: rest of process_activity", ("CloudAdapterBase.process_activity",)),
    ("aiohttp server and event loop", ("RequestHandler.", "BaseEventLoop.")),
)


def read(path: Path, lines: bool = False) -> list[tuple[list[str], int]]:
    """Read py-spy raw output; frames keep their line numbers only when `lines` is set."""
    stacks = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            frames = stack.split(";")
            if not lines:
                frames = [_LINE.sub(")", frame) for frame in frames]
            stacks.append((frames, int(count)))
    return stacks


def layer_of(frames: list[str]) -> str:
    for name, marks in LAYERS:
        if any(mark in frame for frame in frames for mark in marks):
            return name
    return "other threads and idle" if "Thread._bootstrap" in frames[0] else "other"


def summarise(stacks: list[tuple[list[str], int]], top: int, under: str | None) -> str:
    total = sum(count for _, count in stacks) or 1
    own, inclusive, layers, callees = Counter(), Counter(), Counter(), Counter()
    for frames, count in stacks:
        own[frames[-1]] += count
        layers[layer_of(frames)] += count
        for frame in set(frames):
            inclusive[frame] += count
        if under:
            for position, frame in enumerate(frames[:-1]):
                if under in frame:
                    callees[frames[position + 1]] += count
                    break

    def block(title: str, counter: Counter, limit: int) -> list[str]:
        rows = [f"{count / total:6.1%}  {name[:140]}" for name, count in counter.most_common(limit)]
        return [f"-- {title}", *rows, ""]

    lines = [f"{total} samples", ""]
    lines += block("layers", layers, len(LAYERS) + 2)
    lines += block("self (running)", own, top)
    lines += block("inclusive (on the stack)", inclusive, top)
    if under:
        lines += block(f"called from {under}", callees, top)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--under", help="also show what this function called")
    parser.add_argument("--lines", action="store_true", help="tell lines of a function apart")
    args = parser.parse_args()
    print(summarise(read(args.profile, args.lines), args.top, args.under))


if __name__ == "__main__":
    main()
