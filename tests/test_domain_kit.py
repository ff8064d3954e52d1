"""The two traps a new domain could fall into, closed by the kit's design:

1. a loader awaited inside a mutation (whose transaction holds the request's connection) must
   answer, on the transaction's connection, instead of waiting for itself;
2. a statement compiled once per scope shape must never carry one caller's values to
   another: a caller-dependent value written as a literal is refused when it is compiled.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.api.core.context import Context, Info
from graphql_api.api.core.database import RequestDatabase
from graphql_api.api.core.domain import Domain
from graphql_api.api.core.loaders import ById, Loaders
from graphql_api.api.core.mutation import mutation
from graphql_api.api.core.relay import encode_id
from graphql_api.api.core.types import extends
from graphql_api.api.domains import DOMAINS
from graphql_api.api.items.loaders import ITEM_BY_ID
from graphql_api.api.schema import build_schema
from graphql_api.auth import scope
from graphql_api.auth.scope import CallerValueInStatement, Principal
from graphql_api.db import models
from graphql_api.errors import Conflict
from graphql_api.services import items
from graphql_api.services.audit import RequestMeta
from graphql_api.services.ledger import StockDelta
from graphql_api.settings import Settings
from tests.conftest import Actor, Factory, World

# ---- trap 1: loads inside a mutation ------------------------------------------------------

SEEN: dict[str, Any] = {}


@strawberry.type
class LookupPayload:
    before: int = strawberry.field(description="Quantity loaded before the change.")
    after: int = strawberry.field(description="Quantity loaded after the change, in the same transaction.")


@strawberry.input(description="An item to look at twice.")
class LookupInput:
    item_id: strawberry.ID = strawberry.field(description="Database id of the item.")
    fail: bool = strawberry.field(default=False, description="Fail after the second look.")


@strawberry.type
class LookupMutation:
    @mutation(description="Loads an item through its loader, changes it, loads it again.")
    async def look_twice(self, info: Info, input: LookupInput) -> LookupPayload:
        context = info.context
        item_id = uuid.UUID(str(input.item_id))
        # A loader awaited inside the mutation: it must answer, never wait for its own lock.
        before = await asyncio.wait_for(context.loaders[ITEM_BY_ID].load(item_id), timeout=1.0)
        await items.adjust_item_stock(
            context.require_session(),
            context.require_principal(),
            item_id,
            expected_quantity=before.quantity,
            delta=StockDelta(quantity=1),
            reason=models.MovementReason.RESTOCK,
            note=None,
        )
        context.loaders.clear()
        after = await asyncio.wait_for(context.loaders[ITEM_BY_ID].load(item_id), timeout=1.0)
        SEEN["after"] = after.quantity
        if input.fail:
            raise Conflict()
        return LookupPayload(before=before.quantity, after=after.quantity)


@strawberry.type
class NoQuery:
    ok: bool = strawberry.field(default=True, description="Nothing.")


KIT_TEST = Domain(name="kit_test", query=NoQuery, mutation=LookupMutation)
LOOK = "mutation ($input: LookupInput!) { lookTwice(input: $input) { before after } }"


@pytest.fixture
async def request_context(app: Any, settings: Settings) -> AsyncIterator[Any]:
    """A context like the view builds, for a caller who has already presented a token."""
    databases: list[RequestDatabase] = []

    def make(actor: Actor) -> Context:
        db = RequestDatabase(app.state.engine, app.state.sessionmaker)
        databases.append(db)
        context = Context(
            request=None,  # type: ignore[arg-type]
            response=None,
            settings=settings,
            db=db,
            language="es",
            meta=RequestMeta(request_id="kit-test"),
            loaders=None,  # type: ignore[arg-type]
            claims=None,
        )
        context.loaders = Loaders(db, lambda: (context.principal, context.principal_row))
        context.loaders.activate()
        context.principal = actor.principal
        context._authenticated = asyncio.get_running_loop().create_future()
        context._authenticated.set_result(actor.principal)
        return context

    yield make
    for db in databases:
        await db.close()


async def _quantity(db: async_sessionmaker[AsyncSession], item_id: uuid.UUID) -> int | None:
    async with db() as session:
        return await session.scalar(select(models.InventoryItem.quantity).where(models.InventoryItem.id == item_id))


async def test_a_loader_awaited_inside_a_mutation_answers_within_its_transaction(
    world: World, request_context: Any, db: async_sessionmaker[AsyncSession]
) -> None:
    schema = build_schema(domains=(KIT_TEST,))
    item = world.items["a2"][1]
    context = request_context(world.supervisor)
    result = await asyncio.wait_for(
        schema.execute(LOOK, variable_values={"input": {"itemId": str(item.id)}}, context_value=context), timeout=5
    )
    assert result.errors is None, result.errors
    # The second load ran in the transaction and saw its own, not yet committed, change.
    assert result.data == {"lookTwice": {"before": item.quantity, "after": item.quantity + 1}}
    assert await _quantity(db, item.id) == item.quantity + 1


async def test_what_a_failed_mutation_loaded_is_forgotten(
    world: World, request_context: Any, db: async_sessionmaker[AsyncSession]
) -> None:
    schema = build_schema(domains=(KIT_TEST,))
    item = world.items["a2"][1]
    context = request_context(world.supervisor)
    result = await schema.execute(
        LOOK, variable_values={"input": {"itemId": str(item.id), "fail": True}}, context_value=context
    )
    assert result.errors  # the Conflict surfaces (a plain payload type has no union member for it)
    assert SEEN["after"] == item.quantity + 1  # seen inside the transaction...
    # ...rolled back, and not served from the loader afterwards.
    row = await context.loaders[ITEM_BY_ID].load(item.id)
    assert row.quantity == item.quantity
    assert await _quantity(db, item.id) == item.quantity


# ---- trap 2: caller values in statements compiled once per shape --------------------------


def _movements_by(rule: Any) -> ById[models.InventoryMovement]:
    return ById(models.InventoryMovement, lambda principal: select(models.InventoryMovement).where(rule(principal)))


async def _visible_movements(app: Any, key: ById[Any], principal: Principal, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    db = RequestDatabase(app.state.engine, app.state.sessionmaker)
    try:
        rows = await key.make(db, principal).load_many(ids)
    finally:
        await db.close()
    return {row.id for row in rows if row is not None}


async def _two_authors(factory: Factory, world: World) -> tuple[Actor, Actor, list[uuid.UUID]]:
    """Two supervisors of one center (one scope shape), each the actor of movements."""
    first, second = world.supervisor, await factory.user(models.Role.SUPERVISOR, world.a2)
    for actor in (first, second):
        async with factory.db.begin() as session:
            await items.adjust_item_stock(
                session,
                actor.principal,
                world.items["a1"][1].id,
                expected_quantity=await session.scalar(
                    select(models.InventoryItem.quantity).where(models.InventoryItem.id == world.items["a1"][1].id)
                ),
                delta=StockDelta(quantity=1),
                reason=models.MovementReason.RESTOCK,
                note=actor.user.email,
            )
    async with factory.db() as session:
        ids = list((await session.scalars(select(models.InventoryMovement.id))).all())
    assert scope.shape(first.principal) == scope.shape(second.principal)
    return first, second, ids


async def test_a_callers_id_written_as_a_literal_is_refused_when_compiled(
    app: Any, world: World, factory: Factory
) -> None:
    """`requester sees own rows` written naturally (`actor_id == principal.id`) would hand the
    first caller's id to every later caller of the shape: the kit refuses to compile it."""
    first, _, ids = await _two_authors(factory, world)
    natural = _movements_by(lambda principal: models.InventoryMovement.actor_id == principal.id)
    with pytest.raises(CallerValueInStatement, match=r"principal\.id"):
        await _visible_movements(app, natural, first.principal, ids)


