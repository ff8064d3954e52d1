"""Document limits (depth, aliases, expanded size), checked in one pass that is linear in the
document, before any other validation rule.

A fragment spread anywhere in a document stands for the fragment's whole selection, so a
document of 30 fragments, each spreading the previous one twice, stands for 2^30 fields.
strawberry's QueryDepthLimiter and MaxAliasesLimiter walk every path through such fragments
(one walk per spread, not per fragment): a 1 KB document of that shape held the event loop for
hours. Here each definition is walked once on its own, recording the fragments it spreads and
at what depth; then each fragment's expansion (selections, aliases, depth) is computed once from
those of the fragments it spreads, children first. An operation whose expansion is larger than
anything that could be written out under the token limit is refused, and no other rule runs on
it (some, such as OverlappingFieldsCanBeMerged, do costly work per spread of their own).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    NoFragmentCyclesRule,
    OperationDefinitionNode,
    SelectionSetNode,
    validate,
)

MAX_DEPTH = 10
MAX_ALIASES = 15
# Selections (fields, fragment spreads, inline fragments) of one operation once its fragments are
# expanded. Each selection takes at least one token, so every document that could be written out
# in full under the token limit (execution.MAX_TOKENS) passes: fragments may shorten a document,
# not multiply it.
MAX_SELECTIONS = 2000


@dataclass(slots=True)
class _Walk:
    """One definition walked on its own: what it selects itself, and the fragments it spreads
    with the depth at each spread (None inside an introspection field, whose depth is not
    counted: GraphiQL's introspection query nests `ofType` deeper than any data query)."""

    selections: int = 0
    aliases: int = 0
    depth: int = 0
    spreads: list[tuple[str, int | None]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Expansion:
    """A definition with every fragment it spreads expanded."""

    selections: int
    aliases: int
    depth: int


class DocumentLimits:
    """The limits of one document; `visited` counts the work done (AST selections walked and
    fragment spreads combined), which is linear in the size of the document."""

    def __init__(self, document: DocumentNode) -> None:
        self.visited = 0
        self._walks: dict[str, _Walk] = {}
        self._operations: list[tuple[str, _Walk]] = []
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                self._walks[definition.name.value] = self._walk(definition.selection_set)
            elif isinstance(definition, OperationDefinitionNode):
                name = definition.name.value if definition.name else "anonymous"
                self._operations.append((name, self._walk(definition.selection_set)))
        self._expanded: dict[str, Expansion] = {}

    def errors(self) -> list[GraphQLError] | None:
        """The limits each operation breaks; None when a fragment spreads itself (its expansion
        is infinite: graphql-core's NoFragmentCycles explains that better)."""
        if not all(name in self._expanded or self._expand(name) for name in self._walks):
            return None
        errors: list[GraphQLError] = []
        aliases = 0
        for name, walk in self._operations:
            expansion = self._combine(walk)
            aliases += expansion.aliases
            if expansion.depth > MAX_DEPTH:
                errors.append(GraphQLError(f"'{name}' exceeds maximum operation depth of {MAX_DEPTH}"))
            if expansion.selections > MAX_SELECTIONS:
                errors.append(
                    GraphQLError(
                        f"'{name}' expands to {expansion.selections} selections through its fragments. "
                        f"Allowed: {MAX_SELECTIONS}"
                    )
                )
        if aliases > MAX_ALIASES:
            errors.append(GraphQLError(f"{aliases} aliases found. Allowed: {MAX_ALIASES}"))
        return errors

    def _walk(self, selection_set: SelectionSetNode) -> _Walk:
        walk = _Walk()
        self._walk_into(walk, selection_set, 0)
        return walk

    def _walk_into(self, walk: _Walk, selection_set: SelectionSetNode, depth: int | None) -> None:
        # Recursion is bounded: the parser refuses selection sets nested too deeply.
        for selection in selection_set.selections:
            self.visited += 1
            walk.selections += 1
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    walk.aliases += 1
                if selection.selection_set is not None:
                    inner = None if depth is None or selection.name.value.startswith("__") else depth + 1
                    walk.depth = max(walk.depth, inner or 0)
                    self._walk_into(walk, selection.selection_set, inner)
            elif isinstance(selection, InlineFragmentNode):
                self._walk_into(walk, selection.selection_set, depth)
            elif isinstance(selection, FragmentSpreadNode):
                walk.spreads.append((selection.name.value, depth))

    def _expand(self, root: str) -> bool:
        """Expand `root` and the fragments it spreads, each once, children first, without
        recursion (a chain of fragments may be long); False when a fragment spreads itself."""
        path: list[tuple[str, Iterator[tuple[str, int | None]]]] = [(root, iter(self._walks[root].spreads))]
        on_path = {root}
        while path:
            name, spreads = path[-1]
            for spread, _depth in spreads:
                if spread in on_path:
                    return False
                if spread in self._walks and spread not in self._expanded:
                    path.append((spread, iter(self._walks[spread].spreads)))
                    on_path.add(spread)
                    break
            else:
                path.pop()
                on_path.discard(name)
                self._expanded[name] = self._combine(self._walks[name])
        return True

    def _combine(self, walk: _Walk) -> Expansion:
        selections, aliases, depth = walk.selections, walk.aliases, walk.depth
        for spread, at in walk.spreads:
            self.visited += 1
            expansion = self._expanded.get(spread)  # an unknown fragment: KnownFragmentNames reports it
            if expansion is not None:
                selections += expansion.selections
                aliases += expansion.aliases
                if at is not None:
                    depth = max(depth, at + expansion.depth)
        return Expansion(selections, aliases, depth)


def check_document(schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
    """The document's limit errors; when there are any, the document is refused as it is and
    no other validation rule runs on it."""
    errors = DocumentLimits(document).errors()
    if errors is None:
        return validate(schema, document, [NoFragmentCyclesRule])
    return errors
