from __future__ import annotations

from server.progress.digest import queue_digests
from server.progress.snapshots import take_snapshots
from server.settings import Settings


async def snapshots(
    settings: Settings, project_code: str | None = None, *, scheduled: bool = False
) -> str:
    report = await take_snapshots(project_code=project_code)
    return f"snapshots: {report.projects} projects measured"


async def digest(
    settings: Settings, project_code: str | None = None, *, scheduled: bool = False
) -> str:
    queued = await queue_digests(only_at_hour=settings.digest_hour if scheduled else None)
    return f"digest: {queued} digests queued"
