"""Users and departments."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from schema.common import UserError, refusals_in_payload, to_global_id
from schema.context import Context
from server.org import credentials
from server.org import service as org
from server.org.models import Department as DepartmentRow
from server.org.models import User as UserRow


@strawberry.interface
class Node:
    id: strawberry.ID


@strawberry.type
class Department(Node):
    name: str
    parent_pk: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: DepartmentRow) -> "Department":
        return cls(
            id=to_global_id("Department", row.id),
            name=row.name,
            parent_pk=row.parent_id,
        )

    @strawberry.field
    async def parent(self, info: Info[Context, None]) -> "Department | None":
        if self.parent_pk is None:
            return None
        row = await info.context.departments.load(self.parent_pk)
        return Department.of(row) if row else None


@strawberry.type
class User(Node):
    name: str
    email: str | None
    mobile: str | None
    position: str
    time_zone: str
    language: str
    is_active: bool
    is_admin: bool
    version: int
    department_pk: strawberry.Private[int]

    @classmethod
    def of(cls, row: UserRow) -> "User":
        return cls(
            id=to_global_id("User", row.id),
            name=row.name,
            email=row.email,
            mobile=row.mobile,
            position=row.position,
            time_zone=row.time_zone,
            language=row.language,
            is_active=row.is_active,
            is_admin=row.is_admin,
            version=row.version,
            department_pk=row.department_id,
        )

    @strawberry.field
    async def department(self, info: Info[Context, None]) -> Department:
        row = await info.context.departments.load(self.department_pk)
        assert row is not None
        return Department.of(row)


@strawberry.input
class CreateDepartmentInput:
    name: str
    parent_id: strawberry.ID | None = None


@strawberry.type
class DepartmentPayload:
    department: Department | None
    errors: list[UserError]


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.input
class ResetPasswordInput:
    user_id: strawberry.ID
    version: int
    new_password: str


@strawberry.type
class UserPayload:
    user: User | None
    errors: list[UserError]


@strawberry.type
class FeedTokenPayload:
    feed_token: str | None = strawberry.field(
        description="Goes in calendar feed links as ?token=; the previous one stops working."
    )
    errors: list[UserError]


@strawberry.type
class OrgQuery:
    @strawberry.field
    async def viewer(self, info: Info[Context, None]) -> User:
        assert info.context.actor.user is not None
        return User.of(info.context.actor.user)

    @strawberry.field
    async def departments(self, info: Info[Context, None]) -> list[Department]:
        return [Department.of(d) for d in await org.list_departments(info.context.actor)]


@strawberry.type
class OrgMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def create_department(
        self,
        info: Info[Context, None],
        input: Annotated[CreateDepartmentInput, strawberry.argument()],
    ) -> DepartmentPayload:
        from schema.common import from_global_id

        parent = (
            from_global_id(input.parent_id, "Department", field="parentId")
            if input.parent_id
            else None
        )
        row = await org.create_department(info.context.actor, name=input.name, parent_id=parent)
        return DepartmentPayload(department=Department.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def change_password(  # the viewer's own; their other sessions end
        self,
        info: Info[Context, None],
        input: Annotated[ChangePasswordInput, strawberry.argument()],
    ) -> UserPayload:
        row = await credentials.change_password(
            info.context.actor, current=input.current_password, new=input.new_password
        )
        return UserPayload(user=User.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def reset_password(
        self, info: Info[Context, None], input: Annotated[ResetPasswordInput, strawberry.argument()]
    ) -> UserPayload:
        from schema.common import from_global_id

        row = await credentials.reset_password(
            info.context.actor,
            user_id=from_global_id(input.user_id, "User", field="userId"),
            new=input.new_password,
            version=input.version,
        )
        return UserPayload(user=User.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def rotate_feed_token(self, info: Info[Context, None]) -> FeedTokenPayload:
        token = await credentials.rotate_feed_token(info.context.actor)
        return FeedTokenPayload(feed_token=token, errors=[])
