"""Fields declared once: root lists with `where:`/`orderBy:`, by-id lookups and child lists.

    items = list_field(InventoryItem, filters=items.ITEM_FILTERS, ordering=items.ITEM_ORDER,
                       description="...", permission=authenticated(), join=("environment",))
    item = by_id_field(InventoryItem, description="...", permission=authenticated())
    movements = children_field(MOVEMENTS_OF_ITEM, "InventoryMovement", __name__, description="...")

The rows come from the node type's visibility rule (its by-id loader's statement, from the
domain's service), narrowed by the `where:` values (`Filters.apply`, in the service layer) and
paged along the chosen ordering. The `where:` and `orderBy:` inputs are generated from the
same declarations that apply them.
"""

from __future__ import annotations

import enum
import inspect
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, cast

import strawberry
from sqlalchemy import Row, Select, join
from strawberry.extensions import FieldExtension

from graphql_api.api.core.context import Info
from graphql_api.api.core.enums import SortDirection, api_enum
from graphql_api.api.core.loaders import ById, Children, Loaders, Visible
from graphql_api.api.core.pagination import (
    NOT_GIVEN,
    After,
    Before,
    Connection,
    First,
    Last,
    PageArgs,
    SortKey,
    connection,
    ordering_key,
)
from graphql_api.api.core.relay import decode_id, filter_ids
from graphql_api.api.core.types import TYPES, ModelObject, TypeSpec
from graphql_api.db import reads
from graphql_api.services.filtering import AnyOf, Bound, Condition, Custom, Equals, Filters, Flag, Ordering, Search

_PARAM = inspect.Parameter.POSITIONAL_OR_KEYWORD
_PAGE_PARAMETERS = [
    inspect.Parameter("first", _PARAM, default=NOT_GIVEN, annotation=First),
    inspect.Parameter("after", _PARAM, default=NOT_GIVEN, annotation=After),
    inspect.Parameter("last", _PARAM, default=NOT_GIVEN, annotation=Last),
    inspect.Parameter("before", _PARAM, default=NOT_GIVEN, annotation=Before),
]
_SELF_INFO = [inspect.Parameter("self", _PARAM), inspect.Parameter("info", _PARAM, annotation=Info)]


def _spec(node: type[ModelObject]) -> TypeSpec:
    return TYPES[node.__strawberry_definition__.name]  # type: ignore[attr-defined]


def _field(resolver: Callable[..., Any], parameters: list[inspect.Parameter], returns: Any, **options: Any) -> Any:
    resolver.__signature__ = inspect.Signature(parameters, return_annotation=returns)  # type: ignore[attr-defined]
    resolver.__annotations__ = {}
    return strawberry.field(resolver=resolver, **options)


# ---- where: ------------------------------------------------------------------------------


def _input_annotation(condition: Condition) -> tuple[Any, Any]:
    """(annotation, default) of one filter in the `where:` input."""
    if isinstance(condition, AnyOf):
        if condition.ids is not None:
            return list[strawberry.ID] | None, None
        return list[_api_type(condition.python_type)] | None, None  # type: ignore[misc]
    if isinstance(condition, Flag):
        return bool, False
    if isinstance(condition, Search):
        return str | None, None
    assert isinstance(condition, Equals | Bound | Custom)
    return _api_type(condition.python_type) | None, None


def _api_type(python_type: Any) -> Any:
    if isinstance(python_type, type) and issubclass(python_type, enum.Enum):
        return api_enum(python_type)
    if python_type is uuid.UUID:
        return strawberry.ID
    return python_type


def _to_service(condition: Condition) -> Callable[[Any], Any]:
    """How a value of the `where:` input becomes the value the service filters with."""
    if isinstance(condition, AnyOf):
        if condition.ids is not None:
            type_name = condition.ids
            return lambda values: filter_ids(values, type_name)
        model_enum = condition.python_type
        if issubclass(model_enum, enum.Enum):
            return lambda values: None if values is None else [model_enum[v.name] for v in values]
    return lambda value: value


@dataclass(frozen=True)
class WhereInput:
    filters: Filters
    input_type: type
    converters: dict[str, Callable[[Any], Any]]

    def values(self, where: Any) -> dict[str, Any]:
        if where is None:
            return {}
        return {name: convert(getattr(where, name)) for name, convert in self.converters.items()}


