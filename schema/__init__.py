"""The GraphQL API at /graphql: Bearer tokens only, limits on, errors in the caller's language."""

import asyncio
import json
import logging
import re
from typing import Any

import orjson
import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import Info
from strawberry.types.unset import UnsetType

from schema.changes import ChangeMutation, ChangeRequest
from schema.closing import ClosingMutation, ClosingQuery, RetrospectiveMutation
from schema.closing_report import ClosingReportMutation
from schema.common import PageSizeError, decode_any
from schema.context import Context
from schema.discussion import Comment, DiscussionMutation
from schema.events import EventSubscription
from schema.execution import LeanExecutionContext
from schema.limits import (
    MAX_VARIABLE_NESTING,
    DocumentLimitsRule,
    IntrospectionSetting,
    QueryCostLimit,
    variables_nesting,
)
from schema.meetings import Meeting, MeetingMutation, MeetingQuery, MeetingSubscription
from schema.notices import NoticeMutation, NoticeQuery
from schema.org import Department, Node, OrgMutation, OrgQuery, User
from schema.plan_import import PlanImportMutation
from schema.planning import PlanningMutation, Task
from schema.progress import ProgressMutation, ProgressQuery
from schema.projects import Project, ProjectMember, ProjectMutation, ProjectQuery
from schema.requirements import Requirement, RequirementMutation, ResourceRequest
from schema.risks import Problem, Risk, RiskMutation, RiskRegisterMutation
from schema.signoffs import SignableDocument, SignoffMutation, load_document
from server import i18n, metrics
from server.auth import Actor
from server.changes import service as changes
from server.discussion import service as discussion
from server.errors import NotFound
from server.meetings import queries as meeting_queries
from server.org import service as org
from server.planning import queries as planning_queries
from server.projects import service as projects
from server.requirements import resources as resource_service
from server.requirements import service as requirement_service
from server.risks import problems as risk_problems
from server.risks import queries as risk_queries
from server.settings import Settings
from server.signoffs import queries as signoff_queries

log = logging.getLogger(__name__)

MAX_TOKENS = 2000


async def _resolve_node(info: Info[Context, None], type_name: str, pk: int) -> Node | None:
    """Every node lookup is scoped to what the actor may see."""
    actor = info.context.actor
    try:
        if type_name == "Project":
            return Project.of(await projects.get_project(actor, project_id=pk))
        if type_name == "ProjectMember":
            return ProjectMember.of(await projects.get_member(actor, member_id=pk))
        if type_name == "User":
            return User.of(await org.get_user(actor, pk))
        if type_name == "Department":
            return Department.of(await org.get_department(actor, pk))
        if type_name == "Task":
            return Task.of(await planning_queries.get_task(actor, task_id=pk))
        if type_name == "Meeting":
            return Meeting.of(await meeting_queries.get_meeting(actor, meeting_id=pk))
        if type_name == "Requirement":
            return Requirement.of(
                await requirement_service.get_requirement(actor, requirement_id=pk)
            )
        if type_name == "ResourceRequest":
            return ResourceRequest.of(await resource_service.get_request(actor, request_id=pk))
        if type_name == "Risk":
            return Risk.of(await risk_queries.get_risk(actor, risk_id=pk))
        if type_name == "Problem":
            return Problem.of(await risk_problems.get_problem(actor, problem_id=pk))
        if type_name == "Comment":
            return Comment.of(await discussion.get_comment(actor, comment_id=pk))
        if type_name == "ChangeRequest":
            change = await changes.get_change_request(actor, request_id=pk)
            return ChangeRequest.of(await changes.refresh_impact(change))
        if type_name == "SignableDocument":
            row = await signoff_queries.get_document_by_id(actor, document_id=pk)
            return await load_document(info, row)
    except NotFound:
        return None
    return None


@strawberry.type
class Query(OrgQuery, ProjectQuery, ProgressQuery, MeetingQuery, NoticeQuery, ClosingQuery):
    @strawberry.field
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        decoded = decode_any(id)
        if decoded is None:
            return None
        return await _resolve_node(info, *decoded)


@strawberry.type
class Mutation(
    OrgMutation,
    ProjectMutation,
    PlanningMutation,
    PlanImportMutation,
    SignoffMutation,
    ProgressMutation,
    RiskMutation,
    RiskRegisterMutation,
    RequirementMutation,
    MeetingMutation,
    DiscussionMutation,
    NoticeMutation,
    ClosingMutation,
    RetrospectiveMutation,
    ClosingReportMutation,
    ChangeMutation,
):
    pass


@strawberry.type
class Subscription(EventSubscription, MeetingSubscription):
    pass


OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class CountOperations(strawberry.extensions.SchemaExtension):
    """Operations by name for /metrics. Names come from the client, so only a well-formed
    GraphQL name of bounded length becomes a label."""

    def on_operation(self) -> Any:
        yield
        context = self.execution_context
        name = context.operation_name or ""
        if not OPERATION_NAME.fullmatch(name):
            name = "anonymous"
        result = context.result
        outcome = "error" if result is None or getattr(result, "errors", None) else "ok"
        metrics.GRAPHQL_OPERATIONS.labels(name, outcome).inc()


