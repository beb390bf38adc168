"""The load generator: many Teams users posting activities to a bot over real HTTP.

bench.run starts it as a process of its own, so its CPU is counted apart from the bot's.
It posts what Teams posts to /api/messages: adaptiveCard/action invokes (submissions of
every kind in bench.submissions, each at its kind's weight, a few of them invalid, some
retried with the same submission id, and form openings) and typed commands, whose
replies the bot sends to the connector named in each activity's serviceUrl. In the
closed and open loops HQ members also move accepted supply requests along, pressing
the buttons on the request cards the bot answered with.

Modes:
    closed  --users N, each posting its next activity once the last one is answered,
            for --duration seconds.
    open    submissions arrive at --rate a second for --duration seconds whether or not
            earlier ones were answered (latency counts from the planned send time, so a
            slow bot cannot hide its queue); form openings, commands and HQ's moves come
            on top.
    burst   --sites shelter reports (one per site) and --burst-users check-ins (one per
            user), shuffled, plus retries, sent --concurrency at a time as fast as they are
            answered. Submissions only.

Every loop ends by itself: by the deadline, by the end of the work list, and each
request within --timeout seconds. The result is one JSON file (--out).

    python -m bench.load --url http://127.0.0.1:3978 --service-url http://127.0.0.1:PORT/ \
        --registry sites.csv --mode closed --users 200 --duration 60 --out result.json
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import random
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.registry import SiteRow, read_sites
from bench.submissions import (
    BOT,
    HQ_CHANNELS,
    KINDS,
    SubmissionKind,
    User,
    command_text,
    hq_activity,
    make_users,
    move_outcome,
    next_move,
    request_moves,
)

CARD = "application/vnd.microsoft.card.adaptive"
# Shares of the closed and open loops' traffic; the burst sends submissions only. Moves
# are HQ's, about one for every two or three supply requests.
MIX = {"submission": 83, "invalid": 4, "retry": 1, "form": 5, "command": 5, "move": 2}
BURST_INVALID, BURST_RETRY = 0.02, 0.01
MAX_IN_FLIGHT = 5000
# HQ works on the oldest open requests it knows, a few members at a time; past
# MAX_REQUESTS it has its hands full and newer requests wait unseen.
MOVE_QUEUE_HEAD = 20
MAX_REQUESTS = 1000


@dataclass
class Action:
    """One activity to post, and what the answer should be."""

    klass: str  # "submission", "retry", "form", "command" or "move"
    body: dict
    kind: SubmissionKind | None = None
    submission_id: str = ""  # for a move, the event key the journal records it under
    valid: bool = True


class Plan:
    """Make realistic activities for users.

    Remember submissions so some can be retried, and the buttons on each open supply
    request's latest card so HQ can press the next one.
    """

    def __init__(self, kinds: list[SubmissionKind], service_url: str, seed: int):
        self.kinds = kinds
        self.service_url = service_url
        self.rng = random.Random(seed)
        self.recent: deque[Action] = deque(maxlen=1000)
        # The valid data each kind last sent for each site: the next one changes it.
        self.previous: dict[tuple[str, str], dict] = {}
        # Request id -> the move buttons on its latest card, oldest request first.
        self.requests: dict[object, list[dict]] = {}
        self._ids = itertools.count(1)
        self._classes = list(MIX)
        self._weights = list(MIX.values())
        self._kind_weights = [kind.weight for kind in kinds]

    def next_action(self, user: User) -> Action:
        klass = self.rng.choices(self._classes, self._weights)[0]
        if klass == "retry" and self.recent:
            return self.retry()
        if klass == "form":
            return self.form(user)
        if klass == "command":
            return self.command(user)
        if klass == "move":
            # Before any request is known (and always against an echo bot) HQ opens a
            # form instead, so moves never add submissions.
            return self.move() if self.requests else self.form(user)
        return self.submission(user, invalid=klass == "invalid")

    def submission(self, user: User, invalid: bool = False, site: SiteRow | None = None,
                   kind: SubmissionKind | None = None) -> Action:
        kind = kind or self.rng.choices(self.kinds, self._kind_weights)[0]
        submission_id = f"bench-{self.rng.getrandbits(64):016x}"
        site = site or user.home
        last = self.previous.get((kind.name, site.id))
        verb, data = kind.build(self.rng, user, site, submission_id, invalid, last)
        if not invalid:
            self.previous[kind.name, site.id] = data
        action = Action("submission", self.invoke(user, verb, data), kind, submission_id,
                        not invalid)
        self.recent.append(action)
        return action

    def retry(self, original: Action | None = None) -> Action:
        """Send a submission again (by default a recent one), as a phone on a bad network does."""
        original = original or self.rng.choice(self.recent)
        body = dict(original.body, id=f"bench-activity-{next(self._ids)}")
        return Action("retry", body, original.kind, original.submission_id, original.valid)

    def form(self, user: User) -> Action:
        data = {"site_id": user.home.id, "lang": user.lang}
        return Action("form", self.invoke(user, "report_pick", data))

    def command(self, user: User) -> Action:
        return Action("command", self.activity("message", user, text=command_text(self.rng, user)))

    def move(self) -> Action:
        """Press the next button on one of the oldest open requests, as an HQ member."""
        head = list(itertools.islice(self.requests, MOVE_QUEUE_HEAD))
        data = next_move(self.rng, self.requests[self.rng.choice(head)])
        channel = self.rng.randint(1, HQ_CHANNELS)
        body = hq_activity("invoke", channel, self.service_url, {
            "id": f"bench-activity-{next(self._ids)}", "name": "adaptiveCard/action",
            "value": execute("request_move", data)})
        # The bot records a press under its card's action id and the target state
        # (bot/request_actions.py), so a press sent twice is one move.
        return Action("move", body, submission_id=f"teams-{data['action_id']}-{data['state']}")

    def heard(self, action: Action, card: dict) -> None:
        """Remember the move buttons on a request's card; forget a request with none left."""
        moves = request_moves(card)
        if moves:
            request_id = moves[0]["request_id"]
            if request_id in self.requests or len(self.requests) < MAX_REQUESTS:
                self.requests[request_id] = moves
        elif action.klass == "move":
            self.requests.pop(action.body["value"]["action"]["data"]["request_id"], None)

    def invoke(self, user: User, verb: str, data: dict) -> dict:
        return self.activity("invoke", user, name="adaptiveCard/action",
                             value=execute(verb, data))

    def activity(self, kind: str, user: User, **extra) -> dict:
        return {
            "type": kind,
            "id": f"bench-activity-{next(self._ids)}",
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "from": user.account(),
            "recipient": BOT,
            "conversation": {"id": user.conversation_id, "conversationType": "personal"},
            "locale": user.locale,
            "localTimezone": "Asia/Tokyo",
            "channelData": {"tenant": {"id": "bench-tenant"}},
            **extra,
        }


