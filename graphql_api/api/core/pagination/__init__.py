"""Cursor connections with keyset pagination (Relay connection spec), split by concern:

* `arguments`: first/after/last/before and their checks
* `keyset`, `cursors`: orderings, the SQL that pages along them, opaque cursors
* `pages`: one page of a statement, or of children for many parents
* `connections`: the GraphQL Connection/Edge/PageInfo types and root connections
* `pacing`, `slots`: big lists give the event loop turns; few big pages at once
* `values`: values at hand now or later (resolvers return these, not coroutines)
"""

from graphql_api.api.core.pagination.arguments import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    NOT_GIVEN,
    After,
    Before,
    First,
    Last,
    NodeIdArg,
    PageArgs,
    bad_request,
)
from graphql_api.api.core.pagination.connections import Connection, Edge, PageInfo, connection
from graphql_api.api.core.pagination.cursors import decode_cursor, encode_cursor
from graphql_api.api.core.pagination.keyset import SortKey, keyset_condition, order_by, ordering_key
from graphql_api.api.core.pagination.pacing import PACE_SECONDS, PACED_FROM, Paced, paced
from graphql_api.api.core.pagination.pages import (
    Page,
    build_page,
    count_statement,
    empty_page,
    fetch_page,
    fetch_pages_by_parent,
    page_statement,
)
from graphql_api.api.core.pagination.slots import BIG_PAGES_AT_ONCE, BigPageSlot, big_page_slot, claim_big_page_slot
from graphql_api.api.core.pagination.values import (
    Deferred,
    Lazy,
    MaybeAwaitable,
    now_or_later,
    settled,
    then,
    when_loaded,
)

__all__ = [
    "BIG_PAGES_AT_ONCE",
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "NOT_GIVEN",
    "PACED_FROM",
    "PACE_SECONDS",
    "After",
    "Before",
    "BigPageSlot",
    "Connection",
    "Deferred",
    "Edge",
    "First",
    "Last",
    "Lazy",
    "MaybeAwaitable",
    "NodeIdArg",
    "Paced",
    "Page",
    "PageArgs",
    "PageInfo",
    "SortKey",
    "bad_request",
    "big_page_slot",
    "build_page",
    "claim_big_page_slot",
    "connection",
    "count_statement",
    "decode_cursor",
    "empty_page",
    "encode_cursor",
    "fetch_page",
    "fetch_pages_by_parent",
    "keyset_condition",
    "now_or_later",
    "order_by",
    "ordering_key",
    "paced",
    "page_statement",
    "settled",
    "then",
    "when_loaded",
]
