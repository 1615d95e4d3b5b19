"""Per-request context: the actor, the language, and DataLoaders built for this request only."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from strawberry.dataloader import DataLoader

from server.auth import Actor
from server.meetings import service as meetings
from server.org import service as org
from server.org.models import Department, User
from server.planning import service as planning
from server.planning.calendar import WorkingCalendar
from server.planning.models import BaselineTask, Dependency, Task, TaskSchedule
from server.projects import service as projects
from server.projects.models import ProjectMember


async def _users(ids: Sequence[int]) -> list[User | None]:
    found = await org.users_by_ids(list(ids))
    return [found.get(i) for i in ids]


async def _departments(ids: Sequence[int]) -> list[Department | None]:
    found = await org.departments_by_ids(list(ids))
    return [found.get(i) for i in ids]


async def _members(ids: Sequence[int]) -> list[list[ProjectMember]]:
    by_project = await projects.list_members(ids)
    return [by_project[i] for i in ids]


async def _participating(ids: Sequence[int]) -> list[list[Department]]:
    by_project = await projects.list_participating_departments(ids)
    return [by_project[i] for i in ids]


async def _milestones(ids: Sequence[int]) -> list[list[Task]]:
    by_project = await planning.list_milestones(ids)
    return [by_project[i] for i in ids]


async def _tasks(ids: Sequence[int]) -> list[Task | None]:
    found = await planning.tasks_by_ids(list(ids))
    return [found.get(i) for i in ids]


async def _project_tasks(ids: Sequence[int]) -> list[list[Task]]:
    by_project = await planning.list_tasks(ids)
    return [by_project[i] for i in ids]


async def _dependencies(ids: Sequence[int]) -> list[list[Dependency]]:
    by_task = await planning.dependencies_of(ids)
    return [by_task[i] for i in ids]


async def _schedules(ids: Sequence[int]) -> list[TaskSchedule | None]:
    found = await planning.schedules_for(ids)
    return [found.get(i) for i in ids]


async def _baselines(ids: Sequence[int]) -> list[BaselineTask | None]:
    found = await planning.baseline_dates(ids)
    return [found.get(i) for i in ids]


async def _calendars(ids: Sequence[int]) -> list[tuple[WorkingCalendar, date]]:
    """Each project's working calendar and today's date in the project's time zone."""
    zones = await projects.time_zones(ids)
    return [
        (
            await planning.working_calendar(i),
            datetime.now(ZoneInfo(zones.get(i, "Asia/Shanghai"))).date(),
        )
        for i in ids
    ]


async def _meeting_views(ids: Sequence[int]) -> list[meetings.MeetingView]:
    return await meetings.meeting_views_by_id(ids)


@dataclass
class Context:
    actor: Actor
    language: str
    request: Any = None
    response: Any = None
    # graphql-transport-ws: the connection_init payload (strawberry fills it in).
    connection_params: dict[str, Any] | None = None
    users: DataLoader[int, User | None] = field(default_factory=lambda: DataLoader(_users))
    departments: DataLoader[int, Department | None] = field(
        default_factory=lambda: DataLoader(_departments)
    )
    members: DataLoader[int, list[ProjectMember]] = field(
        default_factory=lambda: DataLoader(_members)
    )
    participating: DataLoader[int, list[Department]] = field(
        default_factory=lambda: DataLoader(_participating)
    )
    milestones: DataLoader[int, list[Task]] = field(default_factory=lambda: DataLoader(_milestones))
    tasks: DataLoader[int, Task | None] = field(default_factory=lambda: DataLoader(_tasks))
    project_tasks: DataLoader[int, list[Task]] = field(
        default_factory=lambda: DataLoader(_project_tasks)
    )
    dependencies: DataLoader[int, list[Dependency]] = field(
        default_factory=lambda: DataLoader(_dependencies)
    )
    schedules: DataLoader[int, TaskSchedule | None] = field(
        default_factory=lambda: DataLoader(_schedules)
    )
    baselines: DataLoader[int, BaselineTask | None] = field(
        default_factory=lambda: DataLoader(_baselines)
    )
    calendars: DataLoader[int, tuple[WorkingCalendar, date]] = field(
        default_factory=lambda: DataLoader(_calendars)
    )
    meeting_views: DataLoader[int, meetings.MeetingView] = field(
        default_factory=lambda: DataLoader(_meeting_views)
    )