def execute(verb: str, data: dict) -> dict:
    """Return the value of the invoke Teams sends when an Action.Execute button is pressed."""
    return {"action": {"type": "Action.Execute", "verb": verb, "data": data},
            "trigger": "manual"}


@dataclass
class Tally:
    """What came back. Latencies are kept only while measuring; errors always."""

    echo: bool
    measuring: bool = False
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    sent: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    error_samples: dict[str, str] = field(default_factory=dict)
    expected_rejections: int = 0
    accepted_measured: int = 0
    valid: dict[str, set] = field(default_factory=lambda: defaultdict(set))
    accepted: dict[str, set] = field(default_factory=lambda: defaultdict(set))
    moves_made: set[str] = field(default_factory=set)
    moves_repeated: int = 0
    moves_refused: int = 0

    def error(self, kind: str, detail: str = "") -> None:
        self.errors[kind] += 1
        self.error_samples.setdefault(kind, detail[:300])

    def answered(self, action: Action, status: int, payload: bytes,
                 seconds: float) -> dict | None:
        """Count one answer; return its card, if it is one."""
        if self.measuring:
            self.latency[action.klass].append(seconds)
            if action.klass != "command":
                self.latency["invoke"].append(seconds)
        if action.klass == "command":
            if status not in (200, 201):
                self.error(f"http_{status}", payload.decode(errors="replace"))
            return None
        if status != 200:
            self.error(f"http_{status}", payload.decode(errors="replace"))
            return None
        try:
            body = json.loads(payload)
            card = body["value"] if body.get("type") == CARD else None
        except (ValueError, KeyError, AttributeError, TypeError):
            body, card = None, None
        if card is None:
            failed = isinstance(body, dict) and body.get("statusCode", 200) >= 400
            self.error("invoke_failed" if failed else "not_a_card", payload.decode()[:300])
            return None
        if action.kind is not None:
            self._submission(action, card)
        elif action.klass == "move":
            self._move(action, card)
        return card

    def _submission(self, action: Action, card: dict) -> None:
        # An echo bot takes everything; count for it what BCP Board should accept.
        accepted = action.valid if self.echo else not offers_verb(card, action.kind.form_verbs)
        if action.valid and not accepted:
            self.error("valid_rejected", json.dumps(card, ensure_ascii=False)[:300])
        elif not action.valid and accepted and not self.echo:
            self.error("invalid_accepted", action.submission_id)
        elif not action.valid:
            self.expected_rejections += 1
        if accepted:
            first = action.submission_id not in self.accepted[action.kind.name]
            self.accepted[action.kind.name].add(action.submission_id)
            if self.measuring and first and action.klass == "submission":
                self.accepted_measured += 1

    def _move(self, action: Action, card: dict) -> None:
        # HQ members share a request's card, as a channel post is shared: two presses of
        # one button are one move (repeated), and a press on a card another move made
        # stale is refused. Neither is an error: the bench races itself as an HQ does.
        outcome = move_outcome(card)
        if outcome == "made":
            self.moves_repeated += action.submission_id in self.moves_made
            self.moves_made.add(action.submission_id)
        elif outcome == "refused":
            self.moves_refused += 1
        else:
            self.error("move_unanswered", json.dumps(card, ensure_ascii=False)[:300])


