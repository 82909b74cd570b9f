"""With introspection off, error messages must not leak the schema through suggestions."""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

_SUGGESTION = re.compile(r" ?Did you mean .*\?$", re.S)


def _without_suggestion(error: GraphQLError) -> GraphQLError:
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=error.extensions,
    )


class HideSuggestions(SchemaExtension):
    """Drops "Did you mean ...?" from every error of the operation."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        if context.pre_execution_errors:
            context.pre_execution_errors = [
                _without_suggestion(e) for e in context.pre_execution_errors
            ]
        if context.result is not None and context.result.errors:
            context.result.errors = [_without_suggestion(e) for e in context.result.errors]
