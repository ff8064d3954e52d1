"""Document-level rules added to GraphQL validation (they run before any resolver)."""

from __future__ import annotations

from typing import Any

from graphql import (
    ASTValidationRule,
    DirectiveNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    ValidationContext,
)

# Fields that check a credential: one per document, so aliases cannot batch a brute force.
CREDENTIAL_FIELDS = frozenset({"login", "refreshToken", "changePassword", "register"})
MAX_DIRECTIVES = 50


class OneCredentialField(ASTValidationRule):
    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.count = 0
        # Fragments already followed, from any operation: each is walked once per document, not
        # once per operation that spreads it (linear in the document). A credential field is
        # then counted once however many operations reach it; only one operation runs anyway.
        self.seen: set[str] = set()

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        if node.operation is OperationType.MUTATION:
            self._count(node.selection_set.selections, self.seen)

    def _count(self, selections: Any, seen: set[str]) -> None:
        # Root fields may also arrive through fragments: follow them (once each).
        for selection in selections:
            if isinstance(selection, FieldNode):
                if selection.name.value in CREDENTIAL_FIELDS:
                    self.count += 1
                    if self.count == 2:
                        self.report_error(
                            GraphQLError(
                                "At most one credential-checking field (login, refreshToken, "
                                "changePassword, register) per request.",
                                selection,
                            )
                        )
            elif isinstance(selection, InlineFragmentNode):
                self._count(selection.selection_set.selections, seen)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = self.context.get_fragment(selection.name.value)
                if fragment is not None:
                    self._count(fragment.selection_set.selections, seen)


class NoNulInStrings(ASTValidationRule):
    """PostgreSQL text cannot hold NUL; reject it up front instead of failing in the driver."""

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if "\x00" in node.value:
            self.report_error(GraphQLError("Strings may not contain NUL characters.", node))


class MaxDirectives(ASTValidationRule):
    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.count = 0

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        self.count += 1
        if self.count == MAX_DIRECTIVES + 1:
            self.report_error(GraphQLError(f"More than {MAX_DIRECTIVES} directives.", node))


RULES = [OneCredentialField, NoNulInStrings, MaxDirectives]