def offers_verb(node: object, verbs: frozenset[str]) -> bool:
    """Return True when a card (or part of one) has an Action.Execute with one of `verbs`."""
    if isinstance(node, dict):
        if node.get("type") == "Action.Execute" and node.get("verb") in verbs:
            return True
        return any(offers_verb(value, verbs) for value in node.values())
    if isinstance(node, list):
        return any(offers_verb(value, verbs) for value in node)
    return False


class Poster:
    """Post actions to the target, tally the answers and tell the plan what came back."""

    def __init__(self, session: aiohttp.ClientSession, url: str, tally: Tally, plan: Plan):
        self.session = session
        self.url = url + "/api/messages"
        self.tally = tally
        self.plan = plan
        self.in_flight = 0
        self.peak_in_flight = 0

    async def post(self, action: Action, planned: float | None = None) -> None:
        tally = self.tally
        tally.sent[action.klass] += 1
        if action.kind is not None and action.klass == "submission" and action.valid:
            tally.valid[action.kind.name].add(action.submission_id)
        started = time.perf_counter() if planned is None else planned
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            async with self.session.post(self.url, json=action.body) as response:
                payload = await response.read()
                status = response.status
        except asyncio.TimeoutError:
            tally.error("timeout", action.klass)
            return
        except aiohttp.ClientError as error:
            tally.error("connection", repr(error))
            return
        finally:
            self.in_flight -= 1
        card = tally.answered(action, status, payload, time.perf_counter() - started)
        if card is not None:
            self.plan.heard(action, card)


async def warm_up(poster: Poster, plan: Plan, users: list[User]) -> None:
    """Open a form and submit once for a few users, unmeasured (first-use costs)."""
    for user in users[:10]:
        await poster.post(plan.form(user))
        await poster.post(plan.submission(user))


async def closed_loop(poster: Poster, plan: Plan, users: list[User], duration: float) -> float:
    started = time.perf_counter()
    deadline = started + duration

    async def play(user: User) -> None:
        while time.perf_counter() < deadline:
            await poster.post(plan.next_action(user))

    await asyncio.gather(*(play(user) for user in users))
    return duration


async def open_loop(poster: Poster, plan: Plan, users: list[User], rate: float,
                    duration: float) -> float:
    submission_share = (MIX["submission"] + MIX["invalid"]) / sum(MIX.values())
    interval = submission_share / rate
    started = time.perf_counter()
    tasks: set[asyncio.Task] = set()
    for number in range(int(duration / interval)):
        planned = started + number * interval
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(tasks) >= MAX_IN_FLIGHT:
            poster.tally.error("shed", "the generator's in-flight cap was reached")
            continue
        task = asyncio.create_task(poster.post(plan.next_action(plan.rng.choice(users)), planned))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks)
    return duration


