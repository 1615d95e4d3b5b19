from __future__ import annotations

from server.risks.escalations import run_escalations
from server.settings import Settings


async def escalations(
    settings: Settings, project_code: str | None = None, *, scheduled: bool = False
) -> str:
    # On schedule, each project climbs at the escalation hour of its own time zone on its
    # working days; run by hand it climbs now.
    report = await run_escalations(
        project_code=project_code, only_at_hour=settings.escalation_hour if scheduled else None
    )
    return f"escalations: {report}"
