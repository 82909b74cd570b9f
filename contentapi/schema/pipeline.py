"""Parsing and validation, limited and cached: one extension instead of five.

It does the work of Strawberry's MaxTokensLimiter, ParserCache, AddValidationRules,
ValidationCache, QueryDepthLimiter and MaxAliasesLimiter and our cost report, with the
same errors, in fewer hooks per request. One cache, keyed by the query text and bounded
by the bytes it holds, keeps each document with its validation errors and its measures
(depth, aliases, width, cost: see limits.py), so a repeated query is parsed, measured and
validated once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    parse,
    specified_rules,
    validate,
)
from strawberry.extensions import SchemaExtension

from contentapi.bounded import BoundedCache
from contentapi.schema.limits import (
    Measure,
    QueryLimits,
    limit_errors,
    measure_operations,
    sizing_values,
    unused_fragment_errors,
)

# What a parsed document holds per token (its Token, Location and node objects), measured
# with tracemalloc over the example queries and the hostile ones: 330 to 390 bytes.
_BYTES_PER_TOKEN = 400


# Measures kept per document for different sizing variables (page sizes, id counts).
_SIZINGS_KEPT = 16


@dataclass(slots=True)
class Prepared:
    """A parsed document with its validation errors and measures, once known."""

    document: DocumentNode
    held_bytes: int
    """What the document and its query text hold in memory (a cache entry's cost)."""
    errors: list[GraphQLError] | None = None
    """graphql-core's validation errors."""
    sizing: frozenset[str] | None = None
    """The variables that size its lists (page sizes, id lists)."""
    measures: dict[tuple[Any, ...], dict[str | None, Measure]] = field(default_factory=dict)
    """Each operation's measure, by the values of the sizing variables."""
    directive_variables: tuple[str, ...] | None = None
    """The variables its @skip and @include read (see jit.py), once known."""


def _pick(measures: dict[str | None, Measure], name: str | None) -> Measure | None:
    """The named operation's measure (the first operation's for None)."""
    if name is None:
        return next(iter(measures.values()), None)
    return measures.get(name)


class Preparer:
    """Parses with a token limit, then measures and validates; every step cached.

    A document over a limit is refused without graphql-core's rules (see limits.py).
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        limits: QueryLimits,
        max_tokens: int,
        rules: Sequence[type[ASTValidationRule]],
        max_bytes: int,
        *,
        hide_suggestions: bool = False,
    ) -> None:
        self.schema = schema
        self.limits = limits
        self.max_tokens = max_tokens
        self.rules = (*specified_rules, *rules)
        # With introspection off, "Did you mean ...?" would spell out the schema it hides.
        self.hide_suggestions = hide_suggestions
        self.cache = BoundedCache[Prepared](max_bytes)

    def parse(self, query: str) -> Prepared:
        """The parsed document for a query text (GraphQLError for a syntax error)."""
        key = query.encode()
        found = self.cache.get(key)
        if found is None:
            document = parse(query, max_tokens=self.max_tokens)
            found = Prepared(document, len(key) + _BYTES_PER_TOKEN * _tokens(document))
            self.cache.put(key, found, found.held_bytes)
        return found

    def measures(
        self, prepared: Prepared, variables: Mapping[str, Any] | None
    ) -> dict[str | None, Measure]:
        """Each operation's measure with these variables (computed once per sizing)."""
        variables = variables or {}
        if prepared.sizing is None:
            found, prepared.sizing = measure_operations(self.schema, prepared.document, variables)
            prepared.measures[sizing_values(variables, prepared.sizing)] = found
            return found
        key = sizing_values(variables, prepared.sizing)
        kept = prepared.measures.get(key)
        if kept is None:
            kept, _ = measure_operations(self.schema, prepared.document, variables)
            if len(prepared.measures) < _SIZINGS_KEPT:
                prepared.measures[key] = kept
        return kept

    def validate(
        self, prepared: Prepared, variables: Mapping[str, Any] | None
    ) -> tuple[list[GraphQLError], dict[str | None, Measure]]:
        """Limit errors, else fragments no operation uses, else graphql-core's validation
        errors (computed once); and the measures."""
        measures = self.measures(prepared, variables)
        errors = limit_errors(measures, self.limits)
        if errors:
            return errors, measures
        if prepared.errors is None:
            errors = unused_fragment_errors(prepared.document) or validate(
                self.schema,
                prepared.document,
                self.rules,
                hide_suggestions=self.hide_suggestions,
            )
            prepared.errors = [_as_client_error(error) for error in errors]
        return prepared.errors, measures

    def cost(
        self, query: str, operation_name: str | None, variables: Mapping[str, Any] | None
    ) -> int | None:
        """The cost of a valid operation, or None if the query would be refused."""
        try:
            prepared = self.parse(query)
        except GraphQLError:
            return None
        errors, measures = self.validate(prepared, variables)
        measure = _pick(measures, operation_name)
        return None if errors or measure is None else measure.cost


def _as_client_error(error: GraphQLError) -> GraphQLError:
    """A validation error as the client's own mistake: graphql-core keeps the exception
    behind some (int() refusing an Int literal of 5,000 digits), which would otherwise be
    masked as unexpected and logged with a traceback."""
    if error.original_error is None:
        return error
    return GraphQLError(
        error.message, nodes=error.nodes, source=error.source, positions=error.positions
    )


def _tokens(document: DocumentNode) -> int:
    count = 0
    token = document.loc.start_token if document.loc else None
    while token is not None:
        count += 1
        token = token.next
    return count


class QueryPipeline(SchemaExtension):
    """Parse, validate and report the cost of each request through a shared Preparer."""

    def __init__(self, preparer: Preparer) -> None:
        self.preparer = preparer
        self.prepared: Prepared | None = None
        self.measures: dict[str | None, Measure] = {}

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None:
            self.prepared = self.preparer.parse(context.query)
            context.graphql_document = self.prepared.document
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.prepared is not None:
            errors, self.measures = self.preparer.validate(self.prepared, context.variables)
            context.pre_execution_errors = errors
        yield

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context
        if self.prepared is None or context.pre_execution_errors:
            return {}
        report = getattr(context.context, "report", None)
        return cost_results(
            report, self.measures, context.operation_name, context.operation_extensions
        )


def cost_results(
    report: Any,
    measures: dict[str | None, Measure],
    name: str | None,
    operation_extensions: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Note the operation's cost and name in the context's report (a dict, for the access
    log) and answer the response's extensions: the cost if the request asked for it."""
    measure = _pick(measures, name)
    cost = measure.cost if measure is not None else 0
    if isinstance(report, dict):
        report["cost"] = cost
        report["operation"] = name
    asked = (operation_extensions or {}).get("cost")
    return {"cost": cost} if asked else {}
