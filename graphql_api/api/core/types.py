"""Types that wrap a row: each field is declared once, on the type, and the kit writes the
function that fills the fields from a row (`from_model`).

    @model_type(models.InventoryItem, loader=ITEM_BY_ID, description="...",
                computed={"condition": condition_of},
                related={"environment": Relation(ENVIRONMENT_BY_ID, "environment_id", lambda: Environment)})
    class InventoryItem(Node, ModelObject):
        _model: strawberry.Private[models.InventoryItem]
        name: str = strawberry.field(description="Display name.")
        environment: Environment = strawberry.field(description="...")

A field without a resolver is filled from the row's attribute of the same name; model enums
become their API mirror (same member names); `computed` fields from a function of the row;
`related` fields (to-one references) from the target's by-id loader, without a statement when
the row is already loaded (see `loaders.related`). The declaration (model, columns, relations,
and through the loader the visibility rule) is kept in `TYPES` for code that reads it.
"""

from __future__ import annotations

import dataclasses
import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar, cast

import strawberry
from sqlalchemy import inspect
from strawberry.types.base import StrawberryOptional
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition

from graphql_api.api.core.loaders import ById, optional_related, related
from graphql_api.api.core.relay import encode_id

T = TypeVar("T")


class ModelObject:
    """A GraphQL type built from a row; `@model_type` writes `from_model`."""

    @classmethod
    def from_model(cls, row: Any) -> Self:
        raise TypeError(f"{cls.__name__} is not declared with @model_type")


@dataclass(frozen=True, slots=True)
class Relation:
    """A to-one reference: the target's by-id loader, the row attribute holding the target's
    id, and the target's GraphQL type (a function, for types declared later). `required`: the
    target is visible whenever the row is (else the field is null when it is not)."""

    loader: ById[Any]
    column: str
    target: Callable[[], type[ModelObject]]
    required: bool = True


@dataclass(frozen=True)
class TypeSpec:
    """What `@model_type` declared: for `node(id:)`, by-id fields, joins and later a compiled
    read path."""

    name: str
    cls: type[ModelObject]
    model: type
    loader: ById[Any] | None
    computed: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    related: Mapping[str, Relation] = field(default_factory=dict)

    @property
    def is_node(self) -> bool:
        return self.loader is not None


TYPES: dict[str, TypeSpec] = {}


MT = TypeVar("MT", bound=ModelObject)


def model_type(
    model: type,
    *,
    description: str,
    loader: ById[Any] | None = None,
    name: str | None = None,
    computed: Mapping[str, Callable[[Any], Any]] | None = None,
    related: Mapping[str, Relation] | None = None,
) -> Callable[[type[MT]], type[MT]]:
    """Declare a strawberry type wrapping `model` rows; with `loader` it is a Node that
    `node(id:)` finds through that loader (and so within the caller's scope)."""

    def decorate(cls: type[MT]) -> type[MT]:
        graphql_cls = strawberry.type(cls, name=name, description=description)
        type_name = graphql_cls.__strawberry_definition__.name  # type: ignore[attr-defined]
        spec = TypeSpec(type_name, graphql_cls, model, loader, dict(computed or {}), dict(related or {}))
        TYPES[type_name] = spec

        built: list[Callable[[Any], Any]] = []

        def first_call(cls_: type[ModelObject], row: Any) -> Any:
            # Compiled on first use, when every type it refers to exists; then it replaces
            # itself (references taken earlier keep working through `built`).
            if not built:
                built.append(_compile_from_model(spec))
                graphql_cls.from_model = staticmethod(built[0])  # type: ignore[method-assign,assignment]
            return built[0](row)

        graphql_cls.from_model = classmethod(first_call)  # type: ignore[method-assign,assignment]
        return graphql_cls

    return decorate


def extends(target: str) -> Callable[[type[T]], type[T]]:
    """Fields one domain adds to another domain's type, so that the type's domain need not
    know of it (`item.loans` is declared by loans); listed in the adding domain's
    `Domain(extends=...)`, they are part of a schema built with that domain:

        @extends("InventoryItem")
        class ItemLoans:
            loans = children_field(LOANS_OF_ITEM, "Loan", __name__, description="...")
    """

    def decorate(cls: type[T]) -> type[T]:
        graphql_cls = strawberry.type(cls)
        graphql_cls.__extends__ = target  # type: ignore[attr-defined]
        return graphql_cls

    return decorate


