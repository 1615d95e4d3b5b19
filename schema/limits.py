"""Limits on what one GraphQL document may ask, measured with each fragment visited once.

Strawberry's depth and alias limiters walk into a fragment at every spread, so a document of
fragments that each spread the previous one twice costs 2**N steps to *check* (816 bytes took
15 s). Here every fragment's figures are computed once and remembered, so checking is linear in
the document's size, and a cost limit (how many objects the answer could hold, connections
counted at their page size) refuses a query before any resolver runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_nullable_type,
)
from strawberry.extensions import SchemaExtension

from schema.common import MAX_PAGE_SIZE

MAX_DEPTH = 10
MAX_ALIASES = 15
# Objects one answer may hold at most, counting each connection at the page size it asks for
# (GitHub's API counts nodes the same way). A page of 100 tasks with their dependencies and
# updates stays far below; three nested pages of 100 do not.
MAX_COST = 50_000


@dataclass(frozen=True)
class Figures:
    depth: int
    aliases: int


class DocumentLimitsRule(ValidationRule):
    """Depth and aliases of every operation, each fragment measured once."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        document = context.document
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[str, Figures] = {}
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                self._check(definition)

    def _check(self, operation: OperationDefinitionNode) -> None:
        figures = self._measure(operation.selection_set, frozenset())
        name = operation.name.value if operation.name else "anonymous"
        if figures.depth > MAX_DEPTH:
            self.report_error(
                GraphQLError(f"'{name}' exceeds maximum operation depth of {MAX_DEPTH}")
            )
        if figures.aliases > MAX_ALIASES:
            self.report_error(
                GraphQLError(f"{figures.aliases} aliases found. Allowed: {MAX_ALIASES}")
            )

    def _measure(self, selections: SelectionSetNode | None, open_: frozenset[str]) -> Figures:
        depth = aliases = 0
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                inner = self._measure(selection.selection_set, open_)
                aliases += inner.aliases + (1 if selection.alias else 0)
                is_leaf = selection.selection_set is None or selection.name.value.startswith("__")
                depth = max(depth, 0 if is_leaf else 1 + inner.depth)
            elif isinstance(selection, InlineFragmentNode):
                inner = self._measure(selection.selection_set, open_)
                depth, aliases = max(depth, inner.depth), aliases + inner.aliases
            elif isinstance(selection, FragmentSpreadNode):
                inner = self._fragment(selection.name.value, open_)
                depth, aliases = max(depth, inner.depth), aliases + inner.aliases
        return Figures(depth, aliases)

    def _fragment(self, name: str, open_: frozenset[str]) -> Figures:
        # A cycle is refused by graphql-core's own NoFragmentCycles rule; here it only must end.
        if name in self.memo:
            return self.memo[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in open_:
            return Figures(0, 0)
        figures = self._measure(fragment.selection_set, open_ | {name})
        self.memo[name] = figures
        return figures


# What a list without a page size is counted as (a project's milestones, a task's links).
LIST_ESTIMATE = 10
PAGE_ARGUMENTS = ("first", "last", "limit")
# A page's own lists: already counted by the field that asked for the page.
PAGE_CONTENTS = frozenset({"edges", "nodes"})


@lru_cache(maxsize=4)
def list_fields(schema: GraphQLSchema) -> dict[str, bool]:
    """Names of the fields that answer many objects, wherever they are: True when they take
    a page size (`first`, `limit`), False for plain lists. Names are matched across types,
    so a name that pages anywhere is counted as paging."""
    fields: dict[str, bool] = {}
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for name, field in named.fields.items():
            if name in PAGE_CONTENTS:
                continue
            pages = any(argument in field.args for argument in PAGE_ARGUMENTS)
            if pages or isinstance(get_nullable_type(field.type), GraphQLList):
                fields[name] = fields.get(name, False) or pages
    return fields


def query_cost(
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None,
    lists: Mapping[str, bool],
) -> int:
    """How many objects the answer may hold: each field 1, times the page size of every
    page it is inside (without a size, the largest page), times LIST_ESTIMATE for every
    plain list."""
    memo: dict[str, int] = {}
    values = variables or {}

    def times(field: FieldNode) -> int:
        pages = lists.get(field.name.value)
        if pages is None:
            return 1
        if not pages:
            return LIST_ESTIMATE
        for argument in field.arguments or ():
            if argument.name.value not in PAGE_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(int(value.value), 1)
            if isinstance(value, VariableNode):
                given = values.get(value.name.value)
                return max(given, 1) if isinstance(given, int) else MAX_PAGE_SIZE
        return MAX_PAGE_SIZE

    def cost(selections: SelectionSetNode | None, open_: frozenset[str]) -> int:
        total = 0
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                total += times(selection) * (1 + cost(selection.selection_set, open_))
            elif isinstance(selection, InlineFragmentNode):
                total += cost(selection.selection_set, open_)
            elif isinstance(selection, FragmentSpreadNode):
                total += fragment_cost(selection.name.value, open_)
        return total

    def fragment_cost(name: str, open_: frozenset[str]) -> int:
        if name in memo:
            return memo[name]
        fragment = fragments.get(name)
        if fragment is None or name in open_:
            return 0
        memo[name] = cost(fragment.selection_set, open_ | {name})
        return memo[name]

    return cost(operation.selection_set, frozenset())


def _operations(document: Any, operation_name: str | None) -> Iterator[OperationDefinitionNode]:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None or (definition.name and definition.name.value == operation_name)
        ):
            yield definition


class QueryCostLimit(SchemaExtension):
    """Refuse, before any resolver runs, a query whose answer could exceed MAX_COST objects.
    Runs at execution because the page sizes may come in variables."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            lists = list_fields(context.schema._schema)
            for operation in _operations(document, context.operation_name):
                cost = query_cost(operation, fragments, context.variables, lists)
                if cost > MAX_COST:
                    message = f"Query cost {cost} exceeds the cost limit of {MAX_COST}"
                    context.result = ExecutionResult(data=None, errors=[GraphQLError(message)])
                    break
        yield


class IntrospectionSetting(SchemaExtension):
    """Introspection follows the deployment's setting (on by default, for members' tokens)."""

    def on_operation(self) -> Iterator[None]:
        request = getattr(self.execution_context.context, "request", None)
        settings = getattr(getattr(getattr(request, "app", None), "state", None), "settings", None)
        if settings is not None and not settings.graphql_introspection:
            self.execution_context.validation_rules = (
                *self.execution_context.validation_rules,
                NoSchemaIntrospectionCustomRule,
            )
        yield


MAX_VARIABLE_NESTING = 32


def variables_nesting(value: Any) -> int:
    """How deep lists and objects nest inside the variables, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_VARIABLE_NESTING:
            return deepest
        if isinstance(item, dict):
            stack.extend((inner, depth + 1) for inner in item.values())
        elif isinstance(item, list):
            stack.extend((inner, depth + 1) for inner in item)
    return deepest
