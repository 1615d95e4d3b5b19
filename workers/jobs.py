"""Every scheduled job by its public name (API.md), shared by the arq worker and `job run`.

A job takes the settings and an optional project code and returns a line saying what it did.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

from server.settings import Settings
from workers import changes, meetings, notices, operations, org, progress, risks, signoffs


class Job(Protocol):
    def __call__(
        self, settings: Settings, project_code: str | None = None, *, scheduled: bool = False
    ) -> Awaitable[str]: ...


JOBS: dict[str, Job] = {
    "deliver-notices": notices.deliver_notices,
    "purge-sessions": org.purge_sessions,
    "escalations": risks.escalations,
    "snapshots": progress.snapshots,
    "digest": progress.digest,
    "minutes-deadlines": meetings.minutes_deadlines,
    "report-reminders": meetings.report_reminders,
    "verify-signatures": signoffs.verify_signatures,
    "change-reminders": changes.change_reminders,
    "backup": operations.backup,
}

DESCRIPTIONS: dict[str, str] = {
    "deliver-notices": "send queued emails and chat messages, retrying failures with backoff",
    "purge-sessions": "remove sessions that ended over 30 days ago and old failed logins",
    "escalations": "climb the escalation ladder for late tasks and overdue problems "
    "(scheduled: 09:00 project time, working days)",
    "snapshots": "measure planned vs actual progress of every live project for today",
    "digest": "each liaison's daily list of due, late and stale tasks (scheduled: 08:00)",
    "minutes-deadlines": "tell the PM, then the initiating department's head, of minutes "
    "not published within 24 hours of a meeting's end (every 10 minutes)",
    "report-reminders": "remind liaisons whose department has not reported for a weekly "
    "meeting starting within a day (hourly)",
    "verify-signatures": "re-check every signed document's hash and seals; alert the "
    "administrators of any alteration (daily, 04:23)",
    "change-reminders": "remind approvers of change requests waiting past 2 working days, "
    "then the PM, the requesting head and management (hourly)",
    "backup": "copy the database, attachments and key into XIETONG_BACKUP_DIR, keeping the "
    "newest XIETONG_BACKUP_KEEP (daily, 02:30; off unless XIETONG_BACKUP_DIR is set)",
}
