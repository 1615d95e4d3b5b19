"""Group-chat robots (DingTalk, Feishu, WeCom or a generic webhook) that notices post to: a
project's own, a department's, or the company's."""

import strawberry
from strawberry.types import Info

from schema.common import UserError, from_global_id, refusals_in_payload, to_global_id
from schema.context import Context
from schema.org import Department, Node
from server.notices.models import ChatRobot as ChatRobotRow
from server.projects import chat_robots
from server.projects import service as projects


@strawberry.type
class ChatRobot(Node):
    kind: str
    name: str
    active: bool
    project_code: str | None
    department_pk: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: ChatRobotRow, project_code: str | None) -> "ChatRobot":
        # The webhook address and its secret are credentials: never read back.
        return cls(
            id=to_global_id("ChatRobot", row.id),
            kind=row.kind.value,
            name=row.name,
            active=row.active,
            project_code=project_code,
            department_pk=row.department_id,
        )

    @strawberry.field
    async def department(self, info: Info[Context, None]) -> Department | None:
        if self.department_pk is None:
            return None
        row = await info.context.departments.load(self.department_pk)
        return Department.of(row) if row else None


@strawberry.input
class AddChatRobotInput:
    kind: str = strawberry.field(description="DINGTALK, FEISHU, WECOM or GENERIC.")
    name: str
    url: str
    secret: str = ""
    project_id: strawberry.ID | None = None
    department_id: strawberry.ID | None = None


@strawberry.input
class RemoveChatRobotInput:
    id: strawberry.ID


@strawberry.type
class ChatRobotPayload:
    robot: ChatRobot | None
    errors: list[UserError]


@strawberry.type
class NoticeQuery:
    @strawberry.field
    async def chat_robots(
        self, info: Info[Context, None], project_id: strawberry.ID | None = None
    ) -> list[ChatRobot]:
        """A project's robots (its PM), or every robot (administrators)."""
        pk = from_global_id(project_id, "Project", field="projectId") if project_id else None
        rows = await chat_robots.list_robots(info.context.actor, project_id=pk)
        return [ChatRobot.of(row, row.project.code if row.project else None) for row in rows]


@strawberry.type
class NoticeMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def add_chat_robot(
        self, info: Info[Context, None], input: AddChatRobotInput
    ) -> ChatRobotPayload:
        actor = info.context.actor
        code = ""
        if input.project_id:
            pk = from_global_id(input.project_id, "Project", field="projectId")
            code = (await projects.get_project(actor, project_id=pk)).code
        row = await chat_robots.add_robot(
            actor,
            chat_robots.RobotInput(
                kind=input.kind,
                name=input.name,
                url=input.url,
                secret=input.secret,
                project_code=code,
                department_id=from_global_id(
                    input.department_id, "Department", field="departmentId"
                )
                if input.department_id
                else None,
            ),
        )
        return ChatRobotPayload(robot=ChatRobot.of(row, code or None), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def remove_chat_robot(
        self, info: Info[Context, None], input: RemoveChatRobotInput
    ) -> ChatRobotPayload:
        """The robot stops receiving notices (kept, inactive, for the outbox's history)."""
        await chat_robots.remove_robot(
            info.context.actor, robot_id=from_global_id(input.id, "ChatRobot", field="id")
        )
        return ChatRobotPayload(robot=None, errors=[])
