"""Values that may be at hand or later: resolvers return these instead of being `async def`."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Generic, TypeAlias, TypeVar, cast

A = TypeVar("A")
B = TypeVar("B")
MaybeAwaitable: TypeAlias = A | Awaitable[A]


def then(value: MaybeAwaitable[A], fn: Callable[[A], B]) -> MaybeAwaitable[B]:
    """`fn(value)` now if `value` is ready, else an awaitable of it.

    Resolvers return this instead of being `async def`: graphql-core awaits what needs
    awaiting, and values already at hand (primed loaders, a loaded page) cost no task.
    """
    if isinstance(value, asyncio.Future):
        if value.done():
            return fn(cast(A, value.result()))
        return _after(value, fn)
    if inspect.isawaitable(value):
        return _after(cast(Awaitable[A], value), fn)
    return fn(value)


def when_loaded(value: Awaitable[A], fn: Callable[[A], B]) -> MaybeAwaitable[B]:
    """`then` for a DataLoader future (typed for it)."""
    return then(value, fn)


async def _after(value: Awaitable[A], fn: Callable[[A], B]) -> B:
    return fn(await value)


class Deferred(Generic[A]):
    """A field value computed only if the client selects the field.

    graphql-core awaits whatever awaitable it finds in a plain (resolver-less) field. Fields
    whose value is usually at hand (a page primed it) are therefore plain fields holding the
    value, or a Deferred when it is not: no resolver call per object (strawberry builds an
    `Info`, converts arguments and runs the extension chain for every resolver call), and no
    statement unless the field is selected.
    """

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[], MaybeAwaitable[A]]) -> None:
        self._make = make

    def __await__(self) -> Generator[Any, None, A]:
        value = self._make()
        if inspect.isawaitable(value):
            return (yield from cast(Awaitable[A], value).__await__())
        return value


def now_or_later(ready: Awaitable[A] | None, make: Callable[[], MaybeAwaitable[A]]) -> Any:
    """The value of a plain field: `ready`'s result if it is a completed future (a primed
    loader), else a `Deferred` of `make`. Typed Any: the field is declared with the value's
    type, and graphql-core awaits the Deferred."""
    if isinstance(ready, asyncio.Future) and settled(ready):
        return ready.result()
    return Deferred(make)


def settled(future: asyncio.Future[Any]) -> bool:
    """Done with a result (not cancelled, no exception)."""
    return future.done() and not future.cancelled() and future.exception() is None


class Lazy(Generic[A]):
    """A value computed at most once, on first use (shared by sibling fields)."""

    def __init__(self, factory: Callable[[], Awaitable[A]]) -> None:
        self._factory = factory
        self._task: asyncio.Future[A] | None = None

    def get(self) -> MaybeAwaitable[A]:
        if self._task is None:
            self._task = asyncio.ensure_future(self._factory())
        return self._task
