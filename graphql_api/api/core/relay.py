"""Global object IDs and the `Node` interface.

An ID is base64("TypeName:uuid"), the Relay convention. Decoding always names the type it
expects, so an ID of another type never reaches a query (CVE-2025-22151 class of bugs).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import TypeVar

import strawberry

from graphql_api.errors import NotFound, ValidationFailed


@strawberry.interface(description="An object with a globally unique, opaque ID (Relay).")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global ID; pass it to `node(id:)`.")


T = TypeVar("T")


def required(row: T | None) -> T:
    """A row a scoped loader must find because its parent was visible (same scope)."""
    if row is None:
        raise NotFound("object")
    return row


def encode_id(type_name: str, value: uuid.UUID) -> strawberry.ID:
    raw = f"{type_name}:{value}".encode()
    return strawberry.ID(base64.b64encode(raw).decode("ascii"))


def parse_id(value: str) -> tuple[str, uuid.UUID] | None:
    """(type name, uuid) of a global ID, or None when it is not one of ours."""
    if not isinstance(value, str) or len(value) > 200:
        return None
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True).decode("utf-8")
        type_name, _, ident = raw.partition(":")
        return type_name, uuid.UUID(ident)
    except (binascii.Error, UnicodeError, ValueError):
        return None


def decode_id(value: str, expected: str) -> uuid.UUID | None:
    parsed = parse_id(value)
    if parsed is None or parsed[0] != expected:
        return None
    return parsed[1]


def require_id(value: str, expected: str, field: str) -> uuid.UUID:
    """The uuid inside an input ID: ValidationError for garbage, NotFound for another type."""
    parsed = parse_id(value)
    if parsed is None:
        raise ValidationFailed.single(field, "field.invalid_id")
    if parsed[0] != expected:
        raise NotFound(expected)
    return parsed[1]


def filter_ids(values: list[strawberry.ID] | None, expected: str) -> list[uuid.UUID] | None:
    """IDs in a `where:` filter. IDs of another type or garbage match nothing (filters only
    narrow), so they are dropped rather than reported."""
    if values is None:
        return None
    return [ident for ident in (decode_id(v, expected) for v in values) if ident is not None]
