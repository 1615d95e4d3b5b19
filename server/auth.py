"""Who is acting, how they proved it, and the one check of what they may do."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.errors import Forbidden
from server.org.models import User
from server.projects.models import Project, ProjectMember, ProjectStatus, Role

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_secret_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    """Tokens are random and long, so a fast hash is enough and lookups stay indexed."""
    return hashlib.sha256(token.encode()).hexdigest()


class Action(StrEnum):
    VIEW_PROJECT = "view_project"
    EDIT_PROJECT = "edit_project"
    ARCHIVE_PROJECT = "archive_project"
    MANAGE_TEAM = "manage_team"
    EDIT_PLAN = "edit_plan"
    APPROVE_PLAN = "approve_plan"
    EDIT_DOCUMENTS = "edit_documents"
    SIGN_DOCUMENTS = "sign_documents"
    RAISE_PROBLEM = "raise_problem"
    MANAGE_PROBLEMS = "manage_problems"
    RUN_MEETINGS = "run_meetings"
    SUBMIT_REPORT = "submit_report"
    ADMINISTER = "administer"


# What each project role may do. Department-scoped grants only hold for the member's own
# department (a liaison manages their own department's people, nobody else's).
ROLE_GRANTS: dict[Role, frozenset[Action]] = {
    Role.MANAGER: frozenset(
        {
            Action.VIEW_PROJECT,
            Action.EDIT_PROJECT,
            Action.ARCHIVE_PROJECT,
            Action.MANAGE_TEAM,
            Action.EDIT_PLAN,
            Action.APPROVE_PLAN,
            Action.EDIT_DOCUMENTS,
            Action.RAISE_PROBLEM,
            Action.MANAGE_PROBLEMS,
            Action.RUN_MEETINGS,
            Action.SUBMIT_REPORT,
        }
    ),
    Role.CO_CHAIR: frozenset(
        {
            Action.VIEW_PROJECT,
            Action.RAISE_PROBLEM,
            Action.MANAGE_PROBLEMS,
            Action.RUN_MEETINGS,
            Action.SUBMIT_REPORT,
        }
    ),
    Role.LIAISON: frozenset({Action.VIEW_PROJECT, Action.RAISE_PROBLEM}),
    Role.DEPARTMENT_HEAD: frozenset({Action.VIEW_PROJECT, Action.RAISE_PROBLEM}),
    Role.MANAGEMENT: frozenset({Action.VIEW_PROJECT}),
    Role.MEMBER: frozenset({Action.VIEW_PROJECT, Action.RAISE_PROBLEM}),
    Role.VIEWER: frozenset({Action.VIEW_PROJECT}),
}
DEPARTMENT_GRANTS: dict[Role, frozenset[Action]] = {
    Role.LIAISON: frozenset(
        {Action.MANAGE_TEAM, Action.EDIT_PLAN, Action.MANAGE_PROBLEMS, Action.SUBMIT_REPORT}
    ),
    # The initiating department's head edits the charter; every head signs for their own.
    Role.DEPARTMENT_HEAD: frozenset({Action.EDIT_DOCUMENTS, Action.SIGN_DOCUMENTS}),
}
READ_ONLY_ACTIONS = frozenset({Action.VIEW_PROJECT})


@dataclass
class Actor:
    """The user behind a request, a job or a CLI command (`user is None` for the system)."""

    user: User | None
    language: str = "zh-CN"
    is_admin: bool = False
    _roles: dict[int, list[tuple[Role, int]]] = field(default_factory=dict, repr=False)

    @classmethod
    def for_user(cls, user: User, language: str | None = None) -> Actor:
        return cls(user=user, language=language or user.language, is_admin=user.is_admin)

    @classmethod
    def system(cls) -> Actor:
        return cls(user=None, language="zh-CN", is_admin=True)

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    async def roles_in(self, project_id: int) -> list[tuple[Role, int]]:
        if self.user is None:
            return []
        if project_id not in self._roles:
            rows = await ProjectMember.filter(
                project_id=project_id, user_id=self.user.id, left_at__isnull=True
            ).values_list("role", "department_id")
            self._roles[project_id] = [(Role(role), int(dept)) for role, dept in rows]
        return self._roles[project_id]

    def know_roles(self, project_id: int, roles: list[tuple[Role, int]]) -> None:
        """Roles read along with another lookup, so `authorize` need not ask again."""
        self._roles[project_id] = roles

    def forget_roles(self, project_id: int) -> None:
        self._roles.pop(project_id, None)


async def authorize(
    actor: Actor,
    action: Action,
    project: Project | None = None,
    *,
    department_id: int | None = None,
) -> None:
    """Deny unless a role allows. Raises Forbidden; callers have already scoped the lookup."""
    if action is Action.ADMINISTER:
        if actor.is_admin:
            return
        raise Forbidden("Only an administrator may do this.")
    if project is None:
        raise Forbidden("You may not do this.")
    if project.status == ProjectStatus.ARCHIVED and action not in READ_ONLY_ACTIONS:
        raise Forbidden("This project is archived and read-only.")
    if actor.is_admin:
        return
    for role, member_department in await actor.roles_in(project.id):
        if action in ROLE_GRANTS[role]:
            return
        scoped = DEPARTMENT_GRANTS.get(role, frozenset())
        if action in scoped and department_id is not None and department_id == member_department:
            return
    raise Forbidden("Your role in this project does not allow this.")


async def may(
    actor: Actor,
    action: Action,
    project: Project | None = None,
    *,
    department_id: int | None = None,
) -> bool:
    """The same decision as `authorize`, for showing or hiding a button."""
    try:
        await authorize(actor, action, project, department_id=department_id)
    except Forbidden:
        return False
    return True
