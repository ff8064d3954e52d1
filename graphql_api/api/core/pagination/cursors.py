"""Opaque cursors: the sort key values of a row, base64 JSON with the ordering's name."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy.orm import InstrumentedAttribute

from graphql_api.api.core.pagination.arguments import bad_request
from graphql_api.api.core.pagination.keyset import SortKey


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    if hasattr(value, "value") and hasattr(value, "name"):  # enums
        return value.value
    return value


def _from_json(value: Any, column: InstrumentedAttribute[Any]) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        if "u" in value:
            return uuid.UUID(value["u"])
        raise ValueError("bad cursor value")
    enum_class = getattr(column.type, "enum_class", None)
    if enum_class is not None:
        return enum_class(value)
    return value


def encode_cursor(sort: SortKey, row: Any) -> str:
    payload = orjson.dumps([sort.name, [_to_json(v) for v in sort.values(row)]])
    return base64.urlsafe_b64encode(payload).decode("ascii")


def decode_cursor(sort: SortKey, cursor: str) -> list[Any]:
    try:
        name, values = orjson.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        if name != sort.name or len(values) != len(sort.columns):
            raise ValueError("cursor of another ordering")
        return [_from_json(v, column) for v, (column, _) in zip(values, sort.columns, strict=True)]
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError, UnicodeError):
        raise bad_request("Invalid cursor; it belongs to another list or ordering.") from None
