"""Big lists give the event loop turns while they are made and completed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from graphql_api.api.core.pagination.slots import big_page_slot

A = TypeVar("A")

# Pages of at least PACED_FROM rows hand their edges out one by one and give the event loop a
# turn after every PACE_SECONDS of work on them (`Paced`).
PACED_FROM = 200
PACE_SECONDS = 0.005


async def paced(source: Iterable[Any], make: Callable[[Any], A], *, check_every: int = 64) -> AsyncIterator[A]:
    """`make(x)` for each `x` of `source`, giving the event loop a turn after every
    PACE_SECONDS of work, counting the consumer's work between items too (a big page is a
    long stretch of conversion). The clock is read every `check_every` items; small pages get no turn."""
    turn = time.perf_counter() + PACE_SECONDS
    for count, item in enumerate(source, 1):
        yield make(item)
        if count % check_every == 0 and time.perf_counter() >= turn:
            await asyncio.sleep(0)
            turn = time.perf_counter() + PACE_SECONDS


class Paced(Generic[A]):
    """The edges of a big page as an async iterable, which graphql-core completes like a list.

    graphql-core completes a list in one go: for a big page that held the event loop for a
    long stretch, and every other request waited. Here each edge is made when graphql-core asks for the next
    one, and once PACE_SECONDS of work (making edges and completing their fields) has passed,
    the loop gets a turn. Each iteration starts afresh, so a list selected twice (aliases) is
    complete both times.
    """

    def __init__(self, rows: Sequence[Any], make: Callable[[Any], A]) -> None:
        self._rows = rows
        self._make = make

    def __aiter__(self) -> AsyncIterator[A]:
        return self._items()

    async def _items(self) -> AsyncIterator[A]:
        async with big_page_slot():
            # Completing one edge's fields is the costly part: the time is checked after each.
            async for edge in paced(self._rows, self._make, check_every=1):
                yield edge
