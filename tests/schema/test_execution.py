"""The lean executor (schema/execution.py) answers exactly as graphql-core's own: the same
data, the same errors at the same paths, the same nulls left by them, loads still batched.
Each case runs one document through two schemas built from the same types, one with each
executor, and compares what a client would receive."""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Any

import pytest
import strawberry
from strawberry.dataloader import DataLoader
from strawberry.extensions import ParserCache
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

import schema as xietong_schema
from schema.common import NOT_READ_AHEAD, read_ahead_answer, to_global_id
from schema.execution import LeanExecutionContext
from server.planning import service as planning
from server.planning.models import Task
from tests import factories as f
from tests.schema.test_graphql import gql, token_for
from tests.schema.test_reads import outline_project


class Broken(Exception):
    pass


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class StoredColour(StrEnum):
    """An enum of the database layer with the same values as the API's."""

    RED = "red"


@strawberry.type
class Leaf:
    label: str
    count: int | None
    must: str  # None in some rows: graphql-core's non-null error
    colour: Colour | None = None

    @strawberry.field
    def fails(self) -> str:
        raise Broken("no value")

    @strawberry.field
    def fails_quietly(self) -> str | None:
        raise Broken("no value either")

    @strawberry.field
    async def loaded(self, info: strawberry.Info) -> str:
        return str(await info.context["loader"].load(self.label))

    @strawberry.field
    @read_ahead_answer(lambda leaf, context, field_nodes: _read_ahead(leaf.label))
    def ahead(self, info: strawberry.Info) -> str | None:
        """Answered from what was read ahead for some labels, by this resolver for the
        others; both refuse "b" (an error at the field) and agree on everything else."""
        info.context.setdefault("called", []).append(self.label)
        if self.label == "b":
            raise Broken("no value ahead")
        return None if self.label == "x" else f"ahead {self.label}"

    @strawberry.field
    @read_ahead_answer(lambda leaf, context, field_nodes: NOT_READ_AHEAD)
    def partner(self) -> Leaf | None:
        """Never read ahead: always the resolver's answer."""
        return None


def _read_ahead(label: str) -> Any:
    if label == "b":
        raise Broken("no value ahead")
    return {"a": "ahead a", "0": "ahead 0", "x": None}.get(label, NOT_READ_AHEAD)


@strawberry.interface
class Labelled:
    label: str


@strawberry.type
class Tagged(Labelled):
    """A type with an interface: graphql-core checks an object's type before its fields."""

    tag: str


@strawberry.type
class Odd:
    """Values a row may hold that are not the scalar's own Python type: printed (or refused)
    by graphql-core's serializers, never passed through as they are."""

    big: int | None  # beyond 32 bits: refused
    flag_as_int: int
    text_as_int: int
    number_as_text: str
    flag_as_text: str
    id_from_int: strawberry.ID
    fine: int
    fine_text: str


@strawberry.type
class Wrapper:
    odd: Odd
    leaf: Leaf | None
    strict_leaf: Leaf
    leaves: list[Leaf]
    coloured: list[Leaf]
    maybe_leaves: list[Leaf | None] | None
    exploding: str | None
    exploding_leaves: list[Leaf | None]
    wrong: Leaf | None  # holds something that is not a Leaf
    absent: Leaf  # holds None
    strict_holes: list[Leaf]  # holds a None among leaves
    letters: list[Leaf] | None  # holds a string, which Python would iterate
    tagged: Tagged | None
    mistagged: Tagged | None  # holds a Leaf, whose label reads like a Tagged's

    @strawberry.field
    def picked(self, info: strawberry.Info) -> list[Leaf]:
        return [Leaf(label=info.field_name, count=None, must="m"), self.leaf]  # type: ignore[list-item]

    @strawberry.field
    def same(self) -> list[Leaf]:
        """One object three times: a columns-only selection is completed once for it."""
        return [self.leaf, self.leaf, self.leaf]  # type: ignore[list-item]

    @strawberry.field
    def same_exploding(self) -> list[Leaf | None]:
        broken = Exploding()
        return [broken, broken]  # type: ignore[list-item]

    @strawberry.field
    def holes(self) -> list[Leaf]:
        return [Leaf(label="h", count=None, must="m"), None]  # type: ignore[list-item]

    @strawberry.field
    def missing(self) -> Leaf:
        return None  # type: ignore[return-value]

    @strawberry.field
    async def later(self) -> Leaf | None:
        return self.leaf


class Exploding:
    """What a resolver may hand back: an object whose attributes raise when read."""

    @property
    def exploding(self) -> str:
        raise Broken("a property that raises")

    label = exploding


