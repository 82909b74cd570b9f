"""A faster executor for this schema's queries: same results as graphql-core, fewer steps.

graphql-core completes every value through half a dozen generic calls, ready for
awaitables, errors and incremental delivery at each step. Our resolvers are synchronous
and rarely fail, so the fast path below compiles each operation once into small
functions, one per value to complete: plain fields are read straight off the model
objects, resolvers are called directly (with graphql-core's coerced arguments when they
need no converting), everything else goes through
graphql-core's own field collection, argument coercion, resolvers and leaf serialisation.
Compiled operations are kept (per operation node) unless directives make the selection
depend on variables. At the first sign of anything unusual (an error, a null in a
non-null field, an awaitable, @defer, introspection) it gives up and graphql-core
executes the operation from the start, so errors and partial results are exactly
graphql-core's.

Every fallback is logged at debug level with its reason. Those that are not foreseen are
also counted (FallbackCount, shown in /readyz as fastPathFallbacks): introspection and an
error in the answer always go to graphql-core, so they are left out, and the count stays
0 on a healthy server. Anything else (a resolver reading more of `info` than `.context`,
a change in Strawberry's or graphql-core's internals, a bug) is a silent demotion to the
slow path that the count makes visible.

Both paths count the bytes of the large values they complete against the response byte
budget (CONTENTAPI_MAX_RESPONSE_BYTES) and stop at the first value past it, so a query
whose answer would be too large is refused while it is built, not after.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    OperationDefinitionNode,
    visit,
)
from graphql.execution.values import get_argument_values
from graphql.language import DirectiveNode, FieldNode, NullValueNode, Visitor
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.arguments import StrawberryArgument, convert_arguments
from strawberry.types.base import StrawberryContainer, has_object_definition
from strawberry.types.lazy_type import LazyType
from strawberry.utils.str_converters import to_camel_case

from contentapi.schema import keys
from contentapi.schema.errors import QueryError

log = logging.getLogger("contentapi")
_DEFINITION = "strawberry-definition"
_MAX_COMPILED = 512
# Strings up to this long are not counted against the response budget: the query cost
# bounds how many values there are, so only long ones can make an answer large, and
# counting every short one would cost the fast path 4%.
UNCOUNTED = 256
Complete = Callable[["FastExecutionContext", Any], Any]
Resolve = Callable[["FastExecutionContext", Any, Any], Any]
# One field of an object plan: response key, attribute to read (or None), the field (None
# for __typename) or a function calling its resolver directly, field details, completer.
FieldPlan = tuple[str, str | None, GraphQLField | Resolve | None, Any, Complete]


class Fallback(Exception):
    """The fast path cannot finish this operation the way graphql-core would (the message
    says why)."""


class _Introspection(Fallback):
    """A root field the schema's types do not declare: __schema or __type."""

    def __init__(self) -> None:
        super().__init__("introspection (__schema, __type)")


NULL = "null in a non-null field"


class FallbackCount:
    """How many operations the fast path handed to graphql-core for a reason not foreseen,
    in this process: introspection and errors in the answer (QueryError) are not counted,
    as they always go to graphql-core."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    @property
    def count(self) -> int:
        return self._count

    def add(self, reason: BaseException) -> None:
        """Count one fallback, unless its reason is one of those foreseen; log it either way."""
        why = f"{type(reason).__name__}: {str(reason)[:200]}"
        if isinstance(reason, _Introspection | QueryError):
            log.debug("fast path left the operation to graphql-core, as always for %s", why)
            return
        with self._lock:
            self._count += 1
            count = self._count
        log.debug("fast path fell back to graphql-core (%s); fallbacks so far: %d", why, count)


class ResponseTooLarge(QueryError):
    """The answer would be larger than the response byte budget."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The response would be larger than the limit of {limit} bytes "
            "(CONTENTAPI_MAX_RESPONSE_BYTES): ask for fewer items or fewer large fields."
        )


# Values counted whatever their size: JSON objects, lists, and JSON written already.
_CONTAINERS = (dict, list, orjson.Fragment)


def is_large(value: Any) -> bool:
    """Whether a completed leaf value is counted against the response byte budget."""
    return (type(value) is str and len(value) > UNCOUNTED) or type(value) in _CONTAINERS


