"""Users and departments."""

import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from schema.common import UserError, from_global_id, refusals_in_payload, to_global_id
from schema.context import Context
from server.notices import preferences
from server.org import credentials
from server.org import service as org
from server.org.models import ApiToken as ApiTokenRow
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
    row: strawberry.Private[UserRow]

    @strawberry.field
    def notice_preferences(self, info: Info[Context, None]) -> "NoticePreferences | None":
        """The viewer's own notice settings; null for anyone else."""
        if info.context.actor.user_id != self.row.id:
            return None
        return NoticePreferences(
            email_off=[NoticeKind(k) for k in self.row.email_off or []],
            chat_off=[NoticeKind(k) for k in self.row.chat_off or []],
            digest_mode=bool(self.row.digest_mode),
            quiet_from=self.row.quiet_from,
            quiet_until=self.row.quiet_until,
        )

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
            row=row,
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


@strawberry.enum
class NoticeKind(Enum):
    MENTIONS = "MENTIONS"
    SIGN_OFFS = "SIGN_OFFS"
    MEETINGS = "MEETINGS"
    TEAM = "TEAM"
    DIGEST = "DIGEST"
    ESCALATIONS = "ESCALATIONS"


@strawberry.type
class NoticePreferences:
    email_off: list[NoticeKind]
    chat_off: list[NoticeKind]
    digest_mode: bool
    quiet_from: int | None
    quiet_until: int | None


@strawberry.input
class SetNoticePreferencesInput:
    version: int
    email_off: list[NoticeKind] = strawberry.field(default_factory=list)
    chat_off: list[NoticeKind] = strawberry.field(default_factory=list)
    digest_mode: bool = False
    quiet_from: int | None = None
    quiet_until: int | None = None


@strawberry.input
class CreateUserInput:
    name: str
    department_id: strawberry.ID
    email: str | None = None
    mobile: str | None = None
    password: str | None = None
    position: str = ""
    heads_department: bool = False
    is_admin: bool = False
    language: str = "zh-CN"


@strawberry.input
class SetUserActiveInput:
    user_id: strawberry.ID
    version: int
    active: bool


@strawberry.type
class ApiToken(Node):
    name: str
    prefix: str
    created_at: datetime.datetime
    expires_at: datetime.datetime | None
    revoked_at: datetime.datetime | None
    last_used_at: datetime.datetime | None
    read_only: bool
    project_codes: list[str] | None = strawberry.field(
        description="The projects the token reaches; null: every project of its user."
    )

    @classmethod
    def of(cls, row: ApiTokenRow, scope: org.TokenScope | None) -> "ApiToken":
        codes = [p.code for p in scope.projects] if scope and scope.projects else None
        return cls(
            id=to_global_id("ApiToken", row.id),
            name=row.name,
            prefix=row.prefix,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
            read_only=row.read_only,
            project_codes=codes,
        )


@strawberry.input
class CreateApiTokenInput:
    name: str
    expires_days: int | None = None
    project_codes: list[str] = strawberry.field(default_factory=list)
    read_only: bool = False


@strawberry.input
class RevokeApiTokenInput:
    id: strawberry.ID


@strawberry.type
class ApiTokenPayload:
    token: ApiToken | None
    secret: str | None = strawberry.field(description="Shown once, at creation; never again.")
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

    @strawberry.field
    async def users(self, info: Info[Context, None], include_inactive: bool = False) -> list[User]:
        """Everyone in the company (administrators)."""
        rows = await org.list_users(info.context.actor, include_inactive=include_inactive)
        return [User.of(row) for row in rows]

    @strawberry.field
    async def api_tokens(self, info: Info[Context, None]) -> list[ApiToken]:
        """The viewer's own API tokens, newest first."""
        rows = await org.list_api_tokens(info.context.actor)
        scopes = await org.token_scopes(rows)
        return [ApiToken.of(row, scopes.get(row.id)) for row in rows]


@strawberry.type
class OrgMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def create_department(
        self,
        info: Info[Context, None],
        input: Annotated[CreateDepartmentInput, strawberry.argument()],
    ) -> DepartmentPayload:
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
        row = await credentials.reset_password(
            info.context.actor,
            user_id=from_global_id(input.user_id, "User", field="userId"),
            new=input.new_password,
            version=input.version,
        )
        return UserPayload(user=User.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def create_user(self, info: Info[Context, None], input: CreateUserInput) -> UserPayload:
        row = await org.create_user(
            info.context.actor,
            name=input.name,
            department_id=from_global_id(input.department_id, "Department", field="departmentId"),
            email=input.email,
            mobile=input.mobile,
            password=input.password,
            position=input.position,
            heads_department=input.heads_department,
            is_admin=input.is_admin,
            language=input.language,
        )
        return UserPayload(user=User.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def set_user_active(
        self, info: Info[Context, None], input: SetUserActiveInput
    ) -> UserPayload:
        """Deactivate (or bring back) a user; users are never deleted."""
        row = await org.set_user_active(
            info.context.actor,
            user_id=from_global_id(input.user_id, "User", field="userId"),
            active=input.active,
            version=input.version,
        )
        return UserPayload(user=User.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def create_api_token(
        self, info: Info[Context, None], input: CreateApiTokenInput
    ) -> ApiTokenPayload:
        issued = await org.create_api_token(
            info.context.actor,
            name=input.name,
            expires_days=input.expires_days,
            project_codes=input.project_codes,
            read_only=input.read_only,
        )
        scopes = await org.token_scopes([issued.token])
        token = ApiToken.of(issued.token, scopes.get(issued.token.id))
        return ApiTokenPayload(token=token, secret=issued.secret, errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def revoke_api_token(
        self, info: Info[Context, None], input: RevokeApiTokenInput
    ) -> ApiTokenPayload:
        row = await org.revoke_api_token(
            info.context.actor, token_id=from_global_id(input.id, "ApiToken", field="id")
        )
        scopes = await org.token_scopes([row])
        return ApiTokenPayload(token=ApiToken.of(row, scopes.get(row.id)), secret=None, errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def set_notice_preferences(
        self, info: Info[Context, None], input: SetNoticePreferencesInput
    ) -> UserPayload:
        """The viewer's own: which notices by mail and by chat, a daily digest, quiet hours."""
        row = await preferences.set_preferences(
            info.context.actor,
            version=input.version,
            data=preferences.PreferencesInput(
                email_off=[k.value for k in input.email_off],
                chat_off=[k.value for k in input.chat_off],
                digest_mode=input.digest_mode,
                quiet_from=input.quiet_from,
                quiet_until=input.quiet_until,
            ),
        )
        return UserPayload(user=User.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def rotate_feed_token(self, info: Info[Context, None]) -> FeedTokenPayload:
        token = await credentials.rotate_feed_token(info.context.actor)
        return FeedTokenPayload(feed_token=token, errors=[])
