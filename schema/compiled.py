"""A selection's answer written out as Python, once per process, as graphql-jit does for
JavaScript.

The lean executor (schema/execution.py) still walks each object field by field: for every
field it looks up how to run it, reads it, checks and prints the value, and for an object
or a list goes down a level through half a dozen calls. A page of 100 tasks does that some
2,000 times. For a selection whose every field is plain (a column, an object or list held
by the parent, an answer read ahead for the page, `__typename`), this module writes one
function that builds the object's answer in straight-line code.

The compiled function decides only the regular case. Anything else (a value the scalar's
own Python type does not match and its serializer refuses, a null where none is allowed,
an object of another type, an answer not read ahead, any exception) raises and the
executor answers that object the ordinary way from the start, so errors, their paths and
the nulls they leave stay graphql-core's own. It only reads, so starting again is safe.
"""

from collections.abc import Callable
from dataclasses import dataclass
from keyword import iskeyword
from typing import Any

from graphql.pyutils import Undefined

from schema.common import NOT_READ_AHEAD

Answer = Callable[[Any, Any], dict[str, Any]]


class Irregular(Exception):  # noqa: N818 - not an error: the ordinary path decides
    """The compiled path does not decide this object."""


@dataclass(frozen=True, slots=True)
class Field:
    """What the compiler needs of one field of a selection."""

    response_name: str
    kind: str  # TYPENAME, LEAF, OBJECT or OBJECT_LIST
    typename: str = ""  # for TYPENAME
    python_name: str = ""
    read: Callable[[Any, str], Any] | None = None  # the default resolver, for a column
    read_ahead: Callable[[Any, Any, Any], Any] | None = None
    field_nodes: Any = None  # handed to read_ahead
    plain: Any = None  # printed through it (schema.execution._printed)
    exact: type | None = None  # a Python type printed as it is
    required: bool = False
    item_required: bool = False
    is_type_of: Callable[[Any, Any], Any] | None = None
    child: Answer | None = None  # the compiled selection under an object or list


TYPENAME, LEAF, OBJECT, OBJECT_LIST = "typename", "leaf", "object", "object list"


def compile_selection(
    type_name: str, fields: list[Field], printed: Callable[[Any, Any], Any]
) -> Answer:
    """`answer(source, context)`: the selection's answer for one object, or Irregular."""
    env: dict[str, Any] = {
        "Irregular": Irregular,
        "NOT_READ_AHEAD": NOT_READ_AHEAD,
        "Undefined": Undefined,
        "printed": printed,
    }
    lines = ["def answer(source, context):", "    d = {}"]
    for number, field in enumerate(fields):
        lines += _field_lines(number, field, env)
    lines.append("    return d")
    code = compile("\n".join(lines), f"<selection of {type_name}>", "exec")
    exec(code, env)  # noqa: S102 - source written above from the schema's own names
    answer: Answer = env["answer"]
    return answer


def _field_lines(n: int, field: Field, env: dict[str, Any]) -> list[str]:
    key = repr(field.response_name)
    if field.kind == TYPENAME:
        return [f"    d[{key}] = {field.typename!r}"]
    lines = _value_lines(n, field, env)
    if field.kind == LEAF:
        env[f"plain{n}"] = field.plain
        return [*lines, *_printed_lines(n, field), f"    d[{key}] = v"]
    env[f"answer{n}"] = field.child
    if field.is_type_of is not None:
        env[f"is_type_of{n}"] = field.is_type_of
    if field.kind == OBJECT:
        return [
            *lines,
            "    if v is None:",
            "        raise Irregular" if field.required else f"        d[{key}] = None",
            "    else:",
            *_checked("v", n, field, "        "),
            f"        d[{key}] = answer{n}(v, context)",
        ]
    return [
        *lines,
        "    if v is None:",
        "        raise Irregular" if field.required else f"        d[{key}] = None",
        "    else:",
        "        if type(v) is not list and type(v) is not tuple:",
        "            raise Irregular",
        "        items = []",
        "        for item in v:",
        "            if item is None:",
        "                raise Irregular"
        if field.item_required
        else "                items.append(None)",
        "                continue",
        *_checked("item", n, field, "            "),
        f"            items.append(answer{n}(item, context))",
        f"        d[{key}] = items",
    ]


def _value_lines(n: int, field: Field, env: dict[str, Any]) -> list[str]:
    if field.read_ahead is not None:
        env[f"read_ahead{n}"] = field.read_ahead
        env[f"nodes{n}"] = field.field_nodes
        return [
            f"    v = read_ahead{n}(source, context, nodes{n})",
            "    if v is NOT_READ_AHEAD:",
            "        raise Irregular",
        ]
    name = field.python_name
    if field.read is getattr and name.isidentifier() and not iskeyword(name):
        return [f"    v = source.{name}"]
    env[f"read{n}"] = field.read
    return [f"    v = read{n}(source, {name!r})"]


def _printed_lines(n: int, field: Field) -> list[str]:
    """As schema.execution._printed: the scalar's own Python type as it is, anything else
    through its serializer, Irregular where that refuses."""
    slow = [
        f"        v = printed(plain{n}, v)",
        "        if v is Undefined:",
        "            raise Irregular",
    ]
    if field.exact is str:
        return ["    if type(v) is not str:", *slow]
    if field.exact is bool:
        return ["    if type(v) is not bool:", *slow]
    if field.exact is int:
        return ["    if type(v) is not int or not -2147483648 <= v <= 2147483647:", *slow]
    return ["    if True:", *slow]


def _checked(name: str, n: int, field: Field, indent: str) -> list[str]:
    if field.is_type_of is None:
        return []
    return [f"{indent}if is_type_of{n}({name}, None) is not True:", f"{indent}    raise Irregular"]
