"""A JIT for queries: each operation compiled once into Python source that builds its answer.

Like graphql-jit does for JavaScript, an operation (with the values of the variables its
@skip and @include read) is turned into a handful of generated functions, one per
selection set and object type, each reading its fields straight off the model objects,
calling resolvers directly and returning the response object as one dict display: no
per-field dispatch, no execution context, no Strawberry extension hooks, no graphql-core
scaffolding. What it adds to the answer (purge keys, bytes against the response budget)
is what the executor in execution.py adds, through the same helpers.

It is the fast path's fast path, and as strict: an operation it cannot run exactly as
graphql-core would (a mutation, introspection, @defer, fragment variables, a resolver
that needs Strawberry's argument conversion or permissions) is not compiled, and any
surprise while running one (an error, a null in a non-null field, a value of an
unexpected type, a resolver reading more of `info` than `.context`) hands the request
to Strawberry and graphql-core from the start, counted as execution.py counts its own
(FallbackCount). So errors and partial results are always graphql-core's, and the
differential test (tests/schema/test_jit.py) holds it equal on every result.

Why written here rather than taken from a library: there is no JIT for graphql-core
(graphql-jit is JavaScript only). Measured in process on 1,000 generated pages (bench
queries of bench/throughput.py, no response cache), Strawberry's execute with the fast
executor took 134 us for one treatment and 914 us for a list of 50: see the module's
benchmark, bench/jit.py, for the figures side by side.
"""

from __future__ import annotations

import itertools
import keyword
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

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
    OperationType,
    get_operation_ast,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.language import (
    DirectiveNode,
    FragmentDefinitionNode,
    VariableNode,
    Visitor,
    visit,
)
from graphql.pyutils import Undefined

from contentapi.bounded import BoundedCache
from contentapi.schema.execution import (
    BY_URI,
    NULL,
    UNCOUNTED,
    ArgumentConversion,
    ContextOnly,
    DirectCall,
    Fallback,
    FallbackCount,
    attribute_of,
    direct_call,
    document_key,
    is_large,
    is_type_of,
    list_key,
    object_key,
    spent_after,
)
from contentapi.schema.limits import Measure
from contentapi.schema.pipeline import Prepared, Preparer, cost_results

# Generated functions one operation may have before it is left to graphql-core: the
# limits on depth, aliases and fields keep ordinary ones far below (a treatment with its
# images and indications: 3; the largest example query: 14).
MAX_FUNCTIONS = 500
# What a compiled operation holds, per byte of its generated source (code objects,
# functions, constants), measured with tracemalloc over the example queries: 5 to 9.
_BYTES_PER_SOURCE_BYTE = 10
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class _NotCompiled(Exception):
    """The operation is one the JIT leaves to graphql-core (the message says why)."""


@dataclass(frozen=True, slots=True)
class _Refused:
    reason: str


class _Run:
    """One request's state, handed to every generated function."""

    __slots__ = ("args", "info", "keys", "limit", "spent")

    def __init__(
        self, info: ContextOnly, keys: set[str], args: tuple[dict[str, Any], ...], limit: int
    ) -> None:
        self.info = info
        self.keys = keys
        self.args = args
        self.limit = limit
        self.spent = 0

    def charge(self, value: Any) -> None:
        if self.limit:
            self.spent = spent_after(self.spent, value, self.limit)

    def counted(self, text: str) -> bool:
        """Count a string past UNCOUNTED characters, as its leaf completer would, inline
        in the generated test (a list of 50 summaries made 27 completer calls): True."""
        if self.limit:  # as charge does, one call fewer
            self.spent = spent_after(self.spent, text, self.limit)
        return True


# A field whose arguments are coerced per request: the field, its node and its resolver call.
_Hoisted = tuple[GraphQLField, Any, DirectCall]