def spent_after(spent: int, value: Any, limit: int) -> int:
    """The bytes spent once `value` is counted too: ResponseTooLarge once past `limit`."""
    spent += len(value) if type(value) is str else len(orjson.dumps(value))
    if spent > limit:
        raise ResponseTooLarge(limit)
    return spent


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution context with a compiled fast path for queries."""

    # (id(schema), id(operation)) -> (schema, operation, root plan); holding both keeps
    # their ids from being reused while the entry lives.
    _compiled: ClassVar[OrderedDict[tuple[int, int], tuple[Any, Any, list[FieldPlan] | None]]] = (
        OrderedDict()
    )
    _lock: ClassVar[threading.Lock] = threading.Lock()
    # Set per schema by a subclass (see budgeted); 0: no limit.
    max_response_bytes: ClassVar[int] = 0
    # One per schema too (see budgeted), so each server counts its own.
    fallbacks: ClassVar[FallbackCount] = FallbackCount()

    @classmethod
    def budgeted(cls, max_response_bytes: int) -> type[FastExecutionContext]:
        """This class with a response byte budget and a fallback count of its own."""
        return type(
            cls.__name__,
            (cls,),
            {"max_response_bytes": max_response_bytes, "fallbacks": FallbackCount()},
        )

    def charge(self, value: Any) -> None:
        """Count a completed value against the budget: ResponseTooLarge once past it."""
        if self.max_response_bytes:
            self.__dict__["_spent"] = spent_after(
                self.__dict__.get("_spent", 0), value, self.max_response_bytes
            )

    _large = staticmethod(is_large)

    def complete_leaf_value(self, return_type: Any, result: Any) -> Any:  # type: ignore[override]
        coerced = super().complete_leaf_value(return_type, result)
        if self._large(coerced):
            self.charge(coerced)
        return coerced

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
                plan = self._root_plan(root_type, grouped_field_set)
                return _run(self, root_type, plan, root_value)
            except ResponseTooLarge as exc:
                raise GraphQLError(str(exc), original_error=exc) from None
            except Exception as exc:  # noqa: BLE001 - Fallback or any surprise: graphql-core does it
                self.fallbacks.add(exc)
                self.__dict__["_spent"] = 0
        return super().execute_root_grouped_field_set(
            root_type, root_value, grouped_field_set, serially, position_context
        )

    def _root_plan(self, root_type: GraphQLObjectType, grouped: Any) -> list[FieldPlan]:
        key = (id(self.schema), id(self.operation))
        with self._lock:
            found = self._compiled.get(key)
            if found is not None:
                self._compiled.move_to_end(key)
        if found is not None and found[2] is not None:
            return found[2]
        plan = _plan(self, root_type, grouped)
        if found is None:
            # Directives may select differently per request: such plans are not kept.
            kept = None if _uses_directives(self.operation, self.fragment_definitions) else plan
            with self._lock:
                self._compiled[key] = (self.schema, self.operation, kept)
                while len(self._compiled) > _MAX_COMPILED:
                    self._compiled.popitem(last=False)
        return plan

    @property
    def keys(self) -> set[str]:
        """The CDN purge keys of the answer being built (see keys.py), kept in the
        context's report for the HTTP layer."""
        keys: set[str] | None = self.__dict__.get("_keys")
        if keys is None:
            report = getattr(self.context_value, "report", None)
            keys = set() if report is None else report.setdefault("keys", set())
            self.__dict__["_keys"] = keys
        return keys

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        details: Any,
        info: Any,
        path: Any,
        result: Any,
        *rest: Any,
    ) -> Any:
        tag = _tagger(return_type.name)
        if tag is not None:
            tag(self, result)
        return super().complete_object_value(return_type, details, info, path, result, *rest)

    def complete_list_value(self, return_type: GraphQLList[Any], *rest: Any) -> Any:
        key = list_key(return_type)
        if key is not None:
            self.keys.add(key)
        return super().complete_list_value(return_type, *rest)

    @property
    def argument_memo(self) -> dict[int, tuple[FieldNode, dict[str, Any]]]:
        """Arguments of directly called resolvers, coerced once per field node."""
        memo: dict[int, tuple[FieldNode, dict[str, Any]]] | None = self.__dict__.get("_memo")
        if memo is None:
            memo = self.__dict__["_memo"] = {}
        return memo

    @property
    def context_only(self) -> ContextOnly:
        """The `info` handed to resolvers called directly."""
        info: ContextOnly | None = self.__dict__.get("_context_only")
        if info is None:
            info = self.__dict__["_context_only"] = ContextOnly(self.context_value)
        return info


