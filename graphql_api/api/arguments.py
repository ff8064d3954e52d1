"""Argument annotations shared by every connection field.

Their GraphQL names are given explicitly: strawberry otherwise derives them (camel case) on
every call of a resolver, and `movements(first:)` is called once per item of a page.

Their default is NOT_GIVEN (no GraphQL default value, rather than `= null`): graphql-core then
passes only the arguments a query gives, and strawberry converts only those. Converting all
four on every `movements(first: 3)` of a page took 9 µs per item, one takes 2.7 µs. An
omitted argument arrives as UNSET, which `PageArgs` reads as None.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

First = Annotated[
    int | None, strawberry.argument(name="first", description="Page size from the start (0-100, default 20).")
]
After = Annotated[str | None, strawberry.argument(name="after", description="Return items after this cursor.")]
Last = Annotated[int | None, strawberry.argument(name="last", description="Page size from the end (0-100).")]
Before = Annotated[str | None, strawberry.argument(name="before", description="Return items before this cursor.")]
NodeIdArg = Annotated[strawberry.ID, strawberry.argument(name="id", description="Global ID of the object.")]
NOT_GIVEN: Any = strawberry.UNSET