_OWN_FIELDS: dict[str, list[Any]] = {}


def apply_extensions(additions: Iterable[type]) -> None:
    """Give every declared type its own fields plus those `additions` declare for it (and no
    others: each schema build sets them anew, for the domains it is built from)."""
    added: defaultdict[str, list[Any]] = defaultdict(list)
    for addition in additions:
        target = getattr(addition, "__extends__", None)
        assert target in TYPES, f"{addition.__name__} extends an unknown type {target!r}"
        added[target].extend(addition.__strawberry_definition__.fields)  # type: ignore[attr-defined]
    for name, spec in TYPES.items():
        definition = spec.cls.__strawberry_definition__  # type: ignore[attr-defined]
        own = _OWN_FIELDS.setdefault(name, list(definition.fields))
        names = [f.python_name for f in (*own, *added[name])]
        assert len(names) == len(set(names)), f"{name}: a field is declared twice"
        definition.fields = [*own, *added[name]]


def _compile_from_model(spec: TypeSpec) -> Callable[[Any], Any]:
    """The row-to-object function of a type, written out as straight-line code (this runs for
    every object of every page, so it does no lookups of its own)."""
    cls = spec.cls
    env: dict[str, Any] = {"new": object.__new__, "cls": cls, "encode_id": encode_id}
    lines = ["def from_model(row):", "    obj = new(cls)", "    obj._model = row"]
    if spec.is_node:
        lines.append(f"    obj.id = encode_id({spec.name!r}, row.id)")
    assigned = {"_model", "id"}
    for graphql_field in cls.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        name = graphql_field.python_name
        if graphql_field.base_resolver is not None:
            assigned.add(name)  # resolved when asked for; nothing to fill
            continue
        if name in assigned:
            continue
        lines.append(f"    obj.{name} = {_value_of(spec, name, graphql_field.type, env)}")
        assigned.add(name)
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in assigned]  # type: ignore[arg-type]
    if missing:
        raise TypeError(f"{spec.name}: @model_type cannot fill {missing}")
    lines.append("    return obj")
    exec("\n".join(lines), env)  # noqa: S102  # our own straight-line code, no input in it
    build: Callable[[Any], Any] = env["from_model"]
    return build


def _value_of(spec: TypeSpec, name: str, field_type: Any, env: dict[str, Any]) -> str:
    if name in spec.computed:
        env[f"computed_{name}"] = spec.computed[name]
        return f"computed_{name}(row)"
    if name in spec.related:
        relation = spec.related[name]
        env[f"loader_{name}"] = relation.loader
        env[f"build_{name}"] = relation.target().from_model
        env[f"related_{name}"] = related if relation.required else optional_related
        return f"related_{name}(loader_{name}, row.{relation.column}, build_{name})"
    optional = isinstance(field_type, StrawberryOptional)
    api_enum = _enum_class(field_type.of_type if optional else field_type)
    if api_enum is None:
        return f"row.{name}"
    model_enum = _column_enum(spec.model, name)
    env[f"enum_{name}"] = {member: api_enum[member.name] for member in model_enum}
    return f"enum_{name}.get(row.{name})" if optional else f"enum_{name}[row.{name}]"


def _enum_class(field_type: Any) -> type[enum.Enum] | None:
    if isinstance(field_type, StrawberryEnumDefinition):
        return cast(type[enum.Enum], field_type.wrapped_cls)
    if has_enum_definition(field_type):
        return cast(type[enum.Enum], field_type.__strawberry_definition__.wrapped_cls)
    return None


def _column_enum(model: type, name: str) -> type[enum.Enum]:
    column: Any = inspect(model).columns.get(name)
    enum_class = getattr(getattr(column, "type", None), "enum_class", None)
    if enum_class is None:
        raise TypeError(f"{model.__name__}.{name} is not an enum column; declare the field as computed")
    result: type[enum.Enum] = enum_class
    return result


__all__ = ["TYPES", "ModelObject", "Relation", "TypeSpec", "model_type"]
