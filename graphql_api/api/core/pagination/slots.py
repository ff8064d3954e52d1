"""Big-page slots: how many requests with a big page a process works on at once."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from contextvars import ContextVar

# How many requests with a big page a process works on at once. A request takes a slot with
# its first big page, before the page is read, and keeps it until its response is out. Working
# on every big page in flight at once held all their rows and results in memory together:
# more memory, and longer full garbage collections (their cost grows with the live objects).
# The CPU is the limit either way; the others wait their turn holding
# nothing, and small requests still run between the slices of the big ones.
BIG_PAGES_AT_ONCE = 2
_big_pages: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _big_page_slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _big_pages.get(loop)
    if slots is None:
        slots = _big_pages[loop] = asyncio.Semaphore(BIG_PAGES_AT_ONCE)
    return slots


class BigPageSlot:
    """A request's claim on one of BIG_PAGES_AT_ONCE slots: taken by its first big page (root
    page read, or a paced list), kept until `release` (the view calls it when the request ends).
    Its other big pages, nested ones included, use the same slot. Once released it takes no
    slot again (a straggling task of a finished request must not hold one forever)."""

    __slots__ = ("_held", "_lock", "_released")

    def __init__(self) -> None:
        self._held: asyncio.Semaphore | None = None
        self._lock: asyncio.Lock | None = None
        self._released = False

    async def take(self) -> None:
        if self._held is not None or self._released:
            return
        if self._lock is None:  # two big pages of one request must not take two slots
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._held is None and not self._released:
                slots = _big_page_slots()
                await slots.acquire()
                self._held = slots
                if self.ended():  # the request ended while this task waited
                    self.release()

    def ended(self) -> bool:
        return self._released

    def release(self) -> None:
        self._released = True
        if self._held is not None:
            self._held.release()
            self._held = None

    def activate(self) -> None:
        """The slot of big pages for the rest of this request's task (and the tasks it starts)."""
        _SLOT.set(self)


_SLOT: ContextVar[BigPageSlot | None] = ContextVar("graphql_api_big_page_slot", default=None)


async def claim_big_page_slot() -> None:
    """Before reading a big page: the request's slot (kept until the request ends). Outside a
    request nothing: its paced list takes a slot of its own."""
    request_slot = _SLOT.get()
    if request_slot is not None:
        await request_slot.take()


@contextlib.asynccontextmanager
async def big_page_slot() -> AsyncIterator[None]:
    """Work on a big page (a paced list): in the request's slot, or outside a request (a job, a
    test) in a slot of its own until the list is done or abandoned."""
    slot = _SLOT.get()
    own = slot is None
    if slot is None:
        slot = BigPageSlot()
    try:
        await slot.take()
        yield
    finally:
        if own:
            slot.release()
