"""What a domain declares for the authorization matrix, in its tests/api/<domain>/authz.py:

    CASES = DomainCases(
        nodes={"ItemTag": NodeCases(world_b=..., in_scope=..., target=...)},
        id_names={"tagIds": "ItemTag"},
        queries={"tag": AUTHENTICATED, "tags": AUTHENTICATED},
        mutations={"tagItem": MutationCase(...)},
        tables={"item_tags": Table()},
    )

Who may call what (`queries`, `MutationCase.access`) is written from SPEC.md §4, not read from
the code: the matrix decides allow/deny from it, and a test checks the declared directives
agree, so a loosened directive fails both ways.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select

from tests.conftest import gid

if TYPE_CHECKING:
    from tests.authz.scene import Scene

PUBLIC = "public"
AUTHENTICATED = "authenticated"
AG_ONLY = frozenset({"ADMIN_GENERAL"})
# PUBLIC, AUTHENTICATED or the role names that may call (as in @hasRole).
Access = str | frozenset[str]

# The kit's own fields (graphql_api/api/core/nodes.py), per SPEC.md §4.
KIT_QUERIES: Mapping[str, Access] = {"node": AUTHENTICATED, "nodes": AUTHENTICATED}


# (scene, caller, target global id or None) -> a mutation's `input`.
Builder = Callable[["Scene", str, str | None], Awaitable[dict[str, Any]]]
# (scene, the uuid of the object about to be used): puts it in the state a mutation needs.
Prepare = Callable[["Scene", uuid.UUID], Awaitable[None]]
Check = Callable[["Scene"], Awaitable[None]]


@dataclass(frozen=True)
class Outcome:
    """An expected mutation result: a union member (and for ValidationError its field codes)."""

    typename: str
    field_errors: tuple[tuple[str, str], ...] = ()


NOT_FOUND = Outcome("NotFoundError")


@dataclass(frozen=True)
class NodeCases:
    """The objects of one node type that the matrix tries.

    world_b: objects of world B, out of scope for every role of world A.
    in_scope: the objects a caller of world A (or ADMIN_GENERAL) may see; [] when it sees none.
        Never asked for the anonymous caller, who sees nothing.
    target: the in-scope object a mutation acting on this type is given (`in_scope_of`); asked
        for every caller, the anonymous one and those the role check refuses included.
    filtered_by: for a connection of this type filtered by objects of type X (`where:
        {xIds: [...]}`), a statement selecting the ids the caller must get for one such object.
    private: each object is its owner's alone, ADMIN_GENERAL's view included (notifications).
    filter_with: for that connection, the in-scope objects of type X to filter by, when this
        type's rows relate to only some of X's objects (loans come from warehouses, so
        filtering them by a caller's classroom finds nothing); default: X's `in_scope`.
    """

    world_b: Callable[[Scene], list[uuid.UUID]]
    in_scope: Callable[[Scene, str], list[uuid.UUID]]
    target: Callable[[Scene, str], uuid.UUID] | None = None
    filtered_by: Mapping[str, Callable[[Scene, str, uuid.UUID], Select[Any]]] = field(default_factory=dict)
    private: bool = False
    filter_with: Mapping[str, Callable[[Scene, str], list[uuid.UUID]]] = field(default_factory=dict)


@dataclass(frozen=True)
class MutationCase:
    """How to call one mutation in the matrix.

    access: who may call it per SPEC.md: PUBLIC, AUTHENTICATED or a set of role names.
    attack: input that names an out-of-scope object (`target` global id) or, without a
        target, that tries to reach another user's data.
    out_of_scope: what an allowed caller gets for the attack.
    in_scope: input that the caller may legitimately send (objects in scope).
    success: the payload type of a successful call.
    target/slot: the node type and input field of the object the mutation acts on (None for
        mutations acting on the caller only, or creating from scratch).
    extra_slots: other ID fields of the input, by type (each tried with a missing object).
    self_only: a successful call may change the caller's own rows only.
    names_target: the payload names the target it was given (default: when `slot` is "id").
    """

    access: Access
    attack: Builder
    out_of_scope: Outcome
    in_scope: Builder
    success: str
    target: str | None = None
    slot: str | None = None
    extra_slots: Mapping[str, str] = field(default_factory=dict)
    self_only: bool = False
    names_target: bool | None = None

    @property
    def payload_names_target(self) -> bool:
        return self.slot == "id" if self.names_target is None else self.names_target


@dataclass(frozen=True)
class Table:
    """A business table that a refused call must leave byte-for-byte unchanged: its primary
    key column and the column naming the user who owns a row (for `self_only` mutations)."""

    key: str = "id"
    owner: str | None = None


# The kit's own tables: nothing a refused call does may publish an event or record a job run;
# an event addressed to users belongs to the first of them (a self-only call may publish
# events to its caller, such as an unread count, and to nobody else).
KIT_TABLES: Mapping[str, Table] = {"outbox_events": Table(owner="user_ids[1]"), "job_runs": Table()}


@dataclass(frozen=True)
class Reached:
    """What one caller got from every domain's nested query: the answers merged, every id decoded."""

    caller: str
    data: dict[str, Any]
    ids: list[tuple[str, uuid.UUID]]

    def of_type(self, type_name: str) -> set[uuid.UUID]:
        return {value for name, value in self.ids if name == type_name}


@dataclass(frozen=True)
class Nested:
    """The domain's part of the nested-paths test (no path may reach world B).

    query: a query whose paths start at the domain's fields and may go deep into other types.
    check: what each caller must see, given every domain's answers merged (so a path of any
        domain that shows a room out of scope fails the owner of rooms' check).
    setup: history the check needs, made once before the queries; returns the objects it moved
        into world B (which no caller of world A may reach either).
    """

    query: str
    check: Callable[[Scene, Reached], None]
    setup: Callable[[Scene], Awaitable[set[tuple[str, uuid.UUID]]]] | None = None


@dataclass(frozen=True)
class DomainCases:
    """Everything the matrix needs from one domain (see the module docstring).

    nodes: the domain's node types. id_names: ID argument / input field names (other than
    `id`/`ids`) that point to a node type. queries: SPEC access of the domain's Query fields
    that take an ID. mutations: one case per mutation of the domain. tables: the domain's
    business tables; records: tables a refused call may change, with the reason.
    setup: history the cases need, made when the scene is built (it may keep what it made in
    `scene.notes`, keyed with the domain's name). nested: see `Nested`. checks: hand-written
    tests that need the matrix's scene, run as test_domain_check[<domain>.<name>].
    """

    nodes: Mapping[str, NodeCases] = field(default_factory=dict)
    id_names: Mapping[str, str] = field(default_factory=dict)
    queries: Mapping[str, Access] = field(default_factory=dict)
    mutations: Mapping[str, MutationCase] = field(default_factory=dict)
    tables: Mapping[str, Table] = field(default_factory=dict)
    records: Mapping[str, str] = field(default_factory=dict)
    setup: Check | None = None
    nested: Nested | None = None
    checks: Mapping[str, Check] = field(default_factory=dict)


# ---- input builders shared by the domains' cases --------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}".upper()


def static(values: dict[str, Any]) -> Builder:
    async def build(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
        return dict(values)

    return build


def with_target(slot: str, **values: Any) -> Builder:
    async def build(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
        return {slot: target, **values}

    return build


def in_scope_of(type_name: str, slot: str, prepare: Prepare | None = None, **values: Any) -> Builder:
    """Input naming the caller's in-scope object of `type_name` (the `target` its owner
    declares), put in the state the mutation needs first if `prepare` is given."""

    async def build(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
        object_id = scene.target(type_name, caller)
        if prepare is not None:
            await prepare(scene, object_id)
        return {slot: gid(type_name, object_id), **values}

    return build


def on_own_object(
    type_name: str,
    success: str,
    access: Access,
    *,
    attack: Mapping[str, Any] | None = None,
    prepare: Prepare | None = None,
    extra_slots: Mapping[str, str] | None = None,
    **values: Any,
) -> MutationCase:
    """The common case: a mutation on one object named by `id`; another world's looks missing,
    and the caller acts on its own object of `type_name` (see `in_scope_of`)."""
    return MutationCase(
        access=access,
        target=type_name,
        slot="id",
        extra_slots=extra_slots or {},
        attack=with_target("id", **(attack or {})),
        out_of_scope=NOT_FOUND,
        in_scope=in_scope_of(type_name, "id", prepare, **values),
        success=success,
    )
