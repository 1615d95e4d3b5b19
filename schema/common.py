"""Shared GraphQL parts: global ids, the UserError convention, Relay-style pages."""

import base64
import binascii
import dataclasses
import datetime
import functools
import logging
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, Generic, ParamSpec, TypeVar, cast

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from server import i18n
from server.errors import DomainError, NotFound, each_error

log = logging.getLogger(__name__)
Params = ParamSpec("Params")
PayloadT = TypeVar("PayloadT")
MAX_PAGE_SIZE = 100


_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def _url_safe_base64(text: str) -> str:
    """base64.urlsafe_b64encode's output, in one call: a page of 100 tasks prints ~360 ids
    and cursors."""
    return binascii.b2a_base64(text.encode(), newline=False).translate(_URL_SAFE).decode()


def to_global_id(type_name: str, pk: int) -> strawberry.ID:
    return _url_safe_base64(f"{type_name}:{pk}")  # type: ignore[return-value]


def from_global_id(value: str, expected: str | tuple[str, ...], *, field: str) -> int:
    """The primary key inside a global id; anything malformed or of another type is NOT_FOUND."""
    expected_types = (expected,) if isinstance(expected, str) else expected
    try:
        type_name, _, pk = base64.urlsafe_b64decode(value.encode()).decode().partition(":")
        if type_name in expected_types and pk.isdigit():
            return int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise NotFound("Nothing with this id.", field=field)


