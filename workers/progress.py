from __future__ import annotations

from server.notices.digests import queue_notice_digests
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
    hour = settings.digest_hour if scheduled else None
    queued = await queue_digests(only_at_hour=hour)
    bundled = await queue_notice_digests(only_at_hour=hour)
    return f"digest: {queued} digests queued, {bundled} people's held notices bundled"
