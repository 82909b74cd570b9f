"""A faster executor for this schema's queries: same results as graphql-core, fewer steps.

graphql-core completes every value through half a dozen generic calls, ready for
awaitables, errors and incremental delivery at each step. Our resolvers are synchronous
and rarely fail, so the fast path below compiles, once per field group of a request, a
small function for each value to complete: plain fields are read straight off the model
objects, everything else goes through graphql-core's own field collection, argument
coercion, resolvers and leaf serialisation. At the first sign of anything unusual (an
error, a null in a non-null field, an awaitable, @defer, introspection) it gives up and
graphql-core executes the operation from the start, so errors and partial results are
exactly graphql-core's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLUnionType,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

_DEFINITION = "strawberry-definition"
Complete = Callable[[Any], Any]
# One field of an object plan: response key, attribute to read (or None), the field (None
# for __typename) or a function calling its resolver directly, field details, completer.
Resolve = Callable[[Any, Any], Any]
FieldPlan = tuple[str, str | None, GraphQLField | Resolve | None, Any, Complete]


class _Fallback(Exception):
    """The fast path cannot finish this operation the way graphql-core would."""


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution context with a compiled fast path for queries."""

    def execute_root_grouped_field_set(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: Any,
        serially: bool,
        position_context: Any,
    ) -> Any:
        if not serially:
            try:
                plan = self._plan(root_type, grouped_field_set)
                return self._run(root_type, plan, root_value)
            except Exception:  # noqa: BLE001 - _Fallback or any surprise: graphql-core does it
                pass
        return super().execute_root_grouped_field_set(
            root_type, root_value, grouped_field_set, serially, position_context
        )

    def _plan(self, parent: GraphQLObjectType, grouped: Any) -> list[FieldPlan]:
        plan: list[FieldPlan] = []
        for key, details in grouped.items():
            node = details[0].node
            name = node.name.value
            if name == "__typename":
                plan.append((key, None, None, details, _identity))
                continue
            field_def = parent.fields.get(name)
            if field_def is None:
                raise _Fallback  # introspection (__schema, __type)
            attribute = None if node.arguments else _attribute_of(field_def)
            direct = None if node.arguments or attribute else _direct_resolver(field_def)
            complete = self._completer(field_def.type, details)
            plan.append(
                (key, attribute, field_def if direct is None else direct, details, complete)
            )
        return plan

    def _run(self, parent: GraphQLObjectType, plan: list[FieldPlan], source: Any) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, attribute, field, details, complete in plan:
            if attribute is not None:
                result[key] = complete(getattr(source, attribute))
            elif field is None:  # __typename
                result[key] = parent.name
            elif isinstance(field, GraphQLField):
                result[key] = complete(self._resolve(parent, field, details, key, source))
            else:
                result[key] = complete(field(source, self._info))
        return result

    @property
    def _info(self) -> _ContextOnly:
        info: _ContextOnly | None = self.__dict__.get("_context_only")
        if info is None:
            info = self.__dict__["_context_only"] = _ContextOnly(self.context_value)
        return info

    def _resolve(
        self,
        parent: GraphQLObjectType,
        field_def: GraphQLField,
        details: Any,
        key: str,
        source: Any,
    ) -> Any:
        node = details[0].node
        info = self.build_resolve_info(
            field_def, [d.node for d in details], parent, Path(None, key, parent.name)
        )
        args = (
            get_argument_values(
                field_def,
                node,
                self.variable_values,
                details[0].fragment_variable_values,
                self.hide_suggestions,
            )
            if field_def.args or node.arguments
            else {}
        )
        value = (field_def.resolve or self.field_resolver)(source, info, **args)
        if self.is_awaitable(value):
            getattr(value, "close", lambda: None)()
            raise _Fallback
        return value

    def _completer(self, kind: GraphQLOutputType, details: Any, required: bool = False) -> Complete:
        """A function completing values of `kind` for this field group (None refused if
        `required`, as a non-null wrapper demands)."""
        if isinstance(kind, GraphQLNonNull):
            return self._completer(kind.of_type, details, required=True)
        if isinstance(kind, GraphQLScalarType | GraphQLEnumType):
            coerce = kind.coerce_output_value

            # A str is its own String/ID output: skip the generic coercion for it.
            passes = str if kind.name in ("String", "ID") else _NoType

            def leaf(value: Any) -> Any:
                if type(value) is passes:
                    return value
                if value is None:
                    if required:
                        raise _Fallback
                    return None
                if isinstance(value, Exception):
                    raise _Fallback
                coerced = coerce(value)
                if coerced is None or coerced is Undefined:
                    raise _Fallback
                return coerced

            return leaf
        if isinstance(kind, GraphQLList):
            item = self._completer(kind.of_type, details)

            def listed(value: Any) -> Any:
                if value is None:
                    if required:
                        raise _Fallback
                    return None
                if isinstance(value, str | bytes | dict | Exception) or not hasattr(
                    value, "__iter__"
                ):
                    raise _Fallback
                return [item(element) for element in value]

            return listed
        if isinstance(kind, GraphQLObjectType):
            return self._object_completer(kind, details, required)
        if isinstance(kind, GraphQLInterfaceType | GraphQLUnionType):
            by_type: dict[type, Complete] = {}
            possible = self.schema.get_possible_types(kind)

            def abstract(value: Any) -> Any:
                if value is None:
                    if required:
                        raise _Fallback
                    return None
                found = by_type.get(type(value))
                if found is None:
                    runtime = next((t for t in possible if _is_type_of(t, value)), None)
                    if runtime is None:
                        raise _Fallback
                    found = by_type[type(value)] = self._object_completer(
                        runtime, details, required
                    )
                return found(value)

            return abstract
        raise _Fallback

    def _object_completer(
        self, kind: GraphQLObjectType, details: Any, required: bool = False
    ) -> Complete:
        plan: list[FieldPlan] | None = None
        # Our is_type_of functions are isinstance checks: one answer per Python type.
        accepted: dict[type, bool] = {}

        def complete_object(value: Any) -> Any:
            nonlocal plan
            if value is None:
                if required:
                    raise _Fallback
                return None
            fits = accepted.get(type(value))
            if fits is None:
                fits = accepted[type(value)] = not isinstance(value, Exception) and (
                    kind.is_type_of is None or _is_type_of(kind, value)
                )
            if not fits:
                raise _Fallback
            if plan is None:
                collected = self.collect_subfields(kind, details)
                if collected[1]:  # new @defer usages
                    raise _Fallback
                plan = self._plan(kind, collected[0])
            return self._run(kind, plan, value)

        return complete_object