def where_input(filters: Filters) -> WhereInput:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    for name, condition in filters.fields.items():
        annotation, default = _input_annotation(condition)
        annotations[name] = annotation
        namespace[name] = strawberry.field(default=default, description=condition.description)
    cls = type(f"{filters.name}Where", (), {"__annotations__": annotations, **namespace})
    input_type = strawberry.input(cls, description=filters.description)
    converters = {name: _to_service(condition) for name, condition in filters.fields.items()}
    return WhereInput(filters, input_type, converters)


# ---- orderBy: ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderInput:
    ordering: Ordering
    field_enum: type[enum.Enum] | None
    input_type: type | None
    keys: dict[tuple[str, bool], SortKey]

    def sort(self, order: Any, direction: SortDirection | None = None) -> SortKey:
        if self.input_type is None:  # direction_only
            descending = (direction or SortDirection.DESC) is SortDirection.DESC
            return self.keys[(self.ordering.default, descending)]
        if order is None:
            return self.keys[(self.ordering.default, self.ordering.default_descending)]
        return self.keys[(order.field.value, order.direction is SortDirection.DESC)]


def order_input(ordering: Ordering) -> OrderInput:
    keys = {
        (name, descending): ordering_key(ordering, name, descending)
        for name in ordering.fields
        for descending in (False, True)
    }
    if ordering.direction_only:
        return OrderInput(ordering, None, None, keys)
    members = {
        name: strawberry.enum_value(name, description=spec.description) for name, spec in ordering.fields.items()
    }
    field_enum: Any = strawberry.enum(
        cast(Any, enum.Enum(f"{ordering.name}OrderField", members)), description="Fields the list can be sorted by."
    )
    direction = SortDirection.DESC if ordering.default_descending else SortDirection.ASC
    cls = type(
        f"{ordering.name}Order",
        (),
        {
            "__annotations__": {"field": field_enum, "direction": SortDirection},
            "field": strawberry.field(description="Sort field."),
            "direction": strawberry.field(default=direction, description="Direction."),
        },
    )
    input_type = strawberry.input(cls, description="Ordering of the list.")
    return OrderInput(ordering, field_enum, input_type, keys)


# ---- pages joined with their to-one relations --------------------------------------------


@dataclass(frozen=True)
class _Joined:
    """One to-one relation read with every row of a page (`item.environment`): its columns
    follow the parent's, and its rows prime its loader, so the nested field costs no
    statement. Only relations whose target is visible whenever the parent is are joined."""

    parent: int  # index of the parent among the page's models (0: the page's own)
    column: str
    loader: ById[Any]
    model: type


class PageJoin:
    def __init__(self, spec: TypeSpec, paths: Sequence[str]) -> None:
        self._models: list[type] = [spec.model]
        self._joins: list[_Joined] = []
        specs = {"": (0, spec)}
        for path in paths:
            head, _, name = path.rpartition(".")
            parent_index, parent = specs[head]
            relation = parent.related[name]
            if not relation.required:
                raise TypeError(f"{spec.name}: {path} may be invisible when the row is not; it cannot be joined")
            target = _spec(relation.target())
            self._joins.append(_Joined(parent_index, relation.column, relation.loader, target.model))
            self._models.append(target.model)
            specs[path] = (len(self._models) - 1, target)
        self._row_classes = [reads.row_class(model) for model in self._models]
        widths = [len(reads.model_columns(model)) for model in self._models]
        self._bounds = [(sum(widths[:i]), sum(widths[: i + 1])) for i in range(len(widths))]

    def statement(self, stmt: Select[Any]) -> Select[Any]:
        columns = [column for i, m in enumerate(self._models) for column in reads.model_columns(m, f"j{i}_")]
        joined: Any = self._models[0]
        for item in self._joins:
            parent = self._models[item.parent]
            joined = join(joined, item.model, item.model.id == getattr(parent, item.column))  # type: ignore[attr-defined]
        return stmt.with_only_columns(*columns).select_from(joined)

    def reader(self, loaders: Loaders) -> tuple[Callable[[Row[Any]], Any], Callable[[list[Any]], None]]:
        """(make a page row, prime the loaders once the page is read)."""
        seen: list[dict[uuid.UUID, Any]] = [{} for _ in self._joins]
        bounds, classes, joins = self._bounds, self._row_classes, self._joins

        def read_row(row: Row[Any]) -> Any:
            start, end = bounds[0]
            made = [classes[0](*row[start:end])]
            for index, item in enumerate(joins, 1):
                key = getattr(made[item.parent], item.column)
                found = seen[index - 1].get(key)
                if found is None:
                    start, end = bounds[index]
                    found = seen[index - 1][key] = classes[index](*row[start:end])
                made.append(found)
            return made[0]

        def prime(_rows: list[Any]) -> None:
            for item, rows in zip(joins, seen, strict=True):
                loaders.prime_many(item.loader, rows.values())

        return read_row, prime