@dataclass(frozen=True, slots=True)
class Plan:
    """A compiled operation: its root function and the arguments it needs per request."""

    run: Callable[[_Run], dict[str, Any]]
    operation: OperationDefinitionNode
    hoisted: tuple[_Hoisted, ...]
    source: str


@dataclass(frozen=True, slots=True)
class Ready:
    """A request the JIT runs, made ready: what the same query, variables and operation
    name always give (the plan's key, the coerced variables, the measures, the name the
    report gives it), so a caller keeping it for the request's bytes skips parsing,
    validating, planning and coercing (8 us of a 115 us single query, in process). The
    plan itself is looked up by its key on each run: the plans' cache counts it once,
    however many requests are kept ready for it."""

    query: str
    variables: Mapping[str, Any] | None
    operation_name: str | None
    plan_key: bytes
    coerced: VariableValues
    measures: dict[str | None, Measure]
    name: str | None
    # The hoisted fields' arguments, when made once here: values Python cannot change
    # (see _fixed_arguments); None: made for each run.
    arguments: tuple[dict[str, Any], ...] | None = None


def _fixed_arguments(plan: Plan, coerced: VariableValues, hide_suggestions: bool) -> Any:
    """The hoisted fields' arguments for these variables, when each is a string, number,
    boolean or null (so no resolver can change what the next request is given: a list or
    an input object is made afresh for each), else None."""
    if any(direct.convert is not None for _, _, direct in plan.hoisted):
        return None
    try:
        made = tuple(
            _python_arguments(field, node, coerced, direct, hide_suggestions)
            for field, node, direct in plan.hoisted
        )
    except Exception:  # noqa: BLE001 - made again on the run, which falls back as it must
        return None
    if all(type(value) in _IMMUTABLE for arguments in made for value in arguments.values()):
        return made
    return None


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


# Before a plan's key, the plan of the same operation that adds no purge keys: no key
# begins with NUL (an operation name or "-" does).
_UNKEYED = b"\0"


