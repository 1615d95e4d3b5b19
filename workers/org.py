from __future__ import annotations

from server.org.service import purge_sessions as purge
from server.settings import Settings


async def purge_sessions(
    settings: Settings, project_code: str | None = None, *, scheduled: bool = False
) -> str:
    removed = await purge()
    return f"purge-sessions: removed {removed} rows"
