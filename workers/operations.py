from __future__ import annotations

from server.operations.nightly import nightly_backup
from server.settings import Settings


async def backup(
    settings: Settings, project_code: str | None = None, *, scheduled: bool = False
) -> str:
    return await nightly_backup(settings)