class _NoType:
    """No value is of this type."""


def _is_type_of(kind: GraphQLObjectType, value: Any) -> bool:
    return kind.is_type_of is not None and bool(kind.is_type_of(value, None))  # type: ignore[arg-type]


def _identity(value: Any) -> Any:
    return value


def _attribute_of(field_def: GraphQLField) -> str | None:
    """The attribute a field reads when it has no resolver of its own, else None."""
    if not getattr(field_def.resolve, "_is_default", False):
        return None
    definition = (field_def.extensions or {}).get(_DEFINITION)
    name = getattr(definition, "python_name", None)
    return name if isinstance(name, str) else None


class _ContextOnly:
    """What resolvers called directly get as `info`: the context and nothing else.

    A resolver reaching for anything more raises AttributeError, and graphql-core then
    runs the operation with a real Info.
    """

    __slots__ = ("context",)

    def __init__(self, context: Any) -> None:
        self.context = context


def _direct_resolver(field_def: GraphQLField) -> Resolve | None:
    """Call a field's plain Python resolver without Strawberry's per-call wrapping, if it
    takes no arguments and has no permissions, extensions or awaitables."""
    definition = (field_def.extensions or {}).get(_DEFINITION)
    resolver = getattr(definition, "base_resolver", None)
    if (
        resolver is None
        or resolver.arguments
        or resolver.is_async
        or getattr(definition, "permission_classes", None)
        or getattr(definition, "extensions", None)
    ):
        return None
    function = resolver.wrapped_func
    root = resolver.root_parameter or resolver.self_parameter
    info = resolver.info_parameter
    root_name = root.name if root is not None else None
    info_name = info.name if info is not None else None

    def call(source: Any, context_only: Any) -> Any:
        kwargs: dict[str, Any] = {}
        if root_name is not None:
            kwargs[root_name] = source
        if info_name is not None:
            kwargs[info_name] = context_only
        return function(**kwargs)

    return call
