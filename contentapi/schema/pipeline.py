"""Parsing and validation, limited and cached: one extension instead of five.

It does the work of Strawberry's MaxTokensLimiter, ParserCache, AddValidationRules and
ValidationCache and our cost report, with the same errors, in fewer hooks per request;
and its validation cache keys on the parsed document's identity (the parse cache hands
out one document per query text) rather than hashing the whole syntax tree each time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)
from strawberry.extensions import SchemaExtension

from contentapi.schema.cost import operation_cost


class DocumentCache:
    """Validation errors and costs per parsed document, least recently used dropped."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        # Keyed by id(): the value holds the document, so its id cannot be reused meanwhile.
        self._items: OrderedDict[int, tuple[DocumentNode, list[GraphQLError], dict[Any, int]]]
        self._items = OrderedDict()
        self._lock = threading.Lock()

    def errors(self, document: DocumentNode, compute: Callable[[], list[GraphQLError]]) -> Any:
        """The validation errors of a document, computed once."""
        with self._lock:
            found = self._items.get(id(document))
            if found is not None:
                self._items.move_to_end(id(document))
                return found[1]
        errors = compute()
        with self._lock:
            self._items[id(document)] = (document, errors, {})
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return errors

    def cost(self, document: DocumentNode, name: str | None, compute: Callable[[], int]) -> int:
        """The cost of one operation of a document, computed once."""
        with self._lock:
            found = self._items.get(id(document))
            costs = found[2] if found is not None else {}
        if name not in costs:
            costs[name] = compute()
        return costs[name]


class QueryPipeline(SchemaExtension):
    """Parse with a token limit, validate with our rules, report the cost: all cached."""

    def __init__(
        self,
        parse_document: Callable[[str], DocumentNode],
        rules: Sequence[type[ASTValidationRule]],
        documents: DocumentCache,
    ) -> None:
        self.parse_document = parse_document
        self.rules = (*specified_rules, *rules)
        self.documents = documents

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None:
            context.graphql_document = self.parse_document(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            schema = context.schema._schema
            context.pre_execution_errors = self.documents.errors(
                document, lambda: validate(schema, document, self.rules)
            )
        yield

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context
        document = context.graphql_document
        if document is None or context.pre_execution_errors:
            return {}
        name = context.operation_name
        cost = self.documents.cost(
            document, name, lambda: _cost(context.schema._schema, document, name)
        )
        report = getattr(context.context, "report", None)
        if isinstance(report, dict):
            report["cost"] = cost
            report["operation"] = name
        asked = (context.operation_extensions or {}).get("cost")
        return {"cost": cost} if asked else {}


def parser(max_tokens: int, maxsize: int = 1024) -> Callable[[str], DocumentNode]:
    """A cached parse function refusing documents of more than max_tokens tokens."""

    @lru_cache(maxsize=maxsize)
    def parse_document(query: str) -> DocumentNode:
        return parse(query, max_tokens=max_tokens)

    return parse_document


def _cost(schema: GraphQLSchema, document: DocumentNode, name: str | None) -> int:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    for operation in document.definitions:
        if isinstance(operation, OperationDefinitionNode) and (
            name is None or (operation.name is not None and operation.name.value == name)
        ):
            return operation_cost(schema, operation, fragments)
    return 0