def decode_any(value: str) -> tuple[str, int] | None:
    try:
        type_name, _, pk = base64.urlsafe_b64decode(value.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return (type_name, int(pk)) if pk.isdigit() else None


@strawberry.enum
class ErrorCode(Enum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"


@strawberry.type
class UserError:
    code: ErrorCode
    field: list[str] | None
    message: str


def user_errors(error: DomainError, language: str) -> list[UserError]:
    result = []
    for item in each_error(error):
        code = ErrorCode(item.code) if item.code in ErrorCode.__members__ else ErrorCode.INVALID
        result.append(
            UserError(
                code=code,
                field=[item.field] if item.field else None,
                message=item.translated(language),
            )
        )
    return result


def refused(payload_type: Any, error: DomainError, language: str) -> Any:
    """The payload a refused mutation returns: nothing but its errors."""
    empty = {f.name: None for f in dataclasses.fields(payload_type) if f.name != "errors"}
    return payload_type(**empty, errors=user_errors(error, language))


def refusals_in_payload(
    resolver: Callable[Params, Awaitable[PayloadT]],
) -> Callable[Params, Awaitable[PayloadT]]:
    """A mutation whose refusals (any DomainError, the id decoding included) come back as its
    payload's `errors` in the caller's language; other errors stay errors. The payload type
    is the resolver's return annotation."""

    @functools.wraps(resolver)
    async def resolve(*args: Params.args, **kwargs: Params.kwargs) -> PayloadT:
        try:
            return await resolver(*args, **kwargs)
        except DomainError as error:
            info: Any = kwargs["info"]
            payload: PayloadT = refused(_payload_type(resolver), error, info.context.language)
            return payload

    return resolve


def _payload_type(resolver: Callable[..., Any]) -> Any:
    annotation = resolver.__annotations__["return"]
    return resolver.__globals__[annotation] if isinstance(annotation, str) else annotation


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def cursor_for(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def page_window(first: int | None, after: str | None) -> tuple[int, int]:
    """(offset, limit) from Relay arguments; a page larger than 100 is refused by name."""
    limit = MAX_PAGE_SIZE if first is None else first
    if limit < 0 or limit > MAX_PAGE_SIZE:
        raise PageSizeError(
            i18n.gettext("first must be between 0 and %(max)s (page size limit)", max=MAX_PAGE_SIZE)
        )
    offset = 0
    if after:
        decoded = decode_any(after)
        if decoded is None or decoded[0] != "offset":
            raise PageSizeError(i18n.gettext("after is not a cursor of this list"))
        offset = decoded[1] + 1
    return offset, limit


class PageSizeError(Exception):
    """A bad page request; GraphQL reports its message as a top-level error."""


NodeT = TypeVar("NodeT")


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    # Known already (an offset page counted it), or counted only when a client asks.
    total: strawberry.Private[int | None] = None
    counter: strawberry.Private[Callable[[], Awaitable[int]] | None] = None

    @strawberry.field
    async def total_count(self) -> int:
        if self.total is None:
            assert self.counter is not None
            self.total = await self.counter()
        return self.total


def connection(items: list[NodeT], *, offset: int, total: int) -> Connection[NodeT]:
    edges = [Edge(cursor=cursor_for(offset + i), node=item) for i, item in enumerate(items)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=offset + len(items) < total,
            has_previous_page=offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total=total,
    )


@dataclasses.dataclass(frozen=True)
class Keyset:
    """Where a keyset page starts: after the row with this sort key and id."""

    key: str
    pk: int


def keyset_cursor(list_name: str, key: str, pk: int) -> str:
    return _url_safe_base64(f"{list_name}:{key}:{pk}")


def keyset_window(
    list_name: str, first: int | None, after: str | None
) -> tuple[Keyset | None, int]:
    """(where the page starts, its size) from Relay arguments; a page larger than 100 or a
    cursor of another list is refused by name."""
    limit = MAX_PAGE_SIZE if first is None else first
    if limit < 0 or limit > MAX_PAGE_SIZE:
        raise PageSizeError(
            i18n.gettext("first must be between 0 and %(max)s (page size limit)", max=MAX_PAGE_SIZE)
        )
    if not after:
        return None, limit
    try:
        name, key, pk = base64.urlsafe_b64decode(after.encode()).decode().split(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        name, key, pk = "", "", ""
    if name != list_name or not pk.isdigit() or not key.isascii():
        raise PageSizeError(i18n.gettext("after is not a cursor of this list"))
    return Keyset(key, int(pk)), limit


def keyset_connection(
    list_name: str,
    rows: list[Any],
    *,
    limit: int,
    after: Keyset | None,
    key: Callable[[Any], str],
    node: Callable[[Any], NodeT],
    counter: Callable[[], Awaitable[int]],
) -> Connection[NodeT]:
    """A page read as `limit + 1` rows past the cursor: the extra row only says a next page
    exists. The total is counted only if the client asks for it."""
    page = rows[:limit]
    edges = [Edge(cursor=keyset_cursor(list_name, key(r), r.id), node=node(r)) for r in page]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > limit,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        counter=counter,
    )


def later(awaitable: Awaitable[Any]) -> Any:
    """What a plain (non-async) resolver returns when it must read after all: graphql-core
    awaits whatever a resolver hands back. A plain resolver answers from rows read ahead
    with no coroutine, task or future per item: on a page of 100 tasks most of the time
    went to those."""
    return awaitable


NOT_READ_AHEAD: Any = object()


def read_ahead_answer(
    answer: Callable[[Any, Any, list[FieldNode]], Any],
) -> Callable[[Callable[Params, PayloadT]], Callable[Params, PayloadT]]:
    """Marks a resolver whose answer may already be at hand (rows read ahead for a page,
    in the request's context, or the parent's own columns): `answer(source, context,
    field_nodes)` gives it, or NOT_READ_AHEAD to call the resolver. The executor
    (schema/execution.py) asks it first, without the resolve info, path and wrappers a
    resolver call costs; it must only read. graphql-core's own executor calls the resolver,
    so both must give the same answer."""

    def mark(resolver: Callable[Params, PayloadT]) -> Callable[Params, PayloadT]:
        resolver.read_ahead_answer = answer  # type: ignore[attr-defined]
        return resolver

    return mark


# Answers read off the query document alone, kept per field node for the life of the process:
# a parsed document is cached and reused by every request that sends the same text.
_by_field_node: dict[tuple[Any, ...], tuple[Any, Any]] = {}
_BY_FIELD_NODE_LIMIT = 4096


def _memo(info: Any, name: str, work: Callable[[Any, Any], Any]) -> Any:
    raw = info._raw_info
    return _memo_of_nodes(raw.field_nodes, lambda: raw.fragments, name, work)


def _memo_of_nodes(
    nodes: list[FieldNode],
    fragments: Callable[[], Any],
    name: str,
    work: Callable[[Any, Any], Any],
) -> Any:
    """`work(field_nodes, fragments)` once per set of a field's nodes in a document (a
    field asked twice, once under a directive, has one node or two from one request to the
    next). The nodes are kept with the answer, so their ids are not reused meanwhile."""
    key = (name, *map(id, nodes))
    found = _by_field_node.get(key)
    if found is not None:
        return found[1]
    if len(_by_field_node) >= _BY_FIELD_NODE_LIMIT:
        _by_field_node.clear()
    answer = work(nodes, fragments())
    _by_field_node[key] = (tuple(nodes), answer)
    return answer


def selects_only_id(info: Any) -> bool:
    """Whether the field's selection asks for the id alone (and perhaps __typename): then
    the id the parent row holds answers it without reading the object."""
    return selects_only_id_of(info._raw_info.field_nodes)


def selects_only_id_of(field_nodes: list[FieldNode]) -> bool:
    return bool(_memo_of_nodes(field_nodes, dict, "only-id", _selects_only_id))


def node_fields(info: Any) -> frozenset[str]:
    """The fields a connection's query asks of each node (under edges { node { … } }).
    Read off the document without its directives: a field skipped by one is at most read
    ahead for nothing."""
    return cast(frozenset[str], _memo(info, "node-fields", _node_fields))


def _node_fields(nodes: list[FieldNode], fragments: dict[str, Any]) -> frozenset[str]:
    names: set[str] = set()
    for selected in nodes:
        for edges in _fields(selected.selection_set, fragments):
            if edges.name.value != "edges":
                continue
            for node in _fields(edges.selection_set, fragments):
                if node.name.value == "node":
                    names.update(f.name.value for f in _fields(node.selection_set, fragments))
    return frozenset(names)


def _fields(selection_set: SelectionSetNode | None, fragments: dict[str, Any]) -> list[FieldNode]:
    """Fields of a selection, fragments opened (validation has refused cycles)."""
    found: list[FieldNode] = []
    for selection in selection_set.selections if selection_set is not None else ():
        if isinstance(selection, FieldNode):
            found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            found += _fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                found += _fields(fragment.selection_set, fragments)
    return found


def _selects_only_id(nodes: list[FieldNode], fragments: dict[str, Any]) -> bool:
    for selected in nodes:
        selections = selected.selection_set.selections if selected.selection_set else ()
        for selection in selections:
            if not isinstance(selection, FieldNode):
                return False  # a fragment: read the object
            if selection.name.value not in ("id", "__typename"):
                return False
            if selection.directives:
                return False
    return True


def event_time(event: Any) -> datetime.datetime | None:
    """When the event happened (its "at", written by the publisher in ISO 8601)."""
    at = event.data.get("at")
    try:
        return datetime.datetime.fromisoformat(at) if at else None
    except (TypeError, ValueError):
        return None
