"""Argument annotations shared by every connection field.

Their GraphQL names are given explicitly: strawberry otherwise derives them (camel case) on
every call of a resolver, and `movements(first:)` is called once per item of a page.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

First = Annotated[
    int | None, strawberry.argument(name="first", description="Page size from the start (0-100, default 20).")
]
After = Annotated[str | None, strawberry.argument(name="after", description="Return items after this cursor.")]
Last = Annotated[int | None, strawberry.argument(name="last", description="Page size from the end (0-100).")]
Before = Annotated[str | None, strawberry.argument(name="before", description="Return items before this cursor.")]
NodeIdArg = Annotated[strawberry.ID, strawberry.argument(name="id", description="Global ID of the object.")]
