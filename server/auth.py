"""Who is acting, how they proved it, and the one check of what they may do."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.errors import Forbidden, NotFound
from server.i18n import N_
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
    CREATE_PROJECT = "create_project"
    EDIT_PROJECT = "edit_project"
    ARCHIVE_PROJECT = "archive_project"
    MANAGE_TEAM = "manage_team"
    ADD_DEPARTMENT_MEMBERS = "add_department_members"
    EDIT_PLAN = "edit_plan"
    APPROVE_PLAN = "approve_plan"
    REPORT_PROGRESS = "report_progress"
    EDIT_DOCUMENTS = "edit_documents"
    SIGN_DOCUMENTS = "sign_documents"
    NAME_SIGNING_DELEGATE = "name_signing_delegate"
    RAISE_PROBLEM = "raise_problem"
    MANAGE_PROBLEMS = "manage_problems"
    RAISE_RISK = "raise_risk"
    FILE_REQUIREMENTS = "file_requirements"
    REVIEW_REQUIREMENTS = "review_requirements"
    COMMIT_RESOURCES = "commit_resources"
    RESOLVE_GAPS = "resolve_gaps"
    DECIDE_GAPS = "decide_gaps"
    EDIT_RISK = "edit_risk"
    RUN_MEETINGS = "run_meetings"
    RECORD_IN_MEETING = "record_in_meeting"
    SUBMIT_REPORT = "submit_report"
    COMMENT = "comment"
    ACCEPT_DELIVERABLES = "accept_deliverables"
    FILE_RETROSPECTIVE = "file_retrospective"
    REQUEST_CHANGES = "request_changes"
    APPROVE_MAJOR_CHANGES = "approve_major_changes"
    MANAGE_TOKENS = "manage_tokens"
    ADMINISTER = "administer"


class Scope(StrEnum):
    """How far a grant reaches inside the project."""

    PROJECT = "project"  # everything in the project
    DEPARTMENT = "department"  # only what belongs to the member's own department


class Relation(StrEnum):
    """What an actor is to one object, besides their roles in the team directory."""

    TASK_OWNER = "task_owner"  # the task is theirs
    SIGNING_DELEGATE = "signing_delegate"  # named by the head to sign for that department
    RISK_OWNER = "risk_owner"  # the risk is theirs to watch


Holder = Role | Relation
P, D = Scope.PROJECT, Scope.DEPARTMENT
EVERY_ROLE: dict[Holder, Scope] = dict.fromkeys(Role, P)

# The roles table of PRODUCT.md, whole: who may do what, and how far. Nothing outside this
# table grants or refuses a project action. `department_id` given to `authorize` is the
# department the object belongs to; a DEPARTMENT grant holds only when it is the member's own.
GRANTS: dict[Action, dict[Holder, Scope]] = {
    Action.VIEW_PROJECT: EVERY_ROLE,
    Action.EDIT_PROJECT: {Role.MANAGER: P},
    Action.ARCHIVE_PROJECT: {Role.MANAGER: P},
    Action.MANAGE_TEAM: {Role.MANAGER: P},
    # A liaison adds members and viewers of their own department, nobody else.
    Action.ADD_DEPARTMENT_MEMBERS: {Role.MANAGER: P, Role.LIAISON: D},
    Action.EDIT_PLAN: {Role.MANAGER: P, Role.LIAISON: D},
    Action.APPROVE_PLAN: {Role.MANAGER: P},
    Action.REPORT_PROGRESS: {Role.MANAGER: P, Role.LIAISON: D, Relation.TASK_OWNER: P},
    # The initiating department's head edits the charter beside the PM.
    Action.EDIT_DOCUMENTS: {Role.MANAGER: P, Role.DEPARTMENT_HEAD: D},
    Action.SIGN_DOCUMENTS: {Role.DEPARTMENT_HEAD: D, Relation.SIGNING_DELEGATE: P},
    Action.NAME_SIGNING_DELEGATE: {Role.DEPARTMENT_HEAD: D},
    Action.RAISE_PROBLEM: {
        Role.MANAGER: P,
        Role.CO_CHAIR: P,
        Role.LIAISON: P,
        Role.DEPARTMENT_HEAD: P,
        Role.MEMBER: P,
    },
    Action.MANAGE_PROBLEMS: {Role.MANAGER: P, Role.CO_CHAIR: P, Role.LIAISON: D},
    # Everyone working on the project (not viewers, not management) raises a risk; the PM,
    # the risk's owner and the liaison of its department edit, review and close it.
    Action.RAISE_RISK: {
        Role.MANAGER: P,
        Role.CO_CHAIR: P,
        Role.LIAISON: P,
        Role.DEPARTMENT_HEAD: P,
        Role.MEMBER: P,
    },
    Action.EDIT_RISK: {Role.MANAGER: P, Role.LIAISON: D, Relation.RISK_OWNER: P},
    # Step 3: a department's liaison files its requirements and resource requests (the PM
    # any department's), the PM reviews them and resolves gaps, the supplying department's
    # head commits resources, management approves the gaps sent to it.
    Action.FILE_REQUIREMENTS: {Role.MANAGER: P, Role.LIAISON: D},
    Action.REVIEW_REQUIREMENTS: {Role.MANAGER: P},
    Action.COMMIT_RESOURCES: {Role.DEPARTMENT_HEAD: D},
    Action.RESOLVE_GAPS: {Role.MANAGER: P},
    Action.DECIDE_GAPS: {Role.MANAGEMENT: P},
    # The chair (PM) or a co-chair runs the meeting and records in it; the others attend.
    Action.RUN_MEETINGS: {Role.MANAGER: P, Role.CO_CHAIR: P},
    Action.RECORD_IN_MEETING: {Role.MANAGER: P, Role.CO_CHAIR: P},
    Action.SUBMIT_REPORT: {Role.MANAGER: P, Role.CO_CHAIR: P, Role.LIAISON: D},
    # Step 8: the receiving department's head or liaison accepts a deliverable handed over.
    Action.ACCEPT_DELIVERABLES: {Role.DEPARTMENT_HEAD: D, Role.LIAISON: D},
    # Each department's liaison files its retrospective (the PM any department's).
    Action.FILE_RETROSPECTIVE: {Role.MANAGER: P, Role.LIAISON: D},
    # Step 7: the PM, a liaison or a head asks for a change on behalf of their department;
    # the PM and the affected heads approve it (as they sign), management a major one.
    Action.REQUEST_CHANGES: {Role.MANAGER: P, Role.LIAISON: D, Role.DEPARTMENT_HEAD: D},
    Action.APPROVE_MAJOR_CHANGES: {Role.MANAGEMENT: P},
    # Comments and attachments: everyone on the team but viewers, who only read.
    Action.COMMENT: {role: P for role in Role if role is not Role.VIEWER},
}
# Actions outside any project: any signed-in person creates a project (and becomes its PM)
# and keeps their own API tokens; only an administrator administers. A token limited to some
# projects or to reading does none of these (it cannot issue itself a wider token).
UNSCOPED_ACTIONS = frozenset({Action.CREATE_PROJECT, Action.MANAGE_TOKENS, Action.ADMINISTER})
READ_ONLY_ACTIONS = frozenset({Action.VIEW_PROJECT})

REFUSALS: dict[Action, str] = {
    Action.ADMINISTER: N_("Only an administrator may do this."),
    Action.CREATE_PROJECT: N_("You may not do this."),
    Action.MANAGE_TOKENS: N_("You may not do this."),
    Action.ADD_DEPARTMENT_MEMBERS: N_(
        "A liaison may add members and viewers of their own department only."
    ),
    Action.SIGN_DOCUMENTS: N_(
        "Only the head of a participating department (or their delegate) may sign."
    ),
    Action.NAME_SIGNING_DELEGATE: N_("Only the department's head may name a delegate."),
    Action.RECORD_IN_MEETING: N_("Only the chair or a co-chair records in the meeting."),
    Action.FILE_REQUIREMENTS: N_(
        "A liaison files requirements and resource requests for their own department only."
    ),
    Action.COMMIT_RESOURCES: N_("Only the head of the supplying department may decide this."),
    Action.DECIDE_GAPS: N_("Only management may approve or refuse a resource gap."),
    Action.EDIT_RISK: N_(
        "Only the project manager, the risk's owner or its department's liaison may change it."
    ),
    Action.COMMENT: N_("Viewers read the discussion; they do not write in it."),
    Action.REQUEST_CHANGES: N_(
        "The project manager, or a liaison or head for their own department, asks for changes."
    ),
    Action.APPROVE_MAJOR_CHANGES: N_("Only management approves a change this large."),
    Action.ACCEPT_DELIVERABLES: N_(
        "Only the head or the liaison of the receiving department accepts a deliverable."
    ),
}


@dataclass
class Actor:
    """The user behind a request, a job or a CLI command (`user is None` for the system)."""

    user: User | None
    language: str = "zh-CN"
    is_admin: bool = False
    # An API token's scope: the projects it reaches (None: all the user's) and whether it
    # may only read. Sessions and jobs have no scope.
    project_ids: frozenset[int] | None = None
    read_only: bool = False
    _roles: dict[int, list[tuple[Role, int]]] = field(default_factory=dict, repr=False)

    @classmethod
    def for_user(cls, user: User, language: str | None = None) -> Actor:
        return cls(user=user, language=language or user.language, is_admin=user.is_admin)

    @classmethod
    def system(cls) -> Actor:
        return cls(user=None, language="zh-CN", is_admin=True)

    def reaches(self, project_id: int) -> bool:
        return self.project_ids is None or project_id in self.project_ids

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


# A signature and the naming of a signer are a person's own word: no administrator bypass.
PERSONAL_ACTIONS = frozenset({Action.SIGN_DOCUMENTS, Action.NAME_SIGNING_DELEGATE})


async def authorize(
    actor: Actor,
    action: Action,
    project: Project | None = None,
    *,
    department_id: int | None = None,
    relations: Collection[Relation] = (),
    field: str | None = None,
) -> None:
    """Deny unless the roles table allows. Raises Forbidden; callers have scoped the lookup."""
    if actor.read_only and action not in READ_ONLY_ACTIONS:
        raise Forbidden("This API token may only read.", field=field)
    if action in UNSCOPED_ACTIONS:
        _authorize_outside_projects(actor, action)
        return
    if project is None:
        raise Forbidden("You may not do this.", field=field)
    if not actor.reaches(project.id):
        raise NotFound("No such project.", field=field)
    if project.status == ProjectStatus.ARCHIVED and action not in READ_ONLY_ACTIONS:
        raise Forbidden("This project is archived and read-only.", field=field)
    if actor.is_admin and action not in PERSONAL_ACTIONS:
        return
    grants = GRANTS[action]
    if any(relation in grants for relation in relations):
        return
    for role, member_department in await actor.roles_in(project.id):
        scope = grants.get(role)
        if scope is Scope.PROJECT:
            return
        if scope is Scope.DEPARTMENT and department_id == member_department:
            return
    refusal = REFUSALS.get(action, "Your role in this project does not allow this.")
    raise Forbidden(refusal, field=field)


def _authorize_outside_projects(actor: Actor, action: Action) -> None:
    if actor.project_ids is not None:
        raise Forbidden("This API token is limited to some projects.")
    if action is Action.ADMINISTER and actor.is_admin:
        return
    if action in (Action.CREATE_PROJECT, Action.MANAGE_TOKENS) and actor.user is not None:
        return
    if action is Action.CREATE_PROJECT and actor.is_admin:
        return
    raise Forbidden(REFUSALS[action])


async def may(
    actor: Actor,
    action: Action,
    project: Project | None = None,
    *,
    department_id: int | None = None,
    relations: Collection[Relation] = (),
) -> bool:
    """The same decision as `authorize`, for showing or hiding a button."""
    try:
        await authorize(actor, action, project, department_id=department_id, relations=relations)
    except (Forbidden, NotFound):
        return False
    return True