class LimitErrors(strawberry.extensions.SchemaExtension):
    """Say which limit refused a query: page size errors come through as plain messages."""

    def on_execute(self) -> Any:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        result.errors = [
            GraphQLError(str(e.original_error), path=e.path, nodes=e.nodes)
            if isinstance(e.original_error, PageSizeError)
            else e
            for e in result.errors
        ]


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[
        Project,
        ProjectMember,
        User,
        Department,
        Task,
        SignableDocument,
        Problem,
        Risk,
        Meeting,
        Requirement,
        ResourceRequest,
    ],
    execution_context_class=LeanExecutionContext,
    extensions=[
        CountOperations,
        lambda: AddValidationRules([DocumentLimitsRule]),
        IntrospectionSetting,
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        QueryCostLimit,
        LimitErrors,
        # Phones send the same few documents all day: parse and validate each once
        # (after the limiters above, whose options are part of the cache key).
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ],
)


class XietongGraphQL(GraphQL[Context, None]):
    # orjson: several times faster than json on a page of 100 tasks, and Chinese text goes
    # out as UTF-8, not six-byte \u escapes (bench/reads.py).
    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def get_context(self, request: Any, response: Any) -> Context:
        actor: Actor | None = request.scope.get("xietong.actor")
        if actor is None:
            # A websocket before connection_init: nobody yet, on_ws_connect decides.
            language = i18n.negotiate(request.headers.get("accept-language"))
            actor = Actor(user=None, language=language, is_admin=False)
        # Messages made outside a resolver's payload (page-size refusals) speak it too.
        i18n.current_language.set(actor.language)
        return Context(actor=actor, language=actor.language, request=request, response=response)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws: connection_init's payload carries the Bearer token."""
        params = context.connection_params or {}
        header = str(params.get("Authorization") or params.get("authorization") or "")
        scheme, _, token = header.partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" else None
        actor = await org.actor_for_api_token(bearer, context.language)
        if actor is None:
            raise ConnectionRejectionError({"message": "unauthenticated"})
        context.actor = actor
        context.language = actor.language
        return None

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        for error in errors:
            if error.original_error is not None and not isinstance(
                error.original_error, PageSizeError
            ):
                log.error("GraphQL resolver failed", exc_info=error.original_error)


def _unauthenticated(language: str) -> Response:
    message = i18n.translate(language, "Send a valid API token as 'Authorization: Bearer <token>'.")
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def _refused(message: str, status: int) -> Response:
    return JSONResponse({"data": None, "errors": [{"message": message}]}, status_code=status)


def _too_deeply_nested(body: bytes) -> bool:
    if not body:
        return False
    try:
        payload = json.loads(body)
    except RecursionError:
        return True
    except ValueError:
        return False  # Strawberry answers malformed JSON itself.
    variables = payload.get("variables") if isinstance(payload, dict) else payload
    return variables_nesting(variables) > MAX_VARIABLE_NESTING


def _replay(body: bytes) -> Receive:
    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _with_time_limit(
    app: ASGIApp, settings: Settings, language: str, scope: Scope, receive: Receive, send: Send
) -> None:
    """Cancel a request that runs past the limit, so one request cannot hold the process."""
    started = False

    async def tracking_send(message: Message) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        async with asyncio.timeout(settings.request_timeout_seconds):
            await app(scope, receive, tracking_send)
    except TimeoutError:
        log.warning("GraphQL request cancelled after %ss", settings.request_timeout_seconds)
        if started:
            return
        message = i18n.translate(
            language,
            "The request took longer than the time limit of %(seconds)s seconds.",
            seconds=i18n.format_number(settings.request_timeout_seconds, language),
        )
        await _refused(message, 503)(scope, receive, send)


def graphql_routes(settings: Settings) -> list[BaseRoute]:
    graphql_app = XietongGraphQL(
        schema,
        graphql_ide="graphiql" if settings.dev else None,
        allow_queries_via_get=False,
        # uploadAttachment: the GraphQL multipart request spec. Bearer tokens, not cookies,
        # authenticate the API, so a cross-site form cannot post one.
        multipart_uploads_enabled=True,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
    )

    class Endpoint:
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await handle(scope, receive, send)

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        language = i18n.negotiate(request.headers.get("accept-language"))
        i18n.current_language.set(language)
        if request.method == "GET":
            if not settings.dev:
                await Response("Not Found", status_code=404)(scope, receive, send)
                return
            await graphql_app(scope, receive, send)
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" else None
        actor = await org.actor_for_api_token(bearer, language)
        if actor is None:
            await _unauthenticated(language)(scope, receive, send)
            return
        body = await request.body()
        if _too_deeply_nested(body):
            message = i18n.translate(
                language, "The request nests deeper than %(max)s levels.", max=MAX_VARIABLE_NESTING
            )
            await _refused(message, 400)(scope, receive, send)
            return
        scope["xietong.actor"] = actor
        await _with_time_limit(graphql_app, settings, language, scope, _replay(body), send)

    return [
        Route("/graphql", endpoint=Endpoint(), methods=["GET", "POST"]),
        WebSocketRoute("/graphql", endpoint=graphql_app),
    ]
