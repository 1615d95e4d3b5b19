"""The escalation ladder as pure functions: which rung a late task or overdue problem reached.

Level 1 — the owner and the department's liaison: late more than the threshold.
Level 2 — the project manager: late more than 2 × threshold, or late more than the
          threshold on the critical path.
Level 3 — the department head: late more than 3 × threshold.
Level 4 — management on the project: a critical-path task late more than 4 × threshold.
A problem climbs the same ladder by working days past its due date; a CRITICAL problem
counts as being on the critical path.

Minutes not published within 24 hours of a meeting's end climb it too, by hours past the
deadline: the chair (PM) at once, the initiating department's head a day later
(`minutes_level_reached`, `MINUTES_RUNGS`); `next_rungs` decides whom a run tells.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

TOP_LEVEL = 4
# Late minutes: level 1 the project manager, level 2 the initiating department's head.
MINUTES_RUNGS = {1: "MANAGER", 2: "INITIATING_HEAD"}
# The head hears of late minutes this long after the PM did.
HEAD_HEARS_MINUTES_AFTER = timedelta(hours=24)


def level_reached(days_late: int, *, threshold: int, critical: bool) -> int:
    threshold = max(threshold, 0)
    if days_late <= threshold:
        return 0
    if critical and days_late > 4 * threshold:
        return 4
    if days_late > 3 * threshold:
        return 3
    if days_late > 2 * threshold or critical:
        return 2
    return 1


@dataclass(frozen=True)
class Rung:
    """What one run does for a subject: the episode it is in and the levels to notify now."""

    episode: int
    levels: tuple[int, ...]
    level_after: int


def next_rungs(*, reached: int, episode: int, notified_level: int) -> Rung:
    """Notify every level reached and not notified yet in this episode (once each).

    A subject that is no longer late (reached 0) after being escalated has recovered: the
    next time it falls late is a new episode starting from level 1.
    """
    if reached == 0:
        if notified_level > 0:
            return Rung(episode=episode + 1, levels=(), level_after=0)
        return Rung(episode=episode, levels=(), level_after=0)
    if reached <= notified_level:
        return Rung(episode=episode, levels=(), level_after=notified_level)
    return Rung(
        episode=episode,
        levels=tuple(range(notified_level + 1, reached + 1)),
        level_after=reached,
    )


def finish_slip(days_late: int, *, total_float: int | None) -> int:
    """Working days the project finish moves if the task stays this late (float absorbs some)."""
    spare = max(total_float or 0, 0)
    return max(days_late - spare, 0)


def minutes_level_reached(
    *, due_at: datetime | None, published_at: datetime | None, now: datetime
) -> int:
    """0 before the minutes deadline (or once published), 1 after it, 2 a day later."""
    if due_at is None or published_at is not None or now <= due_at:
        return 0
    return 2 if now > due_at + HEAD_HEARS_MINUTES_AFTER else 1
