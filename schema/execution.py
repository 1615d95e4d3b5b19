"""How a document runs: graphql-core's executor, with plain fields read directly.

A page of 100 tasks selects about 1,200 fields, and most of them are an attribute printed as
it is (`name`, `plannedStart`, `lagDays`) or an object or list held by its parent (`edges`,
`node`, `pageInfo`). For each, graphql-core builds a resolve info and completes the value
through five generic steps, and strawberry calls its default resolver through two wrappers:
most of the time a page took. A field that strawberry marks as basic (no resolver, no
permission, no field extension, no arguments) is read here with the same default resolver;
a scalar or enum is printed with the same serializer, an object or list of objects is
checked with the same `is_type_of` and its selection executed as graphql-core would. A field
whose resolver takes only `self` and `info` (a task's owner, its links) is called once, as
strawberry calls it, without the argument conversion and extension chain it has nothing for;
an awaitable it returns is completed by graphql-core.

A selection made only of such fields, and of answers read ahead for a page
(schema.common.read_ahead_answer), is also written out as straight-line code once per
process (schema/compiled.py) and tried first for each object.

Whatever would be an error (a null where the type forbids it, a value the scalar refuses, an
object of the wrong type, an exception) goes the ordinary way, and an error raised below a
field read here is handled at that field as graphql-core handles it, so errors, their paths
and the nulls they leave are graphql-core's own (tests/schema/test_execution.py).
"""

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, cast

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    OperationType,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, Undefined, gather_with_cancel, is_iterable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from schema import compiled
from schema.common import NOT_READ_AHEAD
from schema.compiled import LEAF, OBJECT, OBJECT_LIST, TYPENAME


@dataclass(frozen=True, slots=True)
class _Plain:
    kind: str
    python_name: str
    field_def: GraphQLField
    named: Any  # the leaf type, or the object type of the object or of the list's items
    required: bool
    item_type: GraphQLOutputType | None = None
    item_required: bool = False
    read: Callable[[Any, str], Any] | None = None  # a basic field: the default resolver
    call: Callable[[Any, Any], Any] | None = None  # a field with a resolver
    # The resolver's answer from rows read ahead, if it has one (schema.common.read_ahead_answer).
    read_ahead: Callable[[Any, Any, Any], Any] | None = None
    # The Python type graphql-core prints unchanged for this scalar (str for String and ID,
    # bool for Boolean, int within 32 bits for Int): checked inline, without the serializer.
    exact: type | None = None
    # An enum's printed names by (Python type, value), as its serializer printed them: the
    # serializer walks the enum's values each time, and a page prints a link type per link.
    printed: dict[tuple[type, Any], Any] | None = None


_NOT_YET: Any = object()


@dataclass(slots=True)
class _Step:
    """A field of a selection: its response name, its nodes, how it runs (None: the ordinary
    way) and, for an object or a list of objects, the selection under it (worked out on
    first use, then shared by every object the field yields in this execution)."""

    response_name: str
    details: FieldDetailsList
    plain: "_Plain | None"
    child: "_Selection | None" = _NOT_YET  # None: a deferred fragment starts under it


@dataclass(slots=True)
class _Selection:
    object_type: GraphQLObjectType
    grouped: GroupedFieldSet
    steps: list[_Step]
    columns_only: bool  # each field a scalar read as it is
    # The selection's answer as straight-line code (schema/compiled.py), where it has one,
    # and what it was compiled for: the document's nodes of its fields and of those below.
    fast: compiled.Answer | None = None
    compiled_key: tuple[Any, ...] = ()
    compiled_nodes: tuple[Any, ...] = ()


# (parent type, field name) -> how to run the field directly, or None for the ordinary way.
# Keyed by the type objects of the one schema this process builds, so it stays small.
_plain_fields: dict[tuple[GraphQLObjectType, str], _Plain | None] = {}


# A selection's compiled answer, kept for the life of the process: keyed by the type and
# the document's nodes of each field (a parsed document is cached and reused by every
# request that sends it), the nodes kept with it so their ids are not reused meanwhile.
_compiled: dict[tuple[Any, ...], tuple[Any, compiled.Answer | None]] = {}
_COMPILED_KEPT = 1024


