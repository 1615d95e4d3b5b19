"""Per-request context: the actor, the language, and DataLoaders built for this request only."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from strawberry.dataloader import DataLoader

from server import clock
from server.auth import Actor
from server.meetings import queries as meeting_queries
from server.org import service as org
from server.org.models import Department, User
from server.planning import queries as planning_queries
from server.planning import scheduling as planning_scheduling
from server.planning.calendar import WorkingCalendar
from server.planning.models import BaselineTask, Task, TaskSchedule
from server.planning.queries import PlanLink
from server.projects import service as projects
from server.projects.models import Project, ProjectMember
from server.risks import queries as risk_queries
from server.risks.models import RiskAssessment


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
    by_project = await planning_queries.list_milestones(ids)
    return [by_project[i] for i in ids]


async def _tasks(ids: Sequence[int]) -> list[Task | None]:
    found = await planning_queries.tasks_by_ids(list(ids))
    return [found.get(i) for i in ids]


async def _project_tasks(ids: Sequence[int]) -> list[list[Task]]:
    by_project = await planning_queries.list_tasks(ids)
    return [by_project[i] for i in ids]


async def _threatened_tasks(ids: Sequence[int]) -> list[list[risk_queries.ThreatenedTask]]:
    by_risk = await risk_queries.threatened_tasks(ids)
    return [by_risk[i] for i in ids]


async def _risk_histories(ids: Sequence[int]) -> list[list[RiskAssessment]]:
    by_risk = await risk_queries.histories(ids)
    return [by_risk[i] for i in ids]


async def _dependencies(ids: Sequence[int]) -> list[list[PlanLink]]:
    by_task = await planning_queries.dependencies_of(ids)
    return [by_task[i] for i in ids]


async def _schedules(ids: Sequence[int]) -> list[TaskSchedule | None]:
    found = await planning_queries.schedules_for(ids)
    return [found.get(i) for i in ids]


async def _baselines(ids: Sequence[int]) -> list[BaselineTask | None]:
    found = await planning_queries.baseline_dates(ids)
    return [found.get(i) for i in ids]


async def _calendars(ids: Sequence[int]) -> list[tuple[WorkingCalendar, date]]:
    """Each project's working calendar and today's date in the project's time zone."""
    zones = await projects.time_zones(ids)
    return [
        (
            await planning_scheduling.working_calendar(i),
            clock.today_in(zones.get(i, "Asia/Shanghai")),
        )
        for i in ids
    ]


async def _meeting_views(ids: Sequence[int]) -> list[meeting_queries.MeetingView]:
    return await meeting_queries.meeting_views_by_id(ids)


@dataclass
class Context:
    actor: Actor
    language: str
    request: Any = None
    response: Any = None
    # graphql-transport-ws: the connection_init payload (strawberry fills it in).
    connection_params: dict[str, Any] | None = None
    # Loaders keyed by name for lists that come in kinds (the comments of tasks, of risks, …).
    keyed_loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)
    # Rows a list resolver read ahead for the whole page (owners, links), so each item's
    # field answers at once instead of through an awaitable per item (bench/reads.py).
    # Owners as API objects (schema.org.User), one per person however many tasks they own.
    known_owners: dict[int, Any] = field(default_factory=dict)
    known_links: dict[int, list[PlanLink]] = field(default_factory=dict)

    def loader(self, key: str, make: Callable[[], DataLoader[Any, Any]]) -> DataLoader[Any, Any]:
        if key not in self.keyed_loaders:
            self.keyed_loaders[key] = make()
        return self.keyed_loaders[key]

    # DataLoaders are made when first used: a request needs one or two, a phone's update none.
    @cached_property
    def projects(self) -> DataLoader[int, Project | None]:
        """Projects by id, only those the actor may see (others load as None)."""
        actor = self.actor

        async def load(ids: Sequence[int]) -> list[Project | None]:
            found = await projects.visible_by_ids(actor, ids)
            return [found.get(i) for i in ids]

        return DataLoader(load)

    @cached_property
    def users(self) -> DataLoader[int, User | None]:
        return DataLoader(_users)

    @cached_property
    def departments(self) -> DataLoader[int, Department | None]:
        return DataLoader(_departments)

    @cached_property
    def members(self) -> DataLoader[int, list[ProjectMember]]:
        return DataLoader(_members)

    @cached_property
    def participating(self) -> DataLoader[int, list[Department]]:
        return DataLoader(_participating)

    @cached_property
    def milestones(self) -> DataLoader[int, list[Task]]:
        return DataLoader(_milestones)

    @cached_property
    def tasks(self) -> DataLoader[int, Task | None]:
        return DataLoader(_tasks)

    @cached_property
    def project_tasks(self) -> DataLoader[int, list[Task]]:
        return DataLoader(_project_tasks)

    @cached_property
    def dependencies(self) -> DataLoader[int, list[PlanLink]]:
        return DataLoader(_dependencies)

    @cached_property
    def schedules(self) -> DataLoader[int, TaskSchedule | None]:
        return DataLoader(_schedules)

    @cached_property
    def baselines(self) -> DataLoader[int, BaselineTask | None]:
        return DataLoader(_baselines)

    @cached_property
    def calendars(self) -> DataLoader[int, tuple[WorkingCalendar, date]]:
        return DataLoader(_calendars)

    @cached_property
    def threatened_tasks(self) -> DataLoader[int, list[risk_queries.ThreatenedTask]]:
        return DataLoader(_threatened_tasks)

    @cached_property
    def risk_histories(self) -> DataLoader[int, list[RiskAssessment]]:
        return DataLoader(_risk_histories)

    @cached_property
    def meeting_views(self) -> DataLoader[int, meeting_queries.MeetingView]:
        return DataLoader(_meeting_views)
