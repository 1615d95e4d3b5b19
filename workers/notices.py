from __future__ import annotations

from server.notices.service import deliver_pending
from server.settings import Settings


async def deliver_notices(
    settings: Settings, project_code: str | None = None, *, scheduled: bool = False
) -> str:
    report = await deliver_pending(settings)
    return f"deliver-notices: {report}"