class WrapperSource(Exploding):
    odd = Odd(
        big=2**40,
        flag_as_int=True,
        text_as_int="7",  # type: ignore[arg-type]
        number_as_text=12,  # type: ignore[arg-type]
        flag_as_text=False,  # type: ignore[arg-type]
        id_from_int=5,  # type: ignore[arg-type]
        fine=2**31 - 1,
        fine_text="好",
    )
    leaf = Leaf(label="a", count=1, must="m")
    strict_leaf = Leaf(label="b", count=None, must=None)  # type: ignore[arg-type]
    leaves = [Leaf(label=str(i), count=i, must="m") for i in range(3)]
    # An enum printed from its member, its value, another enum's member with that value;
    # refused for a value it does not have and for one that cannot even be looked up.
    coloured = [
        Leaf(label=str(i), count=i, must="m", colour=colour)  # type: ignore[arg-type]
        for i, colour in enumerate(
            [Colour.RED, Colour.RED, "red", StoredColour.RED, Colour.BLUE, "purple", ["red"]]
        )
    ]
    maybe_leaves = [Leaf(label="x", count=None, must="m"), None]
    exploding_leaves = [Leaf(label="y", count=2, must="m"), Exploding()]
    wrong = "not a leaf"
    absent = None
    strict_holes = [Leaf(label="s", count=1, must="m"), None]
    letters = "ab"
    tagged = Tagged(label="t", tag="x")
    mistagged = Leaf(label="m", count=1, must="m")


@strawberry.type
class Query:
    @strawberry.field
    def wrapper(self) -> Wrapper | None:
        return WrapperSource()  # type: ignore[return-value]


def schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    return (
        strawberry.Schema(Query, execution_context_class=StrawberryGraphQLCoreExecutionContext),
        strawberry.Schema(Query, execution_context_class=LeanExecutionContext),
    )


async def both(document: str) -> tuple[dict[str, Any], dict[str, Any], list[list[str]]]:
    answers, batches = [], []
    for each in schemas():
        calls: list[list[str]] = []

        async def load(keys: list[str], calls: list[list[str]] = calls) -> list[str]:
            calls.append(list(keys))
            return [f"loaded {k}" for k in keys]

        result = await each.execute(document, context_value={"loader": DataLoader(load)})
        answers.append(
            {
                "data": result.data,
                "errors": sorted(
                    (e.formatted for e in result.errors or []), key=lambda e: str(e["path"])
                ),
            }
        )
        batches.append([sorted(keys) for keys in calls])
    assert batches[0] == batches[1]  # the same keys in the same number of batches
    return answers[0], answers[1], batches[1]


@pytest.mark.parametrize(
    "document",
    [
        "{ wrapper { leaf { label count } leaves { label count } maybeLeaves { label } } }",
        # scalars printed by their serializers, and an Int beyond 32 bits refused
        "{ wrapper { coloured { label colour } leaves { colour } } }",
        "{ wrapper { odd { big flagAsInt textAsInt numberAsText flagAsText idFromInt fine"
        " fineText } } }",
        "{ wrapper { ... on Wrapper { l: leaf { __typename x: label } } leaves { label } } }",
        # a null where the type forbids one: the error at the field, the null one level up
        "{ wrapper { leaf { label } strictLeaf { label must } } }",
        # an error below a field read directly, in a nullable and in a non-null position
        "{ wrapper { leaf { label fails } leaves { label } } }",
        "{ wrapper { leaf { label failsQuietly } leaves { label failsQuietly } } }",
        "{ wrapper { leaves { label fails } leaf { label } } }",
        "{ wrapper { maybeLeaves { label fails } leaf { label } } }",
        # an attribute that raises, and an object field holding the wrong thing
        "{ wrapper { exploding explodingLeaves { label count } leaf { label } } }",
        "{ wrapper { wrong { label } leaf { label } } }",
        # fields held by their parent (the compiled path's), each irregular in its own way
        "{ wrapper { absent { label } } }",
        "{ wrapper { letters { __typename } leaf { label } } }",
        "{ wrapper { strictHoles { label } leaf { label } } }",
        "{ wrapper { tagged { __typename label tag } mistagged { label } } }",
        "{ wrapper { leaves { __typename label count } leaf { __typename } } }",
        # resolvers of their own: values, lists with a null where none may be, a null
        # object where none may be, an awaited object
        "{ wrapper { picked { label } leaf { label } } }",
        "{ wrapper { holes { label } leaf { label } } }",
        "{ wrapper { missing { label } } }",
        "{ wrapper { later { label fails } leaf { label } } }",
        "{ wrapper { later { label failsQuietly loaded } leaf { label } } }",
        # one object recurring: answered alike each time, its errors at each path
        "{ wrapper { same { label count } leaf { label count } } }",
        "{ wrapper { same { label fails } } }",
        "{ wrapper { sameExploding { label } same { count } } }",
        # answers read ahead, or else the resolver's; an error either way at the field
        "{ wrapper { leaf { ahead } leaves { label ahead } maybeLeaves { ahead } } }",
        "{ wrapper { strictLeaf { label ahead } } }",
        "{ wrapper { leaf { partner { __typename } } leaves { partner { label } } } }",
        # loads from every item of a list, in one batch
        "{ wrapper { leaves { label loaded } maybeLeaves { loaded } leaf { loaded } } }",
    ],
)
async def test_the_lean_executor_answers_as_graphql_core_does(document):
    ordinary, lean, batches = await both(document)
    assert lean == ordinary
    if "loaded" in document:
        assert len(batches) == 1  # one DataLoader call for every item, as before


