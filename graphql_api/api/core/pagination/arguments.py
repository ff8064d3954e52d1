"""Argument annotations shared by every connection field.

Their GraphQL names are given explicitly: strawberry otherwise derives them (camel case) on
every call of a resolver, and `movements(first:)` is called once per item of a page.

Their default is NOT_GIVEN (no GraphQL default value, rather than `= null`): graphql-core then
passes only the arguments a query gives, and strawberry converts only those (converting all
four on every `movements(first: 3)` of a page cost several times as much). An omitted argument arrives as UNSET, which `PageArgs` reads as None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.types.unset import UNSET

First = Annotated[
    int | None, strawberry.argument(name="first", description="Page size from the start (0-100, default 20).")
]
After = Annotated[str | None, strawberry.argument(name="after", description="Return items after this cursor.")]
Last = Annotated[int | None, strawberry.argument(name="last", description="Page size from the end (0-100).")]
Before = Annotated[str | None, strawberry.argument(name="before", description="Return items before this cursor.")]
NodeIdArg = Annotated[strawberry.ID, strawberry.argument(name="id", description="Global ID of the object.")]
NOT_GIVEN: Any = strawberry.UNSET


DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def bad_request(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_REQUEST"})


@dataclass(frozen=True, slots=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def __post_init__(self) -> None:
        # Omitted arguments arrive as UNSET (see api.arguments): the same as null here.
        for name in ("first", "after", "last", "before"):
            if getattr(self, name) is UNSET:
                object.__setattr__(self, name, None)

    def checked(self, max_size: int = MAX_PAGE_SIZE) -> PageArgs:
        if self.first is not None and self.last is not None:
            raise bad_request("Pass either `first` or `last`, not both.")
        for name, value in (("first", self.first), ("last", self.last)):
            if value is not None and not 0 <= value <= max_size:
                raise bad_request(f"`{name}` must be between 0 and {max_size}.")
        if self.last is not None and self.after is not None:
            raise bad_request("`after` goes with `first`; use `before` with `last`.")
        if self.first is not None and self.before is not None:
            raise bad_request("`before` goes with `last`; use `after` with `first`.")
        return self

    @property
    def backward(self) -> bool:
        return self.last is not None or (self.before is not None and self.first is None)

    @property
    def limit(self) -> int:
        value = self.last if self.backward else self.first
        return DEFAULT_PAGE_SIZE if value is None else value

    @property
    def cursor(self) -> str | None:
        return self.before if self.backward else self.after