async def burst(poster: Poster, plan: Plan, users: list[User], leaders: list[User],
                concurrency: int) -> float:
    """Send one report per site (by its leader) and one per user, as fast as answered.

    Leaders send shelter reports and the other users staff check-ins, where those kinds
    are among the planned ones; otherwise each picks a kind at random.
    """
    rng = plan.rng
    by_name = {kind.name: kind for kind in plan.kinds}
    site_kind, user_kind = by_name.get("shelter_report"), by_name.get("staff_checkin")
    work = [plan.submission(leader, rng.random() < BURST_INVALID, kind=site_kind)
            for leader in leaders]
    work += [plan.submission(user, rng.random() < BURST_INVALID, rng.choice(leaders).home,
                             kind=user_kind) for user in users]
    rng.shuffle(work)
    for _ in range(int(len(work) * BURST_RETRY)):
        # A retry goes in later than its original, as a phone resends after a timeout.
        position = rng.randrange(len(work))
        work.insert(rng.randrange(position, len(work) + 1), plan.retry(work[position]))

    queue = iter(work)
    started = time.perf_counter()

    async def worker() -> None:
        for action in queue:
            await poster.post(action)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


def percentiles(values: list[float]) -> dict:
    """Return p50/p95/p99/max in milliseconds, by nearest rank."""
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] * 1000, 1)

    return {"n": len(ordered), "p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99),
            "max": round(ordered[-1] * 1000, 1)}


async def run(args: argparse.Namespace) -> dict:
    sites = read_sites(args.registry)
    kinds = [KINDS[name] for name in args.kinds.split(",")]
    plan = Plan(kinds, args.service_url, args.seed)
    tally = Tally(echo=args.echo)
    # NOTE: keep-alive connections up to the concurrency, as a Teams front end keeps them.
    limit = args.concurrency if args.mode != "closed" else args.users
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        poster = Poster(session, args.url, tally, plan)
        if args.mode == "burst":
            leaders = make_users(len(sites[: args.sites]), sites[: args.sites], args.seed)
            users = make_users(args.burst_users, sites, args.seed + 1, first=len(leaders) + 1)
            await warm_up(poster, plan, leaders)
            tally.measuring = True
            elapsed = await burst(poster, plan, users, leaders, args.concurrency)
        else:
            count = args.users if args.mode == "closed" else max(args.users, 2000)
            users = make_users(count, sites, args.seed)
            await warm_up(poster, plan, users)
            tally.measuring = True
            if args.mode == "closed":
                elapsed = await closed_loop(poster, plan, users, args.duration)
            else:
                elapsed = await open_loop(poster, plan, users, args.rate, args.duration)
        tally.measuring = False

    times = os.times()
    return {
        "mode": args.mode,
        "echo": args.echo,
        "elapsed": elapsed,
        "sent": dict(tally.sent),
        "accepted_measured": tally.accepted_measured,
        "accepted_per_second": tally.accepted_measured / elapsed if elapsed else 0.0,
        "expected_rejections": tally.expected_rejections,
        "latency_ms": {klass: percentiles(values) for klass, values in tally.latency.items()},
        "errors": dict(tally.errors),
        "error_samples": tally.error_samples,
        "peak_in_flight": poster.peak_in_flight,
        "moves": {"made": sorted(tally.moves_made), "repeated": tally.moves_repeated,
                  "refused": tally.moves_refused},
        "submissions": {
            name: {"valid": sorted(tally.valid[name]), "accepted": sorted(tally.accepted[name])}
            for name in {kind.name for kind in kinds}
        },
        "cpu_seconds": times.user + times.system,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the bot's base URL (127.0.0.1 only)")
    parser.add_argument("--service-url", required=True, help="the connector the bot answers to")
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--mode", choices=("closed", "open", "burst"), required=True)
    parser.add_argument("--kinds", default=",".join(KINDS), help="submission kinds to send")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=100.0, help="submissions a second")
    parser.add_argument("--sites", type=int, default=600, help="burst: reporting sites")
    parser.add_argument("--burst-users", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--echo", action="store_true",
                        help="the target is an echo bot: any card answer counts as accepted")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    for url in (args.url, args.service_url):
        if not url.startswith("http://127.0.0.1:"):
            parser.error(f"{url!r}: the benchmark talks to 127.0.0.1 only")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = asyncio.run(run(args))
    args.out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
