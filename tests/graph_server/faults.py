"""Faults injected on demand, and SharePoint's resource-unit throttling."""

from __future__ import annotations

import math
import random
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """One injected failure.

    kind is "status" (answer `status`, with Retry-After when set), "drop" (close the
    connection without an answer) or "slow" (wait `delay` seconds, then answer normally).
    With `after`, the request takes effect first and only its answer is lost, as when a
    gateway times out on a write that SharePoint completed.
    """

    kind: str
    status: int = 0
    retry_after: int | None = None
    delay: float = 0.0
    after: bool = False

    @property
    def label(self) -> str:
        name = str(self.status) if self.kind == "status" else self.kind
        return f"{name}-after" if self.after else name


RANDOM_MENU = (
    Fault("status", 429, retry_after=1),
    Fault("status", 503, retry_after=1),
    Fault("status", 504),
    Fault("status", 504, after=True),
    Fault("drop"),
    Fault("drop", after=True),
)


class FaultPlan:
    """What goes wrong next. Tests queue faults or set a rate; draws use a seeded RNG.

    Every top-level request and every request inside a $batch draws on its own. `only`,
    when set, limits faults to requests for which only(method, path) is true.
    """

    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)
        self.queue: deque[Fault] = deque()
        self.rate = 0.0
        self.menu: tuple[Fault, ...] = RANDOM_MENU
        self.is_down = False
        self.only: Callable[[str, str], bool] | None = None
        self.injected: Counter[str] = Counter()

    def throttle(self, n: int = 1, retry_after: int = 1, status: int = 429) -> None:
        """Answer the next n requests with 429 (or 503) and Retry-After."""
        self.queue.extend([Fault("status", status, retry_after=retry_after)] * n)

    def fail(
        self, n: int = 1, status: int = 503, retry_after: int | None = None, after: bool = False
    ) -> None:
        self.queue.extend([Fault("status", status, retry_after=retry_after, after=after)] * n)

    def drop(self, n: int = 1, after: bool = False) -> None:
        self.queue.extend([Fault("drop", after=after)] * n)

    def slow(self, n: int = 1, seconds: float = 1.0) -> None:
        self.queue.extend([Fault("slow", delay=seconds)] * n)

    def randomly(self, rate: float, menu: tuple[Fault, ...] = RANDOM_MENU) -> None:
        """Fail a share `rate` of requests with faults picked from `menu`."""
        self.rate, self.menu = rate, menu

    def down(self) -> None:
        """Drop every connection until up(), as when Graph is unreachable."""
        self.is_down = True

    def up(self) -> None:
        self.is_down = False

    def clear(self) -> None:
        self.queue.clear()
        self.rate, self.is_down, self.only = 0.0, False, None

    def draw(self, method: str, path: str) -> Fault | None:
        if self.only is not None and not self.only(method, path):
            return None
        fault = None
        if self.queue:
            fault = self.queue.popleft()
        elif self.rate and self.rng.random() < self.rate:
            fault = self.rng.choice(self.menu)
        if fault is not None:
            self.injected[fault.label] += 1
        return fault


class UnitBudget:
    """Refuse work beyond `per_minute` resource units in any sliding minute.

    SharePoint throttles per app per tenant on resource units; a refused request costs
    nothing and is answered 429 with the seconds until the window has room.
    """

    def __init__(self, per_minute: int | None = None, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self.spent: deque[tuple[float, int]] = deque()

    def charge(self, units: int) -> int | None:
        """Spend units; return None, or the Retry-After seconds when over budget."""
        if not self.per_minute:
            return None
        now = self.clock()
        while self.spent and self.spent[0][0] <= now - 60:
            self.spent.popleft()
        in_window = sum(spent for _, spent in self.spent)
        if in_window + units <= self.per_minute:
            self.spent.append((now, units))
            return None

        excess, freed = in_window + units - self.per_minute, 0
        for moment, spent in self.spent:
            freed += spent
            if freed >= excess:
                return max(1, math.ceil(moment + 60 - now))
        return 60
