"""Argument annotations shared by every connection field."""

from __future__ import annotations

from typing import Annotated

import strawberry

First = Annotated[int | None, strawberry.argument(description="Page size from the start (0-100, default 20).")]
After = Annotated[str | None, strawberry.argument(description="Return items after this cursor.")]
Last = Annotated[int | None, strawberry.argument(description="Page size from the end (0-100).")]
Before = Annotated[str | None, strawberry.argument(description="Return items before this cursor.")]
NodeIdArg = Annotated[strawberry.ID, strawberry.argument(description="Global ID of the object.")]
