"""Query limits measured in one memoised pass: depth, aliases, width and cost together.

Strawberry's depth and alias limiters and our former cost rule each walked every path of
a document, following each fragment spread anew: 21 fragments each spreading the next
twice (826 bytes) are 2^21 paths, and each walk took about 9 s on a 2-core machine. This
pass measures each fragment once (by name: its type condition fixes what its fields
are) and reuses the figures at every spread, so its work is linear in the document's
size whatever the spreads multiply; the figures themselves are exact (Python integers
do not overflow). It runs before graphql-core's rules, and a document over a limit is
refused without them: their overlap check compares every pair of same-named fields in a
selection set (495 copies of one field took 0.9 s), so the width of a selection set,
fragments expanded, is limited first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

from contentapi.schema.relay import DEFAULT_PAGE, MAX_PAGE

# What a list sized by the content costs when nothing in the query sizes it: the seed
# page has 2 images and 10 indications, so 10 errs on the side of the server.
CONTENT_LIST_ESTIMATE = 10
# One field asked for more often than this in one selection set is no honest query, and
# graphql-core's overlap check compares every pair of them.
MAX_REPEATS = 20
# Digits in a page-size literal past which it is surely over any limit (a 32-bit Int has
# 10); int() of thousands of digits is slow and, past 4,300, refused by Python.
_MAX_DIGITS = 11


@dataclass(frozen=True, slots=True)
class Measure:
    """What a selection set (fragments expanded) asks of the server."""

    depth: int = 0
    """Levels of fields below it that have selections of their own (Strawberry's count)."""
    aliases: int = 0
    cost: int = 0
    """Each field 1, times the size of every list it stands in."""
    width: int = 0
    """The most fields collected into any one selection set in it."""
    repeats: int = 0
    """The most times one response name is asked for in any one selection set in it."""


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """The largest figures accepted."""

    max_depth: int
    max_aliases: int
    max_cost: int
    max_fields: int


def measure_operations(
    schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]
) -> tuple[dict[str | None, Measure], frozenset[str]]:
    """Each operation's measure, by name (None for an anonymous one), with page sizes and
    id lists given by `variables` as they are given; and the names of the variables that
    sized anything (a measure holds for any variables with the same values of those)."""
    measures: dict[str | None, Measure] = {}
    consulted: set[str] = set()
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            walker = _Walker(schema, document, _values(definition, variables))
            root = schema.get_root_type(definition.operation)
            name = definition.name.value if definition.name else None
            measures[name] = walker.selection_set(definition.selection_set, root)[0]
            consulted |= walker.consulted
    return measures, frozenset(consulted)


def sizing_values(variables: Mapping[str, Any], names: frozenset[str]) -> tuple[Any, ...]:
    """What of `variables` a measure depends on, as a key (sizes and lengths, not values;
    a variable left out takes its declared default, so it differs from one given null)."""
    return tuple(
        _sizing(variables[name]) if name in variables else _LEFT_OUT for name in sorted(names)
    )


_LEFT_OUT = "left out"


def _sizing(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, list):
        return len(value)
    return None


def _values(operation: OperationDefinitionNode, variables: Mapping[str, Any]) -> dict[str, Any]:
    """The variables as execution will see them: given values, else declared defaults."""
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name in variables:
            values[name] = _sizing(variables[name])
        elif isinstance(definition.default_value, IntValueNode):
            values[name] = _size(definition.default_value, {})
        elif isinstance(definition.default_value, ListValueNode):
            values[name] = len(definition.default_value.values)
    return values


def limit_errors(measures: dict[str | None, Measure], limits: QueryLimits) -> list[GraphQLError]:
    """Errors naming each limit an operation exceeds; empty when all are within them."""
    errors = []
    aliases = sum(measure.aliases for measure in measures.values())
    for name, measure in measures.items():
        shown = name or "anonymous"
        if measure.depth > limits.max_depth:
            errors.append(
                GraphQLError(f"'{shown}' exceeds maximum operation depth of {limits.max_depth}")
            )
        if measure.width > limits.max_fields:
            errors.append(
                GraphQLError(
                    f"'{shown}' collects {measure.width} fields into one selection set "
                    f"(fragments expanded); the limit is {limits.max_fields}"
                )
            )
        if measure.repeats > MAX_REPEATS:
            errors.append(
                GraphQLError(
                    f"'{shown}' asks for one field {measure.repeats} times in one selection "
                    f"set; the limit is {MAX_REPEATS}"
                )
            )
        if measure.cost > limits.max_cost:
            errors.append(
                GraphQLError(
                    f"Query cost {measure.cost} exceeds the limit of {limits.max_cost}: "
                    "ask for fewer items (first/last) or fewer nested lists."
                )
            )
    if aliases > limits.max_aliases:
        errors.append(GraphQLError(f"{aliases} aliases found. Allowed: {limits.max_aliases}"))
    return errors


