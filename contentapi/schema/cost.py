"""Query cost: each field costs 1, and a field taking first/last multiplies what is under it."""

from __future__ import annotations

from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    VariableNode,
    get_named_type,
)

from contentapi.schema.pagination import DEFAULT_PAGE, MAX_PAGE


def operation_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> int:
    """The cost of one operation; a page size given by a variable counts as the largest."""
    root = schema.get_root_type(operation.operation)
    return _Counter(schema, fragments).selections(operation.selection_set, root, frozenset())


class _Counter:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]):
        self.schema = schema
        self.fragments = fragments

    def selections(
        self, selection_set: SelectionSetNode | None, parent: Any, seen: frozenset[str]
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                definition = getattr(parent, "fields", {}).get(selection.name.value)
                returned = get_named_type(definition.type) if definition else None
                inner = self.selections(selection.selection_set, returned, seen)
                total += 1 + _multiplier(selection, returned) * inner
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                kind = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, kind, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    kind = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.selections(fragment.selection_set, kind, seen | {name})
        return total


def _multiplier(field: FieldNode, returned: Any) -> int:
    sizes = {arg.name.value: arg.value for arg in field.arguments or ()}
    if not {"first", "last"} & sizes.keys():
        is_page = returned is not None and returned.name.endswith("Connection")
        return DEFAULT_PAGE if is_page else 1
    largest = 0
    for name in ("first", "last"):
        value = sizes.get(name)
        if isinstance(value, IntValueNode):
            largest = max(largest, int(value.value))
        elif isinstance(value, VariableNode):
            largest = max(largest, MAX_PAGE)
    return max(largest, 1)


def cost_limit_rule(max_cost: int) -> type[ASTValidationRule]:
    """A validation rule refusing operations that cost more than max_cost."""

    class CostLimit(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.schema = context.schema
            self.fragments = {
                d.name.value: d
                for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = operation_cost(self.schema, node, self.fragments)
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"Query cost {cost} exceeds the limit of {max_cost}: "
                        "ask for fewer items (first/last) or fewer nested lists.",
                        node,
                    )
                )

    return CostLimit