# ---- the fields ---------------------------------------------------------------------------


def list_field(
    node: type[ModelObject],
    *,
    description: str,
    ordering: Ordering,
    filters: Filters | None = None,
    permission: list[FieldExtension] | None = None,
    join: Sequence[str] = (),
    visible: Visible | None = None,
) -> Any:
    """A root connection of `node` objects the caller may see (its loader's visibility rule,
    or `visible`: a narrower one, such as "the caller's own"), with `where:` from `filters`
    and `orderBy:` (or `direction:`) from `ordering`."""
    spec = _spec(node)
    assert spec.loader is not None, f"{spec.name} has no by-id loader, so no visibility rule"
    visible = visible or spec.loader.visible
    where = where_input(filters) if filters is not None else None
    order = order_input(ordering)
    page_join = PageJoin(spec, join) if join else None
    to_node = node.from_model

    def resolve(self: Any, info: Info, where_value: Any, order_value: Any, direction: Any, args: PageArgs) -> Any:
        context = info.context
        stmt = visible(context.require_principal())
        if where is not None:
            stmt = where.filters.apply(stmt, where.values(where_value))
        sort = order.sort(order_value, direction)
        if page_join is None:
            return connection(context, stmt, sort, args, to_node)
        read_row, prime = page_join.reader(context.loaders)
        page = page_join.statement(stmt)
        return connection(context, page, sort, args, to_node, on_rows=prime, read_row=read_row, count_stmt=stmt)

    parameters = list(_SELF_INFO)
    if where is not None:
        parameters.append(_argument("where", where.input_type | None, None, "Filters."))
    if order.input_type is not None:
        default_name = ordering.default.lower().replace("_", " ")
        parameters.append(_argument("order_by", order.input_type | None, None, f"Ordering (default: {default_name})."))
    else:
        default = SortDirection.DESC if ordering.default_descending else SortDirection.ASC
        parameters.append(_argument("direction", SortDirection, default, "By time; newest first by default."))
    parameters.extend(_PAGE_PARAMETERS)

    def resolver(self: Any, info: Info, **kwargs: Any) -> Any:
        args = PageArgs(kwargs.get("first"), kwargs.get("after"), kwargs.get("last"), kwargs.get("before"))
        return resolve(self, info, kwargs.get("where"), kwargs.get("order_by"), kwargs.get("direction"), args)

    return _field(resolver, parameters, Connection[node], description=description, extensions=permission or [])  # type: ignore[valid-type]


def _argument(name: str, annotation: Any, default: Any, description: str) -> inspect.Parameter:
    return inspect.Parameter(
        name, _PARAM, default=default, annotation=Annotated[annotation, strawberry.argument(description=description)]
    )


def by_id_field(node: type[ModelObject], *, description: str, permission: list[FieldExtension] | None = None) -> Any:
    """`node(id)` for one type: the object if the caller may see it, else null."""
    spec = _spec(node)
    loader_key = spec.loader
    assert loader_key is not None, f"{spec.name} has no by-id loader"
    type_name = spec.name

    async def resolver(self: Any, info: Info, id: strawberry.ID) -> Any:
        pk = decode_id(id, type_name)
        row = await info.context.loaders[loader_key].load(pk) if pk else None
        return node.from_model(row) if row is not None else None

    parameters = [*_SELF_INFO, _argument("id", strawberry.ID, inspect.Parameter.empty, "Global ID of the object.")]
    return _field(resolver, parameters, node | None, description=description, extensions=permission or [])


def children_field(children: Children[Any], node: str, module: str, *, description: str) -> Any:
    """A child connection (`item.movements`) of the `node` type declared in `module` (by name:
    the child type is often declared after its parent)."""
    to_node: list[Callable[[Any], Any]] = []

    def resolver(self: Any, info: Info, **kwargs: Any) -> Any:
        if not to_node:
            to_node.append(TYPES[node].cls.from_model)
        args = PageArgs(kwargs.get("first"), kwargs.get("after"), kwargs.get("last"), kwargs.get("before"))
        context = info.context
        return children.connection(context.loaders, self._model, args, to_node[0], context.settings.max_page_size)

    returns = Connection[Annotated[node, strawberry.lazy(module)]]  # type: ignore[valid-type]
    return _field(resolver, [*_SELF_INFO, *_PAGE_PARAMETERS], returns, description=description)