async def test_a_directive_below_a_field_is_followed_on_each_request():
    """One document, parsed once (as the API's parser cache keeps it), sent with a variable
    that changes what is asked below a field: each answer follows its own request."""
    lean = strawberry.Schema(
        Query,
        execution_context_class=LeanExecutionContext,
        extensions=[lambda: ParserCache(maxsize=8)],
    )
    document = """query($count: Boolean!) {
      wrapper { leaf { label count @include(if: $count) } leaves { label count @skip(if: $count) } }
    }"""
    answers = [
        (await lean.execute(document, variable_values={"count": count})).data
        for count in (True, False, True)
    ]
    with_count = {"label": "a", "count": 1}
    without = [{"label": str(i), "count": i} for i in range(3)]
    assert (
        answers[0]
        == answers[2]
        == {"wrapper": {"leaf": with_count, "leaves": [{"label": str(i)} for i in range(3)]}}
    )
    assert answers[1] == {"wrapper": {"leaf": {"label": "a"}, "leaves": without}}


async def test_an_answer_read_ahead_is_taken_without_calling_the_resolver():
    ordinary, lean = schemas()
    document = "{ wrapper { leaf { ahead } leaves { label ahead } } }"
    calls = {}
    for name, each in (("ordinary", ordinary), ("lean", lean)):
        context: dict[str, Any] = {}
        result = await each.execute(document, context_value=context)
        assert result.data == {
            "wrapper": {
                "leaf": {"ahead": "ahead a"},
                "leaves": [
                    {"label": "0", "ahead": "ahead 0"},
                    {"label": "1", "ahead": "ahead 1"},
                    {"label": "2", "ahead": "ahead 2"},
                ],
            }
        }
        calls[name] = context["called"]
    assert calls == {"ordinary": ["a", "0", "1", "2"], "lean": ["1", "2"]}


async def test_errors_and_nulls_are_where_a_client_expects_them():
    _, lean, _ = await both("{ wrapper { leaf { label } strictLeaf { label must } } }")
    # strictLeaf is non-null, so its error nulls the whole wrapper
    assert lean["data"] == {"wrapper": None}
    assert [e["path"] for e in lean["errors"]] == [["wrapper", "strictLeaf", "must"]]

    _, lean, _ = await both("{ wrapper { maybeLeaves { label fails } leaf { label } } }")
    assert lean["data"] == {"wrapper": {"maybeLeaves": [None, None], "leaf": {"label": "a"}}}
    assert [e["path"] for e in lean["errors"]] == [["wrapper", "maybeLeaves", 0, "fails"]]


QUERY = """query Tasks($id: ID!, $first: Int!, $after: String) {
  project(id: $id) {
    tasks(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id wbsCode name plannedStart durationDays percentComplete status
        owner { name } dependencies { type lagDays predecessor { id name } } } }
    }
  }
}"""


async def test_a_page_of_tasks_is_the_same_through_either_executor(http, monkeypatch):
    pm = await f.user(name="王芳")
    project = await outline_project(pm, "EX1", leaves=12)
    by_code = {t.wbs_code: t for t in await Task.filter(project_id=project.id)}
    for before, after in (("1.1", "1.2"), ("1.2", "1.3"), ("1.1", "1.3")):
        await planning.add_dependency(
            f.actor(pm),
            predecessor_id=by_code[before].id,
            successor_id=by_code[after].id,
            type="FS",
            lag_days=1,
        )
    token = await token_for(pm)
    variables = {"id": to_global_id("Project", project.id), "first": 10}

    lean = (await gql(http, token, QUERY, variables)).json()
    monkeypatch.setattr(
        xietong_schema.schema, "execution_context_class", StrawberryGraphQLCoreExecutionContext
    )
    ordinary = (await gql(http, token, QUERY, variables)).json()

    assert lean == ordinary
    edges = lean["data"]["project"]["tasks"]["edges"]
    assert [e["node"]["wbsCode"] for e in edges][:4] == ["1", "1.1", "1.2", "1.3"]
    assert sorted(d["predecessor"]["name"] for d in edges[3]["node"]["dependencies"]) == sorted(
        [by_code["1.1"].name, by_code["1.2"].name]
    )
    assert edges[1]["node"]["owner"] is None and edges[3]["node"]["dependencies"][0]["lagDays"] == 1
