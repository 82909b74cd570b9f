"""The GraphQL schema: Strawberry types over the index, with limits and caches as extensions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from contentapi.schema.context import Context as Context
from contentapi.schema.cost import CostReport, cost_limit_rule
from contentapi.schema.errors import QueryError
from contentapi.schema.query import Query
from contentapi.schema.types import Category, Image, Indication, Treatment


@dataclass(frozen=True, slots=True)
class Limits:
    """What a query may ask for before it is refused, unexecuted."""

    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 2000
    max_cost: int = 5000
    introspection: bool = True


def _shown(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, QueryError)


def build_schema(limits: Limits | None = None) -> strawberry.Schema:
    """A schema whose extensions enforce the limits; the SDL is the same for any limits."""
    limits = limits or Limits()
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
        partial(ParserCache, maxsize=1024),
        partial(MaxAliasesLimiter, max_alias_count=limits.max_aliases),
        partial(QueryDepthLimiter, max_depth=limits.max_depth),
        partial(AddValidationRules, [cost_limit_rule(limits.max_cost)]),
        partial(ValidationCache, maxsize=1024),
        partial(MaskErrors, should_mask_error=lambda error: not _shown(error)),
        CostReport,
    ]
    return strawberry.Schema(
        query=Query,
        types=[Treatment, Image, Indication, Category],
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
    )
