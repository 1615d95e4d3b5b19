from __future__ import annotations

from server.changes.reminders import run_change_reminders
from server.settings import Settings


async def change_reminders(
    settings: Settings, project_code: str | None = None, *, scheduled: bool = False
) -> str:
    report = await run_change_reminders()
    return f"change-reminders: {report}"