async def test_a_rule_on_the_caller_sees_only_each_callers_own_rows(app: Any, world: World, factory: Factory) -> None:
    first, second, ids = await _two_authors(factory, world)
    own = _movements_by(lambda principal: models.InventoryMovement.actor_id == scope.caller(principal))
    mine = await _visible_movements(app, own, first.principal, ids)
    theirs = await _visible_movements(app, own, second.principal, ids)
    assert len(mine) == 1
    assert len(theirs) == 1
    assert not mine & theirs  # B never sees A's rows, though both use one compiled statement
    assert own._statement.shapes() == 1


async def test_home_environment_and_center_written_as_literals_are_refused(app: Any, world: World) -> None:
    for rule in (
        lambda p: models.InventoryMovement.environment_id == p.environment_id,
        lambda p: models.InventoryMovement.environment_id.in_(
            select(models.Environment.id).where(models.Environment.center_id == p.center_id)
        ),
    ):
        with pytest.raises(CallerValueInStatement):
            await _visible_movements(app, _movements_by(rule), world.supervisor.principal, [uuid.uuid4()])


def test_statements_are_built_for_a_caller_whose_ids_match_nothing() -> None:
    caller = Principal(uuid.uuid4(), models.Role.SUPERVISOR, uuid.uuid4(), uuid.uuid4(), "es", 3)
    template = scope.template(caller)
    assert scope.shape(template) == scope.shape(caller)
    assert {template.id, template.environment_id, template.center_id}.isdisjoint(
        {caller.id, caller.environment_id, caller.center_id}
    )
    homeless = Principal(uuid.uuid4(), models.Role.STUDENT, None, None, "es", 1)
    assert scope.shape(scope.template(homeless)) == scope.shape(homeless)


# ---- fields a domain adds to another domain's type ----------------------------------------


@extends("InventoryItem")
class ItemShout:
    @strawberry.field(description="The item's name, louder.")
    def shout(self, info: Info) -> str:
        return str(self._model.name).upper()  # type: ignore[attr-defined]


WITH_SHOUT = Domain(name="shout", query=NoQuery, extends=(ItemShout,))


async def test_a_domain_adds_a_field_to_another_domains_type_only_in_schemas_built_with_it(
    world: World, request_context: Any
) -> None:
    with_it = build_schema(domains=(*DOMAINS, WITH_SHOUT))
    without = build_schema(domains=DOMAINS)
    assert "shout: String!" in with_it.as_str()
    assert "shout" not in without.as_str()
    item = world.items["a2"][1]
    query = "query ($id: ID!) { node(id: $id) { ... on InventoryItem { name shout } } }"
    variables = {"id": encode_id("InventoryItem", item.id)}
    result = await with_it.execute(query, variable_values=variables, context_value=request_context(world.supervisor))
    assert result.errors is None, result.errors
    assert result.data == {"node": {"name": item.name, "shout": item.name.upper()}}