class Compiler:
    """Compiles and runs queries; the plans are kept in a cache bounded by their size."""

    def __init__(
        self,
        schema: GraphQLSchema,
        preparer: Preparer,
        max_response_bytes: int,
        fallbacks: FallbackCount,
        max_bytes: int,
    ) -> None:
        self.schema = schema
        self.preparer = preparer
        self.max_response_bytes = max_response_bytes
        self.fallbacks = fallbacks
        self.hide_suggestions = preparer.hide_suggestions
        self.plans = BoundedCache[Plan | _Refused](max_bytes)
        self.conversion = ArgumentConversion.of(schema)

    def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        context: Any,
        operation_extensions: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """The response ({"data": ...} and the extensions asked for) of a query that runs
        with no error, or None: Strawberry and graphql-core must answer this request."""
        made = self._made_ready(query, variables, operation_name)
        if made is None:
            return None
        return self._run(*made, context, operation_extensions)

    def ready(
        self, query: str, variables: Mapping[str, Any] | None, operation_name: str | None
    ) -> Ready | None:
        """What running this request needs that does not change from one request to the
        next (see Ready), or None: the JIT does not run it."""
        made = self._made_ready(query, variables, operation_name)
        return None if made is None else made[0]

    def run(
        self,
        ready: Ready,
        context: Any,
        operation_extensions: Mapping[str, Any] | None = None,
        *,
        keyed: bool = True,
    ) -> dict[str, Any] | None:
        """execute() for a request made ready already (by `ready`, now or before).

        `keyed=False` runs a plan of its own that adds no purge keys to the report: for an
        answer no header or cache will name them by (a POST sent once, see express.py).
        Tagging the treatments and pictures of a list of 50 was a dict lookup, a type
        test, an attribute and a cached hash for each of its 150 objects: bench/protocol.py's
        uncached (c) took 164 us instead of 179 without it (one process switching every
        batch, best of 15)."""
        key = ready.plan_key if keyed else _UNKEYED + ready.plan_key
        plan = self.plans.get(key)
        if not isinstance(plan, Plan):
            # Dropped from the cache since, or too large to keep, or never made unkeyed:
            # compiled (again).
            try:
                prepared = self.preparer.parse(ready.query)
            except GraphQLError:
                return None
            plan = self._planned(key, prepared, ready.operation_name, ready.variables, keyed)
            if plan is None:
                return None
        return self._run(ready, plan, context, operation_extensions)

    def _made_ready(
        self, query: str, variables: Mapping[str, Any] | None, operation_name: str | None
    ) -> tuple[Ready, Plan] | None:
        try:
            prepared = self.preparer.parse(query)
        except GraphQLError:
            return None
        errors, measures = self.preparer.validate(prepared, variables)
        if errors:
            return None
        key = self._plan_key(query, prepared, operation_name, variables)
        plan = self._planned(key, prepared, operation_name, variables)
        if plan is None:
            return None
        coerced = get_variable_values(
            self.schema,
            plan.operation.variable_definitions or (),
            dict(variables or {}),
            hide_suggestions=self.hide_suggestions,
        )
        if not isinstance(coerced, VariableValues):
            return None
        name = operation_name
        if name is None and plan.operation.name is not None:
            name = plan.operation.name.value
        arguments = _fixed_arguments(plan, coerced, self.hide_suggestions)
        ready = Ready(query, variables, operation_name, key, coerced, measures, name, arguments)
        return ready, plan

    def _run(
        self,
        ready: Ready,
        plan: Plan,
        context: Any,
        operation_extensions: Mapping[str, Any] | None,
    ) -> dict[str, Any] | None:
        report = context.report
        keys: set[str] = report.setdefault("keys", set())
        try:
            args = ready.arguments
            if args is None or len(args) != len(plan.hoisted):
                args = tuple(
                    _python_arguments(field, node, ready.coerced, direct, self.hide_suggestions)
                    for field, node, direct in plan.hoisted
                )
            data = plan.run(_Run(ContextOnly(context), keys, args, self.max_response_bytes))
        except Exception as exc:  # noqa: BLE001 - Fallback or any surprise: graphql-core does it
            self.fallbacks.add(exc)
            keys.clear()
            return None
        extensions = cost_results(report, ready.measures, ready.name, operation_extensions)
        return {"data": data, "extensions": extensions} if extensions else {"data": data}

    @staticmethod
    def _plan_key(
        query: str,
        prepared: Prepared,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> bytes:
        shape = _directive_variables(prepared)
        chosen = [(name in (variables or {}), (variables or {}).get(name)) for name in shape]
        # No digest: GraphQL names and JSON hold no NUL, so the parts cannot run together
        # (hashing cost a single query 4 us of its 40).
        return b"\0".join(
            (
                b"-" if operation_name is None else operation_name.encode(),
                orjson.dumps(chosen, default=repr) if shape else b"",
                query.encode(),
            )
        )

    def _planned(
        self,
        key: bytes,
        prepared: Prepared,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        keyed: bool = True,
    ) -> Plan | None:
        found = self.plans.get(key)
        if found is None:
            try:
                found = self._compile(prepared.document, operation_name, variables, keyed)
                # The plan keeps the document alive (its nodes link every token); the
                # cache counts the key itself.
                cost = prepared.held_bytes + len(found.source) * _BYTES_PER_SOURCE_BYTE
            except _NotCompiled as exc:
                found, cost = _Refused(str(exc)), len(str(exc))
            except Exception as exc:  # noqa: BLE001 - a surprise: graphql-core does it
                self.fallbacks.add(exc)
                found, cost = _Refused(repr(exc)), 100
            self.plans.put(key, found, cost)
        return found if isinstance(found, Plan) else None

    def _compile(
        self,
        document: Any,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        keyed: bool = True,
    ) -> Plan:
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            raise _NotCompiled("no single operation by that name")
        if operation.operation != OperationType.QUERY:
            raise _NotCompiled(f"a {operation.operation.value}")
        fragments: dict[str, FragmentDetails] = {}
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                if definition.variable_definitions:
                    raise _NotCompiled("fragment variables")
                fragments[definition.name.value] = FragmentDetails(definition, None)
        _check_directives(document)
        coerced = get_variable_values(
            self.schema,
            operation.variable_definitions or (),
            dict(variables or {}),
            hide_suggestions=self.hide_suggestions,
        )
        if not isinstance(coerced, VariableValues):
            raise _NotCompiled("variables graphql-core refuses")
        writer = _Writer(self.schema, fragments, coerced, operation, self.conversion, keyed)
        root_type = self.schema.query_type
        if root_type is None:  # pragma: no cover - every schema of ours has one
            raise _NotCompiled("no query type")
        collected = collect_fields(
            self.schema, fragments, coerced, root_type, operation, self.hide_suggestions
        )
        if collected.new_defer_usages:
            raise _NotCompiled("@defer")
        root = writer.object_function(root_type, collected.grouped_field_set, root=True)
        source = "\n".join(writer.lines)
        namespace = dict(writer.constants)
        exec(compile(source, "<contentapi.jit>", "exec"), namespace)  # noqa: S102 - our own code
        return Plan(namespace[root], operation, tuple(writer.hoisted), source)


def _python_arguments(
    field: GraphQLField,
    node: Any,
    variables: VariableValues,
    direct: DirectCall,
    hide_suggestions: bool,
) -> dict[str, Any]:
    arguments = get_argument_values(field, node, variables, None, hide_suggestions)
    if direct.convert is not None:
        return direct.convert(arguments)
    return {direct.python_names[name]: value for name, value in arguments.items()}


class _Finder(Visitor):
    """The variables @skip and @include read, and whether any other directive is used."""

    def __init__(self) -> None:
        super().__init__()
        self.variables: set[str] = set()
        self.other: str | None = None

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        name = node.name.value
        if name not in ("skip", "include"):
            self.other = self.other or name
        for argument in node.arguments or ():
            if isinstance(argument.value, VariableNode):
                self.variables.add(argument.value.name.value)


def _directive_variables(prepared: Prepared) -> tuple[str, ...]:
    """The variables a document's @skip and @include read, sorted (kept with the parsed
    document, which is shared)."""
    found = prepared.directive_variables
    if found is None:
        finder = _Finder()
        visit(prepared.document, finder)
        found = prepared.directive_variables = tuple(sorted(finder.variables))
    return found


def _check_directives(document: Any) -> None:
    finder = _Finder()
    visit(document, finder)
    if finder.other is not None:
        raise _NotCompiled(f"the directive @{finder.other}")


def _leaf_completer(kind: GraphQLScalarType | GraphQLEnumType, required: bool) -> Any:
    """Completes a leaf value the generated code's inline test did not pass, as execution.py's
    leaf completer does."""
    coerce = kind.coerce_output_value

    def leaf(run: _Run, value: Any) -> Any:
        if value is None:
            if required:
                raise Fallback(NULL)
            return None
        if isinstance(value, Exception):
            raise Fallback("an error as a value")
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise Fallback("a value its scalar cannot serialise")
        if is_large(coerced):
            run.charge(coerced)
        return coerced

    return leaf


def _as_list(value: Any) -> Any:
    if (
        value is None
        or isinstance(value, str | bytes | dict | Exception)
        or not hasattr(value, "__iter__")
    ):
        raise Fallback(NULL if value is None else "a value that is not a list in a list field")
    return value


def _accept(kind: GraphQLObjectType, value: Any, accepted: set[type]) -> bool:
    """Check a value is of an object type (our is_type_of functions are isinstance checks:
    one answer per Python type, remembered in `accepted`); True, or Fallback."""
    if value is None:
        raise Fallback(NULL)
    if isinstance(value, Exception) or (
        kind.is_type_of is not None and not is_type_of(kind, value)
    ):
        raise Fallback("a value not of the field's object type")
    accepted.add(type(value))
    return True


# How an accepted Python type holds the uri a document's purge key is made of.
_NO_URI, _URI_DECLARED, _URI_MAYBE = 1, 2, 3


def _accept_document(kind: GraphQLObjectType, value: Any, accepted: dict[type, int]) -> int:
    """_accept for a type tagged by its uri, remembering per Python type how to read it:
    declared on the class (slots, named tuple fields), absent (an instance with no
    __dict__ cannot have it), or to be looked for on each instance. getattr with a
    default costs a raised AttributeError when absent: 0.4 us an image."""
    _accept(kind, value, set())
    declared = type(value)
    if hasattr(declared, "uri"):
        how = _URI_DECLARED
    elif not hasattr(value, "__dict__"):
        how = _NO_URI
    else:
        how = _URI_MAYBE
    accepted[declared] = how
    return how


def _runtime(
    dispatch: dict[type, Any], possible: list[tuple[GraphQLObjectType, Any]], value: Any
) -> Any:
    if value is None:
        raise Fallback(NULL)
    found = next((f for kind, f in possible if is_type_of(kind, value)), None)
    if found is None or isinstance(value, Exception):
        raise Fallback("a value of no possible type of an abstract type")
    dispatch[type(value)] = found
    return found


def _null() -> Any:
    raise Fallback(NULL)


class _Writer:
    """Writes one operation's functions: source lines and the constants they use."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDetails],
        variables: VariableValues,
        operation: OperationDefinitionNode,
        conversion: ArgumentConversion | None = None,
        keyed: bool = True,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.operation = operation
        self.conversion = conversion
        self.keyed = keyed  # whether the code adds the purge keys (see Compiler.run)
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {
            "_accept": _accept,
            "_accept_document": _accept_document,
            "_as_list": _as_list,
            "_runtime": _runtime,
            "_null": _null,
            "_document_key": document_key,
        }
        self.hoisted: list[_Hoisted] = []
        self._names = itertools.count()
        self._functions = 0
        self._by_selection: dict[tuple[Any, ...], str] = {}

    def _constant(self, value: Any, prefix: str = "c") -> str:
        name = f"{prefix}{next(self._names)}"
        self.constants[name] = value
        return name

    def _new_function(self) -> str:
        self._functions += 1
        if self._functions > MAX_FUNCTIONS:
            raise _NotCompiled(f"more than {MAX_FUNCTIONS} selection sets")
        return f"f{next(self._names)}"

    def object_function(
        self, kind: GraphQLObjectType, grouped: dict[str, list[FieldDetails]], root: bool = False
    ) -> str:
        """The function completing objects of `kind` with these fields (name in the
        generated module): f(source, run) -> dict."""
        name = self._new_function()
        body = ["    s = None"] if root else self._checks(kind, "    ")
        body.append(f"    return {self._display(kind, grouped)}")
        self.lines.append(f"def {name}({'x' if root else 's, x'}):")
        self.lines.extend(body)
        return name

    def _checks(self, kind: GraphQLObjectType, indent: str) -> list[str]:
        """Lines checking `s` is of `kind` and adding its purge key."""
        kind_name = self._constant(kind, "k")
        tag = object_key(kind.name) if self.keyed else None
        if tag is BY_URI:
            accepted = self._constant({}, "t")
            return [
                f"{indent}h = {accepted}.get(type(s))",
                f"{indent}if h is None: h = _accept_document({kind_name}, s, {accepted})",
                f"{indent}if h != {_NO_URI}:",
                f"{indent}    u = s.uri if h == {_URI_DECLARED} else getattr(s, 'uri', None)",
                f"{indent}    if type(u) is str: x.keys.add(_document_key(u))",
            ]
        accepted = self._constant(set(), "t")
        lines = [f"{indent}if type(s) not in {accepted}: _accept({kind_name}, s, {accepted})"]
        if tag is not None:
            lines.append(f"{indent}x.keys.add({tag!r})")
        return lines

    def _display(self, kind: GraphQLObjectType, grouped: dict[str, list[FieldDetails]]) -> str:
        """The dict display of an object `s` of `kind`: one expression, fields read in
        order (each value named once, with :=, where its completion tests it)."""
        entries: list[str] = []
        for key, details in grouped.items():
            node = details[0].node
            field_name = node.name.value
            if field_name == "__typename":
                entries.append(f"{key!r}: {kind.name!r}")
                continue
            field = kind.fields.get(field_name)
            if field is None:
                raise _NotCompiled(f"the field {field_name} (introspection)")
            value = f"v{next(self._names)}"
            completed = self._complete(field.type, self._fetch(field, node), value, details)
            entries.append(f"{key!r}: {completed}")
        return "{" + ", ".join(entries) + "}"

    def _fetch(self, field: GraphQLField, node: Any) -> str:
        """An expression reading the field's value off `s`."""
        if not node.arguments:
            attribute = attribute_of(field)
            if attribute is not None:
                if attribute.isidentifier() and not keyword.iskeyword(attribute):
                    return f"s.{attribute}"
                return f"getattr(s, {attribute!r})"
        direct = direct_call(field, node, self.conversion)
        if direct is None:
            raise _NotCompiled(f"the field {node.name.value} needs Strawberry's resolver")
        function = self._constant(direct.function, "r")
        if direct.convert is not None or any(
            not _is_literal(argument.value) for argument in node.arguments or ()
        ):
            # Per request: variables differ, and Strawberry makes converted values (input
            # objects) afresh for each request (one request shares them between a list's
            # items, as the fast executor's argument memo does).
            self.hoisted.append((field, node, direct))
            arguments = f"**x.args[{len(self.hoisted) - 1}]"
        else:
            fixed = {
                direct.python_names[name]: value
                for name, value in get_argument_values(field, node, None).items()
            }
            arguments = f"**{self._constant(fixed, 'a')}" if fixed else ""
        if direct.positional:
            given = [p for p, n in (("s", direct.root_name), ("x.info", direct.info_name)) if n]
        else:
            given = [
                f"{n}={p}" for p, n in (("s", direct.root_name), ("x.info", direct.info_name)) if n
            ]
        return f"{function}({', '.join(part for part in (*given, arguments) if part)})"

    def _complete(
        self,
        kind: GraphQLOutputType,
        fetch: str,
        value: str,
        details: list[FieldDetails],
        required: bool = False,
    ) -> str:
        """An expression completing what `fetch` reads as `kind`, naming it `value` where
        it is used twice (`fetch` may be that name already)."""
        if isinstance(kind, GraphQLNonNull):
            return self._complete(kind.of_type, fetch, value, details, required=True)
        first = value if fetch == value else f"({value} := {fetch})"
        if isinstance(kind, GraphQLScalarType | GraphQLEnumType):
            leaf = self._constant(_leaf_completer(kind, required), "l")
            test = _LEAF_TESTS.get(kind.name) if isinstance(kind, GraphQLScalarType) else None
            if test is None:
                return f"{leaf}(x, {fetch})"
            return f"({value} if {test.format(first=first, v=value)} else {leaf}(x, {value}))"
        if isinstance(kind, GraphQLList):
            function = self._list_function(kind, details)
        elif isinstance(kind, GraphQLObjectType):
            function = self._subselection(kind, details)
        elif isinstance(kind, GraphQLInterfaceType | GraphQLUnionType):
            function = self._abstract_function(kind, details)
        else:  # pragma: no cover - graphql-core has no other output types
            raise _NotCompiled(f"the output type {kind}")
        if required:
            return f"{function}({fetch}, x)"
        return f"(None if {first} is None else {function}({value}, x))"

    def _subfields(
        self, kind: GraphQLObjectType, details: list[FieldDetails]
    ) -> dict[str, list[FieldDetails]]:
        collected = collect_subfields(
            self.schema, self.fragments, self.variables, self.operation, kind, details
        )
        if collected.new_defer_usages:
            raise _NotCompiled("@defer")
        return collected.grouped_field_set

    def _subselection(self, kind: GraphQLObjectType, details: list[FieldDetails]) -> str:
        key = (kind.name, *(id(detail.node) for detail in details))
        found = self._by_selection.get(key)
        if found is None:
            found = self._by_selection[key] = self.object_function(
                kind, self._subfields(kind, details)
            )
        return found

    def _list_function(self, kind: GraphQLList[Any], details: list[FieldDetails]) -> str:
        name = self._new_function()
        key = list_key(kind) if self.keyed else None
        lines = [
            f"def {name}(v, x):",
            "    if type(v) is not list and type(v) is not tuple: v = _as_list(v)",
        ]
        if key is not None:
            lines.append(f"    x.keys.add({key!r})")
        item = kind.of_type
        if isinstance(item, GraphQLNonNull) and isinstance(item.of_type, GraphQLObjectType):
            # Objects built in the comprehension itself, not by a call each (a list of 50
            # with 9 indications each: 450 calls): documents checked and tagged in a loop
            # first, other types checked in the comprehension's condition.
            kind_of = item.of_type
            tag = object_key(kind_of.name) if self.keyed else None
            if tag is BY_URI:
                lines.append("    for s in v:")
                lines.extend(self._checks(kind_of, "        "))
                condition = ""
            else:
                # Checked in the comprehension; a constant tag is the same for every item.
                if tag is not None and tag != key:
                    lines.append(f"    if v: x.keys.add({tag!r})")
                accepted = self._constant(set(), "t")
                kind_name = self._constant(kind_of, "k")
                condition = f" if type(s) in {accepted} or _accept({kind_name}, s, {accepted})"
            display = self._display(kind_of, self._subfields(kind_of, details))
            lines.append(f"    return [{display} for s in v{condition}]")
        else:
            lines.append(f"    return [{self._complete(item, 'e', 'e', details)} for e in v]")
        self.lines.extend(lines)
        return name

    def _abstract_function(
        self, kind: GraphQLInterfaceType | GraphQLUnionType, details: list[FieldDetails]
    ) -> str:
        possible = [
            (runtime, self._subselection(runtime, details))
            for runtime in self.schema.get_possible_types(kind)
        ]
        name = self._new_function()
        dispatch = self._constant({}, "d")
        # The generated functions are looked up once the module is run.
        pairs = ", ".join(f"({self._constant(runtime, 'k')}, {f})" for runtime, f in possible)
        choices = self._constant(None, "p")
        self.lines.append(f"{choices} = [{pairs}]")
        self.lines.append(f"def {name}(s, x):")
        self.lines.append(f"    f = {dispatch}.get(type(s))")
        self.lines.append(f"    if f is None: f = _runtime({dispatch}, {choices}, s)")
        self.lines.append("    return f(s, x)")
        return name


# Inline tests of values that are their own output (no coercion; a long string counted).
_LEAF_TESTS = {
    "String": f"type({{first}}) is str and (len({{v}}) <= {UNCOUNTED} or x.counted({{v}}))",
    "ID": f"type({{first}}) is str and (len({{v}}) <= {UNCOUNTED} or x.counted({{v}}))",
    "Int": f"type({{first}}) is int and {_INT_MIN} <= {{v}} <= {_INT_MAX}",
    "Boolean": "type({first}) is bool",
}


class _VariableFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_variable(self, *_: Any) -> Any:
        self.found = True
        return self.BREAK


def _is_literal(value: Any) -> bool:
    """Whether an argument's value holds no variable."""
    finder = _VariableFinder()
    visit(value, finder)
    return not finder.found