def unused_fragment_errors(document: DocumentNode) -> list[GraphQLError]:
    """graphql-core's "never used" error for each fragment no operation reaches, found in
    one pass over what the operations reach (each fragment entered once).

    The limits measure what operations reach, so an unused fragment escapes them, while
    graphql-core's rules still check it: 25 unused fragments of aliased, repeated fields
    took 310,903 calls to validate (hypothesis found it) against 150 a token for anything
    measured. A document with one is refused anyway (the spec's "All Fragments Must Be
    Used"), so it is refused here, before those rules run.
    """
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    pending = [
        d.selection_set for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    reached: set[str] = set()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in reached:
                    reached.add(name)
                    pending.append(fragments[name].selection_set)
            elif isinstance(selection, FieldNode | InlineFragmentNode):
                if selection.selection_set is not None:
                    pending.append(selection.selection_set)
    return [
        GraphQLError(f"Fragment '{name}' is never used.", fragment)
        for name, fragment in fragments.items()
        if name not in reached
    ]


# A selection set's measure, and how many times each response name is collected into it.
_Collected = tuple[Measure, dict[str, int]]
_EMPTY: _Collected = (Measure(), {})


class _Walker:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.consulted: set[str] = set()
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[str, _Collected] = {}
        self.entered: set[str] = set()

    def fragment(self, name: str) -> _Collected:
        found = self.memo.get(name)
        if found is not None:
            return found
        fragment = self.fragments.get(name)
        if fragment is None or name in self.entered:
            return _EMPTY  # unknown or cyclic: graphql-core's own rules report it
        self.entered.add(name)
        kind = self.schema.get_type(fragment.type_condition.name.value)
        found = self.memo[name] = self.selection_set(fragment.selection_set, kind)
        self.entered.discard(name)
        return found

    def selection_set(self, selections: SelectionSetNode | None, parent: Any) -> _Collected:
        if selections is None:
            return _EMPTY
        depth = aliases = cost = width = repeats = 0
        names: dict[str, int] = {}
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                names[key] = names.get(key, 0) + 1
                inner = self.field(selection, parent)
                depth = max(depth, inner.depth)
                aliases += inner.aliases + (selection.alias is not None)
                cost += inner.cost
                width = max(width, inner.width)
                repeats = max(repeats, inner.repeats)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                kind = self.schema.get_type(condition.name.value) if condition else parent
                inner, collected = self.selection_set(selection.selection_set, kind)
            elif isinstance(selection, FragmentSpreadNode):
                inner, collected = self.fragment(selection.name.value)
            else:
                continue
            for key, count in collected.items():
                names[key] = names.get(key, 0) + count
            depth = max(depth, inner.depth)
            aliases += inner.aliases
            cost += inner.cost
            width = max(width, inner.width)
            repeats = max(repeats, inner.repeats)
        width = max(width, sum(names.values()))
        repeats = max(repeats, max(names.values(), default=0))
        return Measure(depth, aliases, cost, width, repeats), names

    def field(self, node: FieldNode, parent: Any) -> Measure:
        """The measure of one field with what is under it."""
        definition = getattr(parent, "fields", {}).get(node.name.value)
        returned = get_named_type(definition.type) if definition is not None else None
        inner, _ = self.selection_set(node.selection_set, returned)
        introspection = node.name.value.startswith("__")
        has_selections = node.selection_set is not None and not introspection
        return Measure(
            depth=1 + inner.depth if has_selections else 0,
            aliases=inner.aliases,
            cost=1 + self.multiplier(node, definition, parent) * inner.cost,
            width=inner.width,
            repeats=inner.repeats,
        )

    def multiplier(self, node: FieldNode, definition: Any, parent: Any) -> int:
        """How many times what is under a field is resolved: the size of its list, else 1.

        A list's size is its explicit `first`/`last` (a variable's value, or the largest
        page if the variable has no number), else its `first` argument's default
        (`related` 5, `search` 10), else the number of `ids`, else a page of a connection
        (DEFAULT_PAGE), else CONTENT_LIST_ESTIMATE for lists sized by the content. The
        `edges` and `nodes` of a connection are its page, already counted.
        """
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        asked = (self.size(given[name]) for name in ("first", "last") if name in given)
        sizes = [size for size in asked if size is not None]
        if sizes:
            return max(1, *sizes)
        if definition is None:
            return 1
        first = definition.args.get("first")
        if first is not None and isinstance(first.default_value, int):
            return max(1, first.default_value)
        if "ids" in given:
            ids = given["ids"]
            if isinstance(ids, ListValueNode):
                return max(1, len(ids.values))
            length = self.size(ids)
            return max(1, MAX_PAGE if length is None else length)
        if get_named_type(definition.type).name.endswith("Connection"):
            return DEFAULT_PAGE
        kind = definition.type
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        if isinstance(kind, GraphQLList):
            return (
                1 if getattr(parent, "name", "").endswith("Connection") else CONTENT_LIST_ESTIMATE
            )
        return 1

    def size(self, value: Any) -> int | None:
        """A page size or list length given in the query; None where it is left out."""
        if isinstance(value, VariableNode):
            name = value.name.value
            self.consulted.add(name)
            found = self.variables.get(name)
            return found if isinstance(found, int) else None
        return _size(value, self.variables)


def _size(value: Any, variables: Mapping[str, Any]) -> int | None:
    if isinstance(value, IntValueNode):
        digits = value.value.lstrip("-")
        return 10**_MAX_DIGITS if len(digits) > _MAX_DIGITS else int(value.value)
    if isinstance(value, VariableNode):
        found = variables.get(value.name.value)
        return found if isinstance(found, int) else None
    return None