def _plan(ctx: FastExecutionContext, parent: GraphQLObjectType, grouped: Any) -> list[FieldPlan]:
    plan: list[FieldPlan] = []
    for key, details in grouped.items():
        node = details[0].node
        name = node.name.value
        if name == "__typename":
            plan.append((key, None, None, details, _identity))
            continue
        field_def = parent.fields.get(name)
        if field_def is None:
            raise _Introspection
        attribute = None if node.arguments else attribute_of(field_def)
        direct = None if attribute else _direct_resolver(field_def, node)
        complete = _completer(ctx, field_def.type, details)
        plan.append((key, attribute, field_def if direct is None else direct, details, complete))
    return plan


def _run(
    ctx: FastExecutionContext, parent: GraphQLObjectType, plan: list[FieldPlan], source: Any
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, attribute, field, details, complete in plan:
        if attribute is not None:
            result[key] = complete(ctx, getattr(source, attribute))
        elif field is None:  # __typename
            result[key] = parent.name
        elif isinstance(field, GraphQLField):
            result[key] = complete(ctx, _resolve(ctx, parent, field, details, key, source))
        else:
            result[key] = complete(ctx, field(ctx, source, details))
    return result


def _resolve(
    ctx: FastExecutionContext,
    parent: GraphQLObjectType,
    field_def: GraphQLField,
    details: Any,
    key: str,
    source: Any,
) -> Any:
    node = details[0].node
    info = ctx.build_resolve_info(
        field_def, [d.node for d in details], parent, Path(None, key, parent.name)
    )
    args = (
        get_argument_values(
            field_def,
            node,
            ctx.variable_values,
            details[0].fragment_variable_values,
            ctx.hide_suggestions,
        )
        if field_def.args or node.arguments
        else {}
    )
    value = (field_def.resolve or ctx.field_resolver)(source, info, **args)
    if ctx.is_awaitable(value):
        getattr(value, "close", lambda: None)()
        raise Fallback("a resolver returned an awaitable")
    return value


def _completer(
    ctx: FastExecutionContext, kind: GraphQLOutputType, details: Any, required: bool = False
) -> Complete:
    """A function completing values of `kind` for this field group (None refused if
    `required`, as a non-null wrapper demands)."""
    if isinstance(kind, GraphQLNonNull):
        return _completer(ctx, kind.of_type, details, required=True)
    if isinstance(kind, GraphQLScalarType | GraphQLEnumType):
        coerce = kind.coerce_output_value
        # A str is its own String/ID output: skip the generic coercion for it.
        passes: Any = str if kind.name in ("String", "ID") else _NoType

        def leaf(ctx: FastExecutionContext, value: Any) -> Any:
            if type(value) is passes:
                if len(value) > UNCOUNTED:
                    ctx.charge(value)
                return value
            if value is None:
                if required:
                    raise Fallback(NULL)
                return None
            if isinstance(value, Exception):
                raise Fallback("an error as a value")
            coerced = coerce(value)
            if coerced is None or coerced is Undefined:
                raise Fallback("a value its scalar cannot serialise")
            if ctx._large(coerced):
                ctx.charge(coerced)
            return coerced

        return leaf
    if isinstance(kind, GraphQLList):
        item = _completer(ctx, kind.of_type, details)
        key = list_key(kind)

        def listed(ctx: FastExecutionContext, value: Any) -> Any:
            if value is None:
                if required:
                    raise Fallback(NULL)
                return None
            if isinstance(value, str | bytes | dict | Exception) or not hasattr(value, "__iter__"):
                raise Fallback("a value that is not a list in a list field")
            if key is not None:
                ctx.keys.add(key)
            return [item(ctx, element) for element in value]

        return listed
    if isinstance(kind, GraphQLObjectType):
        return _object_completer(kind, details, required)
    if isinstance(kind, GraphQLInterfaceType | GraphQLUnionType):
        by_type: dict[type, Complete] = {}
        possible = ctx.schema.get_possible_types(kind)

        def abstract(ctx: FastExecutionContext, value: Any) -> Any:
            if value is None:
                if required:
                    raise Fallback(NULL)
                return None
            found = by_type.get(type(value))
            if found is None:
                runtime = next((t for t in possible if is_type_of(t, value)), None)
                if runtime is None:
                    raise Fallback("a value of no possible type of an abstract type")
                found = by_type[type(value)] = _object_completer(runtime, details, required)
            return found(ctx, value)

        return abstract
    raise Fallback(f"an output type the fast path does not know: {kind}")


# What object_key answers for a document type: its key is made from its uri.
BY_URI = "\0uri"


def object_key(name: str) -> str | None:
    """The purge key completing an object of type `name` adds to the answer: BY_URI for a
    document (keys.document_key of its uri), None for none."""
    if name in keys.DOCUMENTS or name in keys.GENERATED_DOCUMENTS:
        return BY_URI
    key = keys.OBJECT_KEYS.get(name)
    if key is None and name.endswith("Connection"):
        key = keys.list_key(name)
    return key


def _tagger(name: str) -> Callable[[FastExecutionContext, Any], None] | None:
    """What completing an object of type `name` adds to the answer's purge keys."""
    key = object_key(name)
    if key is None:
        return None
    if key is BY_URI:

        def document(ctx: FastExecutionContext, value: Any) -> None:
            uri = getattr(value, "uri", None)
            if type(uri) is str:
                ctx.keys.add(document_key(uri))

        return document
    fixed: str = key

    def tagged(ctx: FastExecutionContext, value: Any) -> None:
        ctx.keys.add(fixed)

    return tagged


def list_key(kind: GraphQLList[Any]) -> str | None:
    """The purge key of a list of objects (None for a list of scalars)."""
    item = kind.of_type
    while isinstance(item, GraphQLNonNull | GraphQLList):
        item = item.of_type
    if isinstance(item, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
        return keys.list_key(item.name)
    return None


document_key = functools.lru_cache(maxsize=8192)(keys.document_key)


def _object_completer(kind: GraphQLObjectType, details: Any, required: bool) -> Complete:
    plan: list[FieldPlan] | None = None
    tag = _tagger(kind.name)
    # Our is_type_of functions are isinstance checks: one answer per Python type.
    accepted: dict[type, bool] = {}

    def complete_object(ctx: FastExecutionContext, value: Any) -> Any:
        nonlocal plan
        if value is None:
            if required:
                raise Fallback(NULL)
            return None
        fits = accepted.get(type(value))
        if fits is None:
            fits = accepted[type(value)] = not isinstance(value, Exception) and (
                kind.is_type_of is None or is_type_of(kind, value)
            )
        if not fits:
            raise Fallback("a value not of the field's object type")
        if tag is not None:
            tag(ctx, value)
        if plan is None:
            collected = ctx.collect_subfields(kind, details)
            if collected[1]:  # new @defer usages
                raise Fallback("@defer in the selection")
            plan = _plan(ctx, kind, collected[0])
        return _run(ctx, kind, plan, value)

    return complete_object


class _NoType:
    """No value is of this type."""


class _DirectiveFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_directive(self, node: DirectiveNode, *_: Any) -> Any:
        self.found = True
        return self.BREAK


def _uses_directives(operation: OperationDefinitionNode, fragments: Any) -> bool:
    """Whether any directive (@skip, @include, ...) may change the selection per request."""
    for node in (operation, *fragments.values()):
        finder = _DirectiveFinder()
        visit(node, finder)
        if finder.found:
            return True
    return False


def is_type_of(kind: GraphQLObjectType, value: Any) -> bool:
    return kind.is_type_of is not None and bool(kind.is_type_of(value, None))  # type: ignore[arg-type]


def _identity(ctx: FastExecutionContext, value: Any) -> Any:
    return value


def attribute_of(field_def: GraphQLField) -> str | None:
    """The attribute a field reads when it has no resolver of its own, else None."""
    if not getattr(field_def.resolve, "_is_default", False):
        return None
    definition = (field_def.extensions or {}).get(_DEFINITION)
    name = getattr(definition, "python_name", None)
    return name if isinstance(name, str) else None


class ContextOnly:
    """What resolvers called directly get as `info`: the context and nothing else.

    A resolver reaching for anything more raises AttributeError, and graphql-core then
    runs the operation with a real Info.
    """

    __slots__ = ("context",)

    def __init__(self, context: Any) -> None:
        self.context = context


@dataclass(frozen=True, slots=True)
class DirectCall:
    """How to call a field's plain Python resolver without Strawberry's per-call wrapping."""

    function: Callable[..., Any]
    root_name: str | None
    """The parameter given the parent object (None: the resolver takes none)."""
    info_name: str | None
    """The parameter given `info` (a ContextOnly), if any."""
    python_names: dict[str, str]
    """Each GraphQL argument's Python parameter name."""
    positional: bool
    """Whether root and info (those it takes) may be passed first, positionally."""
    convert: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    """For a resolver whose arguments Strawberry converts (an enum, an input object): the
    resolver's keywords from graphql-core's argument values (by GraphQL name), as
    Strawberry makes them; None when renaming them (python_names) is all it takes."""


class ArgumentConversion:
    """Strawberry's own conversion of a resolver's arguments (strawberry.types.arguments.
    convert_arguments, with the schema's scalars and config, as Strawberry calls it before
    each resolver), for resolvers called directly."""

    def __init__(self, scalar_registry: Any, config: Any) -> None:
        self.scalar_registry = scalar_registry
        self.config = config

    @classmethod
    def of(cls, schema: GraphQLSchema) -> ArgumentConversion | None:
        """The conversion of the Strawberry schema `schema` was made from (None for none)."""
        strawberry_schema = (schema.extensions or {}).get(_DEFINITION)
        converter = getattr(strawberry_schema, "schema_converter", None)
        if converter is None:
            return None
        return cls(converter.scalar_registry, converter.config)

    def converts(self, kind: Any, seen: frozenset[int] = frozenset()) -> bool:
        """Whether a value of the Strawberry type `kind` is made from its input alone: not
        by an input type's own from_input, which may read the request's info (a resolver
        called directly has none)."""
        if isinstance(kind, LazyType):
            kind = kind.resolve_type()
        if isinstance(kind, StrawberryContainer):  # lists, optionals, Maybe
            return self.converts(kind.of_type, seen)
        if not has_object_definition(kind):
            return True  # a scalar or an enum: convert_argument hands it on as it is
        definition = kind.__strawberry_definition__
        if not definition.is_input or definition.from_input is not None:
            return False
        if id(kind) in seen:
            return True
        inner = seen | {id(kind)}
        return all(
            self.converts(field.resolve_type(type_definition=definition), inner)
            for field in definition.fields
        )

    def keywords(
        self, arguments: list[StrawberryArgument], values: dict[str, Any]
    ) -> dict[str, Any]:
        """The resolver's keywords for graphql-core's argument values."""
        return convert_arguments(
            values, arguments, scalar_registry=self.scalar_registry, config=self.config
        )


def direct_call(
    field_def: GraphQLField, node: FieldNode, conversion: ArgumentConversion | None = None
) -> DirectCall | None:
    """A field's resolver, if it may be called directly: it has no permissions, extensions
    or awaitables and what its arguments get needs no converting (built-in scalars,
    coerced by graphql-core, or, for any other type, nothing or null), or `conversion`
    converts them (DirectCall.convert)."""
    definition = (field_def.extensions or {}).get(_DEFINITION)
    resolver = getattr(definition, "base_resolver", None)
    if (
        resolver is None
        or resolver.is_async
        or getattr(definition, "permission_classes", None)
        or getattr(definition, "extensions", None)
    ):
        return None
    # Arguments given a value other than a literal null.
    given = {
        argument.name.value
        for argument in node.arguments or ()
        if not isinstance(argument.value, NullValueNode)
    }
    python_names: dict[str, str] = {}
    converted = False
    for argument in resolver.arguments:
        name = argument.graphql_name or to_camel_case(argument.python_name)
        graphql_argument = field_def.args.get(name)
        if graphql_argument is None:
            return None
        if not _is_builtin_scalar(graphql_argument.type) and (
            name in given or graphql_argument.default_value not in (None, Undefined)
        ):
            if conversion is None or not conversion.converts(argument.type):
                return None
            converted = True
        python_names[name] = argument.python_name
    function = resolver.wrapped_func
    root = resolver.root_parameter or resolver.self_parameter
    info = resolver.info_parameter
    root_name = root.name if root is not None else None
    info_name = info.name if info is not None else None
    positional = _leads_with(function, root_name, info_name)
    convert = None
    if converted and conversion is not None:
        convert = functools.partial(conversion.keywords, list(resolver.arguments))
    return DirectCall(function, root_name, info_name, python_names, positional, convert)


def _direct_resolver(field_def: GraphQLField, node: FieldNode) -> Resolve | None:
    """A function calling the field's resolver directly (see direct_call), or None."""
    direct = direct_call(field_def, node)
    if direct is None:
        return None
    function, root_name, info_name = direct.function, direct.root_name, direct.info_name
    python_names = direct.python_names
    if not node.arguments and direct.positional:
        # (root, info) first and no argument in the query (an Image's placeholder, width,
        # srcSet with its default widths): the arguments' defaults coerced once, here, and
        # the resolver called with root and info positional, no keyword dict per value.
        fixed = {
            python_names[name]: value
            for name, value in get_argument_values(field_def, node, None).items()
        }
        if info_name is None:
            return lambda ctx, source, details: function(source, **fixed)
        if root_name is None:
            return lambda ctx, source, details: function(ctx.context_only, **fixed)
        return lambda ctx, source, details: function(source, ctx.context_only, **fixed)

    def call(ctx: FastExecutionContext, source: Any, details: Any) -> Any:
        kwargs: dict[str, Any] = {}
        if python_names:
            # One field of a list is resolved once per item with the same arguments (a
            # list of 50 pictures' srcSet): coerced once per execution, variables being
            # fixed for it, unless fragment variables make them differ between spreads.
            field_node = details[0].node
            fragment_variables = details[0].fragment_variable_values
            memo = ctx.argument_memo
            found = memo.get(id(field_node))
            if found is not None and found[0] is field_node and fragment_variables is None:
                kwargs = dict(found[1])
            else:
                arguments = get_argument_values(
                    field_def,
                    field_node,
                    ctx.variable_values,
                    fragment_variables,
                    ctx.hide_suggestions,
                )
                kwargs = {python_names[name]: value for name, value in arguments.items()}
                if fragment_variables is None:
                    memo[id(field_node)] = (field_node, dict(kwargs))
        if root_name is not None:
            kwargs[root_name] = source
        if info_name is not None:
            kwargs[info_name] = ctx.context_only
        return function(**kwargs)

    return call


def _leads_with(function: Callable[..., Any], *names: str | None) -> bool:
    """Whether `function`'s first parameters are these names (None ones left out), in this
    order, each one that may be given positionally, and the rest may be given by name."""
    wanted = [name for name in names if name is not None]
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    leading = parameters[: len(wanted)]
    return (
        bool(wanted)
        and [p.name for p in leading] == wanted
        and all(p.kind in positional for p in leading)
        and all(p.kind != inspect.Parameter.POSITIONAL_ONLY for p in parameters[len(wanted) :])
    )


_BUILTIN_SCALARS = frozenset(("String", "Int", "Float", "Boolean", "ID"))


def _is_builtin_scalar(kind: Any) -> bool:
    """Whether an argument's type is a built-in scalar or a list of them (which Strawberry
    hands to resolvers as graphql-core coerced them)."""
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return isinstance(kind, GraphQLScalarType) and kind.name in _BUILTIN_SCALARS


def fallbacks_of(schema: Any) -> FallbackCount:
    """The fallback count of a schema that executes with FastExecutionContext."""
    execution = schema.execution_context_class
    if not (isinstance(execution, type) and issubclass(execution, FastExecutionContext)):
        raise TypeError(
            f"the schema executes with {execution!r}, not FastExecutionContext: "
            "it has no fast path to fall back from"
        )
    return execution.fallbacks
