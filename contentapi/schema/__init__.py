"""The GraphQL schema: Strawberry types over the index, with limits and caches as extensions."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, fields
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult

from contentapi.content.contentmodel import (
    ContentModel,
    Served,
    load_content_model,
    serve_model,
)
from contentapi.schema.changes import Subscription
from contentapi.schema.context import Context as Context
from contentapi.schema.errors import QueryError
from contentapi.schema.execution import FallbackCount, FastExecutionContext, ResponseTooLarge
from contentapi.schema.generated import (
    Generated,
    builtin_names,
    generate,
    move_treatment_fields,
)
from contentapi.schema.jit import Compiler
from contentapi.schema.limits import QueryLimits
from contentapi.schema.pipeline import Preparer, QueryPipeline
from contentapi.schema.query import Query
from contentapi.schema.types import Category, Image, Indication, Treatment
from contentapi.settings import Settings

log = logging.getLogger("contentapi")


@dataclass(frozen=True, slots=True)
class Limits:
    """What a query may ask for before it is refused, unexecuted (or, for the response
    size, while its answer is built)."""

    max_depth: int
    max_aliases: int
    max_tokens: int
    max_cost: int
    max_fields: int
    max_response_bytes: int
    parse_cache_bytes: int
    introspection: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits a server's settings name (their defaults are written there only)."""
        return cls(**{field.name: getattr(settings, field.name) for field in fields(cls)})


def _shown(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, QueryError | GraphQLError)


def _too_large(result: ExecutionResult) -> None:
    """An answer over the byte budget is refused whole: no data, one error."""
    for error in result.errors or ():
        if isinstance(error.original_error, ResponseTooLarge):
            result.data = None
            result.errors = [GraphQLError(error.message, original_error=error.original_error)]
            return


def _masked(errors: list[GraphQLError]) -> list[GraphQLError]:
    """The errors as a client may see them: an unexpected one says only that it happened."""
    return [
        error
        if _shown(error)
        else GraphQLError(
            "Unexpected error.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
        )
        for error in errors
    ]


class ContentSchema(strawberry.Schema):
    """Logs only unexpected errors (with their traceback), and masks them in results; a
    client's mistakes are not news.

    Masking here rather than with Strawberry's MaskErrors extension: an extension's hooks
    are entered and left on every request, errors or not (measured: 4% of a request).
    """

    preparer: Preparer
    """Parses, measures and validates documents (shared by every request)."""
    served: Served | None
    """The content model the schema was generated from, None without one."""
    compiler: Compiler
    """Runs the queries it can compile without Strawberry or graphql-core (see jit.py)."""

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        result = await super().execute(*args, **kwargs)
        if result.errors:
            _too_large(result)
            result.errors = _masked(result.errors)
        return result

    def execute_sync(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        result = super().execute_sync(*args, **kwargs)
        if result.errors:
            _too_large(result)
            result.errors = _masked(result.errors)
        return result

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if _shown(error):
                log.debug("query error: %s", error.message)
            else:
                log.error(
                    "unexpected error in a resolver: %s", error, exc_info=error.original_error
                )


def _without_suggestions(execution_class: type[FastExecutionContext]) -> type[FastExecutionContext]:
    """The execution class with graphql-core's hide_suggestions always on: coercing
    variables (an enum value, an input field) says "Did you mean ...?" otherwise, and
    Strawberry has no way to pass the flag to execute."""

    class WithoutSuggestions(execution_class):  # type: ignore[valid-type,misc]
        @classmethod
        def build(cls, *args: Any, **kwargs: Any) -> Any:
            return super().build(*args, **{**kwargs, "hide_suggestions": True})

    return WithoutSuggestions


@functools.cache
def _builtin_names() -> frozenset[str]:
    """The names a content model may not make: the schema's without one."""
    return frozenset(builtin_names(build_schema()._schema))


def build_schema(
    limits: Limits | None = None,
    content_model: ContentModel | None = None,
    treatments_collection: str = "treatments",
) -> ContentSchema:
    """A schema whose extensions enforce the limits; the SDL is the same for any limits.
    With a content model, its collections' generated types too (ModelError for a name
    clash); serve_model must then tie the content root to `schema.served`."""
    limits = limits or Limits.from_settings(Settings())
    query: type = Query
    extra: list[type] = []
    generated: Generated | None = None
    if content_model is not None:
        generated = generate(content_model, treatments_collection, set(_builtin_names()))
        query, extra = generated.query, generated.types
    execution_class = FastExecutionContext.budgeted(limits.max_response_bytes)
    if not limits.introspection:
        execution_class = _without_suggestions(execution_class)
    schema = ContentSchema(
        query=query,
        subscription=Subscription,
        types=[Treatment, Image, Indication, Category, *extra],
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=execution_class,
    )
    schema.served = None
    if generated is not None:
        move_treatment_fields(schema._schema, generated.treatment_fields)
        schema.served = generated.served
    # Built once per schema and shared by every request's extension instances.
    schema.preparer = Preparer(
        schema._schema,
        QueryLimits(limits.max_depth, limits.max_aliases, limits.max_cost, limits.max_fields),
        limits.max_tokens,
        [] if limits.introspection else [NoSchemaIntrospectionCustomRule],
        limits.parse_cache_bytes,
        hide_suggestions=not limits.introspection,
    )
    schema.extensions = (*schema.extensions, partial(QueryPipeline, schema.preparer))
    schema.compiler = Compiler(
        schema._schema,
        schema.preparer,
        limits.max_response_bytes,
        FallbackCount(),
        limits.parse_cache_bytes,
    )
    return schema


def schema_for(settings: Settings, limits: Limits | None = None) -> ContentSchema:
    """The schema of a server's content folder: generated from its content model if it
    has one (CONTENTAPI_MODEL, else admin/config.yml and the like), which it is then
    served with. ModelError if the model is wrong."""
    content_model = load_content_model(settings.content_dir, settings.model)
    schema = build_schema(
        limits or Limits.from_settings(settings), content_model, settings.treatments_collection
    )
    serve_model(settings.content_dir, schema.served)
    return schema
