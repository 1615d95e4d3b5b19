"""Live project events over a GraphQL subscription: progress reported, problems raised."""

import datetime
from collections.abc import AsyncGenerator
from typing import cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.common import event_time, from_global_id, to_global_id
from schema.context import Context
from server import events
from server.projects.service import get_project


@strawberry.type
class ProjectEvent:
    """Something changed in a project: a task's progress, a problem reported or updated, a
    risk raised, updated, reviewed, occurred or closed (kind "risk.…")."""

    id: str
    kind: str
    task_id: strawberry.ID | None
    problem_id: strawberry.ID | None
    risk_id: strawberry.ID | None
    data: JSON = strawberry.field(description="The event's own fields.")
    at: datetime.datetime | None


def project_event(event: events.Event) -> ProjectEvent:
    task = event.data.get("taskId")
    problem = event.data.get("problemId")
    risk = event.data.get("riskId")
    return ProjectEvent(
        id=event.id,
        kind=event.kind,
        task_id=to_global_id("Task", int(task)) if task else None,
        problem_id=to_global_id("Problem", int(problem)) if problem else None,
        risk_id=to_global_id("Risk", int(risk)) if risk else None,
        data=cast(JSON, event.data),
        at=event_time(event),
    )


@strawberry.type
class EventSubscription:
    @strawberry.subscription
    async def project_events(
        self, info: Info[Context, None], project_id: strawberry.ID, after: str | None = None
    ) -> AsyncGenerator[ProjectEvent, None]:
        """Events of a project the viewer may see, from now on (or after the event id given)."""
        pk = from_global_id(project_id, "Project", field="projectId")
        project = await get_project(info.context.actor, project_id=pk)
        async for event in events.follow("project", project.id, last_id=after):
            yield project_event(event)
