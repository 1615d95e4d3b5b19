"""Every scheduled job by its public name (API.md), shared by the arq worker and `job run`.

A job takes the settings and an optional project code and returns a line saying what it did.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from server.settings import Settings
from workers import notices, org

Job = Callable[[Settings, str | None], Awaitable[str]]

JOBS: dict[str, Job] = {
    "deliver-notices": notices.deliver_notices,
    "purge-sessions": org.purge_sessions,
}

DESCRIPTIONS: dict[str, str] = {
    "deliver-notices": "send queued emails and chat messages, retrying failures with backoff",
    "purge-sessions": "remove sessions that ended over 30 days ago and old failed logins",
}
