"""Admission of expensive operations: a bounded, cost-weighted queue per worker process.

Every operation in flight competes for the one event loop and holds a pooled connection from
its first statement to its end. Forty heavy pages at once each got a fortieth of the loop:
each took forty times as long, `/health/live` and `me` waited seconds behind them, and the
pool ran dry. Here operations costing HEAVY_FROM or more (cost.py) run only while the heavy
ones running cost at most `capacity` in all (ADMISSION_RUNNING_COST; one costing more runs
alone); the others wait their turn in order, before their first statement, so without a
connection. On one core, one page of 100 x 100 at a time answered more of them, and kept
`me` faster, than two at a time. The wait is bounded: when the heavy operations waiting would cost more
than `queue_capacity` (ADMISSION_QUEUE_COST), the next one is shed at once (`Shed`, given to
the client as RATE_LIMITED with Retry-After) instead of making everyone wait longer. Cheaper
operations (nearly all of them) never wait here, nor do the health checks, which are not
GraphQL.

This sits before the big-page slots (pagination/slots.py), which stay: they count actual rows
(a page of 200 or more) where this counts estimates, and they also pace jobs outside requests.
"""

from __future__ import annotations

import asyncio
import math
import time
import weakref
from collections import deque

# Cheaper operations run at once: `me`, a node, a page of 100 with a nested page of up to 9.
HEAVY_FROM = 1_000
RETRY_AFTER_MAX_S = 60
_SMOOTHING = 0.2  # weight of the newest sample in the running estimate of seconds per cost unit


class Shed(Exception):
    """The queue is full; the client should come back after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class Ticket:
    """A heavy operation's admission; `release` (idempotent) when it is over."""

    __slots__ = ("_admission", "_cost", "_started", "_weight")

    def __init__(self, admission: Admission, weight: int, cost: int) -> None:
        self._admission = admission
        self._weight = weight
        self._cost = cost
        self._started = time.perf_counter()

    def release(self) -> None:
        if self._weight:
            self._admission._release(self._weight, self._cost, time.perf_counter() - self._started)
            self._weight = 0


class Admission:
    def __init__(self, capacity: int, queue_capacity: int) -> None:
        self.capacity = capacity
        self.queue_capacity = queue_capacity
        self.running = 0  # cost (weight) of the heavy operations running
        self.waiting = 0  # cost (weight) of those waiting
        self._queue: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._seconds_per_unit: float | None = None

    async def admit(self, cost: int) -> Ticket | None:
        """Wait for the operation's turn: None when it is cheap (no turn needed), else a
        Ticket to release when it ends. Raises Shed when the queue is full."""
        if cost < HEAVY_FROM:
            return None
        weight = min(cost, self.capacity)
        if not self._queue and self.running + weight <= self.capacity:
            self.running += weight
            return Ticket(self, weight, cost)
        if self.waiting + weight > self.queue_capacity:
            raise Shed(self.retry_after())
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (weight, turn)
        self._queue.append(entry)
        self.waiting += weight
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release(weight, cost, None)  # admitted just as the client went away
            elif entry in self._queue:
                self._queue.remove(entry)
                self.waiting -= weight
                self._wake()
            raise
        return Ticket(self, weight, cost)

    def retry_after(self) -> int:
        """Seconds until the work waiting now is likely done (1 before anything was measured)."""
        if self._seconds_per_unit is None:
            return 1
        seconds = (self.running + self.waiting) * self._seconds_per_unit
        return max(1, min(RETRY_AFTER_MAX_S, math.ceil(seconds)))

    def _release(self, weight: int, cost: int, elapsed: float | None) -> None:
        self.running -= weight
        if elapsed is not None and cost:
            # Seconds per cost unit while sharing the loop with the others running: an estimate
            # of how fast the queue drains, for Retry-After.
            sample = elapsed / cost
            previous = self._seconds_per_unit
            self._seconds_per_unit = sample if previous is None else previous + _SMOOTHING * (sample - previous)
        self._wake()

    def _wake(self) -> None:
        while self._queue and self.running + self._queue[0][0] <= self.capacity:
            weight, turn = self._queue.popleft()
            self.waiting -= weight
            if not turn.cancelled():
                self.running += weight
                turn.set_result(None)


_admissions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[int, int], Admission]] = (
    weakref.WeakKeyDictionary()
)


def admission(capacity: int, queue_capacity: int) -> Admission:
    """The admission of this worker (one per event loop and configuration)."""
    loop = asyncio.get_running_loop()
    per_loop = _admissions.setdefault(loop, {})
    found = per_loop.get((capacity, queue_capacity))
    if found is None:
        found = per_loop[(capacity, queue_capacity)] = Admission(capacity, queue_capacity)
    return found
