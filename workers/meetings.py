from __future__ import annotations

from server.meetings.deadlines import run_minutes_deadlines, run_report_reminders
from server.settings import Settings


async def minutes_deadlines(
    settings: Settings, project_code: str | None = None, *, scheduled: bool = False
) -> str:
    report = await run_minutes_deadlines()
    return f"minutes-deadlines: {report}"


async def report_reminders(
    settings: Settings, project_code: str | None = None, *, scheduled: bool = False
) -> str:
    report = await run_report_reminders()
    return f"report-reminders: {report}"