def _without_non_null(graphql_type: Any) -> tuple[Any, bool]:
    if isinstance(graphql_type, GraphQLNonNull):
        return graphql_type.of_type, True
    return graphql_type, False


def _resolver_call(
    definition: StrawberryField, info_class: type[Info[Any, Any]]
) -> Callable[[Any, Any], Any] | None:
    """A resolver taking only `self` and `info`, called as strawberry would call it, without
    the argument conversion and extension chain it has nothing for."""
    resolver = definition.base_resolver
    if (
        resolver is None
        or definition.extensions
        or definition.arguments
        or resolver.parent_parameter
        or resolver.root_parameter
    ):
        return None
    function: Callable[..., Any] = resolver.wrapped_func  # type: ignore[assignment]
    with_self = resolver.self_parameter is not None
    info_name = resolver.info_parameter.name if resolver.info_parameter else None

    def call(source: Any, raw_info: Any) -> Any:
        args = (source,) if with_self else ()
        if info_name is None:
            return function(*args)
        return function(*args, **{info_name: info_class(_raw_info=raw_info, _field=definition)})

    return call


def _classify(parent_type: GraphQLObjectType, field_name: str, info_class: Any) -> _Plain | None:
    field_def = parent_type.fields.get(field_name)
    if field_def is None or field_def.args:
        return None
    definition = (field_def.extensions or {}).get("strawberry-definition")
    if not isinstance(definition, StrawberryField) or not definition.python_name:
        return None
    how: dict[str, Any] = {}
    if definition.is_basic_field and getattr(field_def.resolve, "_is_default", False):
        how["read"] = definition.default_resolver
    elif (call := _resolver_call(definition, info_class)) is not None:
        how["call"] = call
        assert definition.base_resolver is not None
        how["read_ahead"] = getattr(
            definition.base_resolver.wrapped_func, "read_ahead_answer", None
        )
    else:
        return None
    inner, required = _without_non_null(field_def.type)
    common = (definition.python_name, field_def)
    if is_leaf_type(inner):
        printed: dict[tuple[type, Any], Any] | None = (
            {} if isinstance(inner, GraphQLEnumType) else None
        )
        exact = _PRINTED_AS_IS.get(inner)
        return _Plain(LEAF, *common, inner, required, **how, exact=exact, printed=printed)
    if isinstance(inner, GraphQLObjectType):
        return _Plain(OBJECT, *common, inner, required, **how)
    if isinstance(inner, GraphQLList):
        item, item_required = _without_non_null(inner.of_type)
        if isinstance(item, GraphQLObjectType):
            return _Plain(OBJECT_LIST, *common, item, required, inner.of_type, item_required, **how)
    return None


def _plain_field(parent_type: GraphQLObjectType, field_name: str, info_class: Any) -> _Plain | None:
    key = (parent_type, field_name)
    try:
        return _plain_fields[key]
    except KeyError:
        plain = _plain_fields[key] = _classify(parent_type, field_name, info_class)
        return plain


class LeanExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[GraphQLObjectType, int], _Selection] = {}
        self._nodes: dict[int, tuple[FieldDetailsList, list[Any]]] = {}
        # Objects whose selection is columns only, completed once per query however often
        # they recur (a page's owners: five people for a hundred tasks). Keyed by identity,
        # the object kept with its answer so its id is not reused while this runs. Not in
        # a mutation, whose later fields may see an object changed by an earlier one.
        self._answered: dict[tuple[int, int], tuple[Any, dict[str, Any]]] | None = (
            {} if self.operation.operation == OperationType.QUERY else None
        )

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        if position_context is not None or (
            self.middleware_manager is not None and self.middleware_manager.middlewares
        ):
            # Deferred parts and middleware (which wraps every resolver) go the ordinary way.
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        return self._answer(self._planned(parent_type, grouped_field_set), source_value, path)

    def _answer(self, selection: _Selection, source_value: Any, path: Path | None) -> Any:
        """The compiled answer where the selection has one and it decides this object;
        else field by field."""
        fast = selection.fast
        if fast is not None:
            try:
                return fast(source_value, self.context_value)
            except Exception:  # noqa: BLE001, S110 - Irregular or an error: the ordinary way
                pass
        return self._fields(selection, source_value, path)

    def _fields(self, selection: _Selection, source_value: Any, path: Path | None) -> Any:
        """The selection's fields of one object: plain ones here, the rest the ordinary way."""
        answered = self._answered if selection.columns_only else None
        if answered is not None:
            key = (id(source_value), id(selection))
            found = answered.get(key)
            if found is not None and found[0] is source_value:
                return found[1]
        direct: dict[str, Any] = {}
        others: GroupedFieldSet = {}
        waiting = False
        is_awaitable = self.is_awaitable
        for step in selection.steps:
            plain = step.plain
            value = Undefined
            if plain is not None and plain.kind is LEAF and plain.read is not None:
                # The commonest field, a column printed as it is: read inline, and a printed
                # scalar is never awaitable.
                try:
                    value = plain.read(source_value, plain.python_name)
                except Exception:  # noqa: BLE001 - the ordinary way reports it, with its path
                    value = Undefined
                else:
                    exact = plain.exact
                    if type(value) is not exact or (exact is int and not _fits_in_32_bits(value)):
                        value = _printed(plain, value)
                if value is not Undefined:
                    direct[step.response_name] = value
                    continue
            elif plain is not None:
                value = self._execute_plain(step, selection.object_type, source_value, path)
            if value is Undefined:
                others[step.response_name] = step.details
            else:
                direct[step.response_name] = value
                waiting = waiting or is_awaitable(value)
        grouped = selection.grouped
        if not others:
            if waiting:
                return self._merged_later(grouped, direct, {})
            if answered is not None:
                answered[key] = (source_value, direct)
            return direct
        rest = super().execute_fields(selection.object_type, source_value, path, others, None)
        if waiting or is_awaitable(rest):
            return self._merged_later(grouped, direct, rest)
        return _in_order(grouped, direct, cast(dict[str, Any], rest))

    def nodes_of(self, details: FieldDetailsList) -> list[Any]:
        """A field's nodes, listed once per execution (a resolver's info asks each time)."""
        found = self._nodes.get(id(details))
        if found is None or found[0] is not details:
            found = self._nodes[id(details)] = (details, to_nodes(details))
        return found[1]

    def _planned(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> _Selection:
        """The selection with each field's way, worked out once per execution for a
        selection that every item of a list shares (graphql-core hands the same one to
        each, and the fields under an object field share theirs through its step)."""
        plans = self._plans
        key = (parent_type, id(grouped_field_set))
        found = plans.get(key)
        if found is not None and found.grouped is grouped_field_set:
            return found
        info_class = self.schema._strawberry_schema.config.info_class  # type: ignore[attr-defined]
        steps = [
            _Step(name, details, _plain_field(parent_type, details[0].node.name.value, info_class))
            for name, details in grouped_field_set.items()
        ]
        columns_only = all(
            step.plain is not None and step.plain.kind is LEAF and step.plain.read is not None
            for step in steps
        )
        # The selection is kept with its plan, so its id is not reused while this runs.
        selection = plans[key] = _Selection(parent_type, grouped_field_set, steps, columns_only)
        if self._answered is not None:  # queries only, as the memo
            selection.fast = self._compiled_answer(selection)
        return selection

    def _compiled_answer(self, selection: _Selection) -> compiled.Answer | None:
        """The selection as straight-line code, compiled once per process for these nodes of
        the document and the selections under them (which a directive's variable may
        change from one request to the next); None where a field is not plain (it has
        arguments, a resolver with no answer read ahead, a deferred fragment below it)."""
        nodes: list[Any] = []
        key: list[Any] = [selection.object_type]
        for step in selection.steps:
            nodes.append(tuple(d.node for d in step.details))
            key.append(tuple(map(id, nodes[-1])))
            plain = step.plain
            if plain is not None and plain.kind is not LEAF:
                child = self._child(step)
                key.append(None if child is None else child.compiled_key)
                nodes.append(None if child is None else child.compiled_nodes)
        selection.compiled_key, selection.compiled_nodes = tuple(key), tuple(nodes)
        found = _compiled.get(selection.compiled_key)
        if found is not None:
            return found[1]
        type_name = selection.object_type.name
        fields = [self._compiled_field(step, type_name) for step in selection.steps]
        answer = (
            None
            if any(f is None for f in fields)
            else compiled.compile_selection(type_name, cast(list[compiled.Field], fields), _printed)
        )
        if len(_compiled) >= _COMPILED_KEPT:
            _compiled.clear()
        # The nodes are kept with the answer, so their ids are not reused while it stands.
        _compiled[selection.compiled_key] = (selection.compiled_nodes, answer)
        return answer

    def _compiled_field(self, step: _Step, type_name: str) -> compiled.Field | None:
        if any(d.defer_usage is not None for d in step.details):
            return None
        if step.details[0].node.name.value == "__typename":
            return compiled.Field(step.response_name, TYPENAME, typename=type_name)
        plain = step.plain
        if plain is None or (plain.call is not None and plain.read_ahead is None):
            return None
        common: dict[str, Any] = {
            "python_name": plain.python_name,
            "read": plain.read,
            "read_ahead": plain.read_ahead,
            "field_nodes": self.nodes_of(step.details) if plain.read_ahead else None,
            "required": plain.required,
        }
        if plain.kind is LEAF:
            return compiled.Field(
                step.response_name, LEAF, plain=plain, exact=plain.exact, **common
            )
        child = self._child(step)
        if child is None or child.fast is None:
            return None
        return compiled.Field(
            step.response_name,
            plain.kind,
            item_required=plain.item_required,
            is_type_of=plain.named.is_type_of,
            child=child.fast,
            **common,
        )

    def _child(self, step: _Step) -> _Selection | None:
        """The selection under an object or list field, once for all it yields; None where
        a deferred fragment starts (graphql-core's incremental delivery takes it)."""
        child = step.child
        if child is _NOT_YET:
            assert step.plain is not None
            object_type = step.plain.named
            grouped, new_defer_usages, _ = self.collect_subfields(object_type, step.details)
            child = step.child = None if new_defer_usages else self._planned(object_type, grouped)
        return child

    def _execute_plain(
        self, step: _Step, parent_type: GraphQLObjectType, source: Any, path: Path | None
    ) -> Any:
        """The field's completed value, or Undefined where the ordinary way must decide."""
        plain = step.plain
        assert plain is not None
        if plain.call is not None:
            return self._execute_resolved(step, parent_type, source, path)
        assert plain.read is not None
        try:
            value = plain.read(source, plain.python_name)
        except Exception:  # noqa: BLE001 - the ordinary way reports it, with its path
            return Undefined
        if plain.kind == LEAF:
            return _printed(plain, value)
        return self._complete(step, _path(path, step.response_name, parent_type.name), value)

    def _execute_resolved(
        self, step: _Step, parent_type: GraphQLObjectType, source: Any, path: Path | None
    ) -> Any:
        """A field with a resolver of its own: called once, here; its value completed here
        where that is plain, else by graphql-core, errors handled as graphql-core's
        execute_field handles them."""
        plain, details = step.plain, step.details
        assert plain is not None and plain.call is not None
        field_type = plain.field_def.type
        field_path = _path(path, step.response_name, parent_type.name)
        try:
            if plain.read_ahead is not None:
                # Read ahead for the page: no resolve info, no call.
                known = plain.read_ahead(source, self.context_value, self.nodes_of(details))
                if known is not NOT_READ_AHEAD:
                    completed = (
                        _printed(plain, known)
                        if plain.kind == LEAF
                        else self._complete(step, field_path, known)
                    )
                    if completed is not Undefined:
                        return completed
            lazy = _ResolveInfoOnDemand(self, plain.field_def, details, parent_type, field_path)
            result = plain.call(source, lazy)
            if self.is_awaitable(result):
                return self.complete_awaitable_value(
                    field_type, details, lazy.built(), field_path, result, None
                )
            if plain.kind == LEAF:
                completed = _printed(plain, result)
            else:
                completed = self._complete(step, field_path, result)
            if completed is not Undefined:
                return completed
        except Exception as raw_error:  # noqa: BLE001 - graphql-core's own rule decides
            self.handle_field_error(raw_error, field_type, details, field_path)
            return None
        return self._guarded(
            field_type,
            details,
            field_path,
            lambda: self.complete_value(
                field_type, details, lazy.built(), field_path, result, None
            ),
        )

    def _complete(self, step: _Step, field_path: Path, value: Any) -> Any:
        """An object or a list of objects completed, or Undefined (before anything ran) where
        graphql-core must decide: a null where none is allowed, a value of the wrong type."""
        plain = step.plain
        assert plain is not None
        if value is None:
            return Undefined if plain.required else None
        if plain.kind == OBJECT:
            if not self._is_type_of(plain.named, value):
                return Undefined
            child = self._child(step)
            try:
                if child is None:
                    done = self._complete_object(plain.named, step.details, field_path, value)
                else:
                    done = self._answer(child, value, field_path)
            except Exception as raw_error:  # noqa: BLE001 - graphql-core's own rule decides
                self.handle_field_error(raw_error, plain.field_def.type, step.details, field_path)
                return None
            if self.is_awaitable(done):
                return self._handled_later(done, plain.field_def.type, step.details, field_path)
            return done
        if not is_iterable(value):  # as graphql-core sees it: not a string or a mapping
            return Undefined
        try:
            items = list(value)
        except TypeError:
            return Undefined
        if not items:
            return items
        check, item_required = plain.named.is_type_of, plain.item_required
        for item in items:
            if item is None:
                if item_required:
                    return Undefined
            elif check is not None and not self._is_type_of(plain.named, item):
                return Undefined
        return self._guarded(
            plain.field_def.type,
            step.details,
            field_path,
            self._complete_items,
            step,
            field_path,
            items,
        )

    def _is_type_of(self, object_type: GraphQLObjectType, value: Any) -> bool:
        # Strawberry's own predicates look at the value only; anything else is refused here
        # and decided the ordinary way.
        check = object_type.is_type_of
        if check is None:
            return True
        try:
            verdict = check(value, None)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001
            return False
        return verdict is True

    def _complete_object(
        self, object_type: GraphQLObjectType, details: FieldDetailsList, path: Path, value: Any
    ) -> Any:
        """An object under which a deferred fragment starts: graphql-core's incremental
        delivery."""
        grouped, new_defer_usages, _ = self.collect_subfields(object_type, details)
        return self.execute_collected_subfields(
            object_type, value, path, grouped, new_defer_usages, None
        )

    def _complete_items(self, step: _Step, path: Path, items: list[Any]) -> Any:
        """Each item's fields executed, an error at an item handled there as graphql-core
        handles it: a null where the item type allows one, else raised to the list."""
        plain = step.plain
        assert plain is not None and plain.item_type is not None
        object_type, item_type, details = plain.named, plain.item_type, step.details
        child = self._child(step)
        completed: list[Any] = []
        waiting = False
        is_awaitable = self.is_awaitable
        for index, item in enumerate(items):
            if item is None:
                completed.append(None)
                continue
            item_path = _path(path, index, None)
            try:
                if child is None:
                    done = self._complete_object(object_type, details, item_path, item)
                else:
                    done = self._answer(child, item, item_path)
            except Exception as raw_error:  # noqa: BLE001 - graphql-core's own rule decides
                self.handle_field_error(raw_error, item_type, details, item_path)
                done = None
            else:
                if is_awaitable(done):
                    done = self._handled_later(done, item_type, details, item_path)
                    waiting = True
            completed.append(done)
        if waiting:
            return self._items_later(completed)
        return completed

    def _guarded(
        self,
        return_type: Any,
        details: FieldDetailsList,
        path: Path,
        complete: Callable[..., Any],
        *arguments: Any,
    ) -> Any:
        """`complete(*arguments)`, with an error below handled here as graphql-core handles
        it at a field or a list item: a null where the type allows one, else raised to the
        parent."""
        try:
            completed = complete(*arguments)
        except Exception as raw_error:  # noqa: BLE001 - graphql-core's own rule decides
            self.handle_field_error(raw_error, return_type, details, path)
            return None
        if not self.is_awaitable(completed):
            return completed
        return self._handled_later(completed, return_type, details, path)

    async def _handled_later(
        self, completed: Any, return_type: Any, details: FieldDetailsList, path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:  # noqa: BLE001 - as above
            self.handle_field_error(raw_error, return_type, details, path)
            return None

    async def _items_later(self, completed: list[Any]) -> list[Any]:
        waiting = [i for i, item in enumerate(completed) if self.is_awaitable(item)]
        for i, value in zip(
            waiting, await self._together(completed[i] for i in waiting), strict=True
        ):
            completed[i] = value
        return completed

    async def _together(self, awaitables: Any) -> list[Any]:
        """Awaited at once, as graphql-core does: one is awaited in this task (so a cancel
        reaches it), several are gathered (their loads batched by one DataLoader call)."""
        pending = list(awaitables)
        if len(pending) == 1:
            return [await pending[0]]
        return await gather_with_cancel(*pending)

    async def _merged_later(
        self, grouped_field_set: GroupedFieldSet, direct: dict[str, Any], rest: Any
    ) -> dict[str, Any]:
        waiting = [name for name, value in direct.items() if self.is_awaitable(value)]
        awaited = await self._together(
            [*(direct[name] for name in waiting), *([rest] if self.is_awaitable(rest) else [])]
        )
        direct.update(zip(waiting, awaited[: len(waiting)], strict=True))
        if self.is_awaitable(rest):
            rest = awaited[-1]
        return _in_order(grouped_field_set, direct, rest)


def _path(prev: Path | None, key: str | int, typename: str | None) -> Path:
    """graphql-core's Path, made as the tuple it is: its generated constructor cost more
    than the tuple, and a page of 100 tasks makes some 900 (an item's, a field's)."""
    return _new_tuple(Path, (prev, key, typename))


_new_tuple = tuple.__new__


class _ResolveInfoOnDemand:
    """The resolve info a resolver is handed, built only if it looks past the context.

    A page of 100 tasks calls about 260 resolvers (owners, links, predecessors) that read
    the request's context and nothing else; graphql-core's info for each (eleven fields,
    the path as a list) was a tenth of the page's time. `field_nodes` comes straight from
    the selection; anything else builds graphql-core's own info, once."""

    __slots__ = ("context", "_built", "_execution", "_field_def", "_details", "_parent", "_path")

    def __init__(
        self,
        execution: "LeanExecutionContext",
        field_def: GraphQLField,
        details: FieldDetailsList,
        parent_type: GraphQLObjectType,
        path: Path,
    ) -> None:
        self.context = execution.context_value
        self._built: Any = None
        self._execution, self._field_def, self._details = execution, field_def, details
        self._parent, self._path = parent_type, path

    @property
    def field_nodes(self) -> list[Any]:
        return self._execution.nodes_of(self._details)

    def built(self) -> Any:
        if self._built is None:
            self._built = self._execution.build_resolve_info(
                self._field_def, to_nodes(self._details), self._parent, self._path
            )
        return self._built

    def __getattr__(self, name: str) -> Any:
        return getattr(self.built(), name)


_PRINTED_AS_IS: dict[Any, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
    GraphQLInt: int,
}


_ENUM_NAMES_KEPT = 256


def _fits_in_32_bits(value: Any) -> bool:
    return bool(-(2**31) <= value < 2**31)


def _printed(plain: _Plain, value: Any) -> Any:
    """A scalar or enum as graphql-core prints it, or Undefined where it would refuse."""
    if type(value) is plain.exact and (plain.exact is not int or _fits_in_32_bits(value)):
        return value
    if value is None:
        return Undefined if plain.required else None
    known = plain.printed
    if known is not None:
        try:
            return known[type(value), value]
        except (KeyError, TypeError):  # not printed yet, or unhashable
            pass
    try:
        printed = plain.named.coerce_output_value(value)
    except Exception:  # noqa: BLE001 - the ordinary way reports it, with its path
        return Undefined
    if printed is None or printed is Undefined:
        return Undefined
    if known is not None and len(known) < _ENUM_NAMES_KEPT:
        with suppress(TypeError):  # an unhashable value is printed each time
            known[type(value), value] = printed
    return printed


def _in_order(
    grouped_field_set: GroupedFieldSet, direct: dict[str, Any], rest: dict[str, Any]
) -> dict[str, Any]:
    """The response keeps the order of the selection, as the specification requires."""
    return {
        name: direct[name] if name in direct else rest[name]
        for name in grouped_field_set
        if name in direct or name in rest
    }
