"""Reading a plan from Microsoft Project XML (MSPDI) into what this product can hold, and
listing, task by task, what it cannot: the import's preview. Pure: bytes in, a PlanFile out.

The file is parsed by defusedxml, so entity definitions (billion laughs), external entities
and DTD tricks are refused before anything is read, and a file over MAX_FILE_BYTES is
refused unread. What the plan cannot represent is never guessed or dropped in silence: each
such element is a `Problem` naming the task, and the PM decides with the preview in hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from server.errors import Invalid
from server.i18n import N_
from server.planning.models import DependencyType

MAX_FILE_BYTES = 20 * 1024 * 1024
NAMESPACE = "{http://schemas.microsoft.com/project}"
MINUTES_PER_DAY = 480
TENTHS_PER_DAY = MINUTES_PER_DAY * 10
LINK_TYPES = {"0": DependencyType.FF, "1": DependencyType.FS, "2": DependencyType.SF}
LINK_TYPES["3"] = DependencyType.SS
# MSPDI duration formats counted in elapsed (calendar) time: em, eh, ed, ew, emo, e%.
ELAPSED_FORMATS = {"4", "6", "8", "10", "12", "20", "36", "38", "40", "42", "44"}
ASAP, START_NO_EARLIER_THAN = "0", "4"
_DURATION = re.compile(
    r"^-?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?T?(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$"
)


@dataclass(frozen=True)
class Problem:
    """Something of the file this plan cannot hold, on the task named (or the whole file)."""

    task: str
    what: str  # a message id, translated where it is shown
    detail: str = ""


@dataclass
class FileLink:
    predecessor_uid: int
    type: DependencyType
    lag_days: int


@dataclass
class FileTask:
    uid: int
    name: str
    outline_level: int
    duration_days: int
    is_milestone: bool
    is_summary: bool
    planned_start: date | None  # a "start no earlier than" date; None: with the project
    percent_complete: int = 0
    actual_start: date | None = None
    actual_finish: date | None = None
    remaining_days: int | None = None
    deliverable: str = ""
    # Who does it and for which department, by name or e-mail, matched to the team on import.
    owner: str = ""
    owner_email: str = ""
    department: str = ""
    wbs_code: str = ""
    links: list[FileLink] = field(default_factory=list)
    baseline: tuple[date, date] | None = None
    # The file's own computed dates and float, compared with ours after the import.
    early_start: date | None = None
    early_finish: date | None = None
    total_float_days: float | None = None


@dataclass
class PlanFile:
    start: date | None
    status_date: date | None
    tasks: list[FileTask]
    exceptions: list[tuple[date, bool, str]]
    problems: list[Problem]


def _text(element: Element, tag: str) -> str | None:
    found = element.find(NAMESPACE + tag)
    return found.text.strip() if found is not None and found.text else None


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        return None


def _hours(value: str | None) -> float | None:
    """An MSPDI duration (PT40H0M0S) in hours; None when it is not one."""
    match = _DURATION.match(value or "")
    if match is None or (value or "").startswith("-"):
        return None
    years, months, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    if years or months:
        return None
    return days * 24 + hours + minutes / 60 + seconds / 3600


def parse(data: bytes) -> Element:
    """The file's root element, or a refusal naming why the file cannot be read."""
    if len(data) > MAX_FILE_BYTES:
        raise Invalid(
            N_("The file is larger than %(size)s MB."), field="file", size=MAX_FILE_BYTES // 2**20
        )
    try:
        root: Element = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as error:
        raise Invalid(
            N_("The file declares entities or a DTD, which a plan never needs: refused."),
            field="file",
        ) from error
    except ParseError as error:
        raise Invalid(
            N_("The file is not well-formed XML (%(where)s)."), field="file", where=str(error)
        ) from error
    if root.tag != NAMESPACE + "Project":
        raise Invalid(
            N_("This is not a Microsoft Project XML file (MSPDI): its root is not <Project>."),
            field="file",
        )
    return root


def read_plan_file(data: bytes) -> PlanFile:
    root = parse(data)
    problems: list[Problem] = []
    tasks = [
        task
        for element in root.iterfind(f"{NAMESPACE}Tasks/{NAMESPACE}Task")
        if (task := _task(element, problems)) is not None
    ]
    _check_links(tasks, problems)
    _assign_owners(root, tasks, problems)
    return PlanFile(
        start=_day(_text(root, "StartDate")),
        status_date=_day(_text(root, "StatusDate")),
        tasks=tasks,
        exceptions=_exceptions(root, problems),
        problems=problems,
    )


def _task(element: Element, problems: list[Problem]) -> FileTask | None:
    uid_text = _text(element, "UID")
    name = _text(element, "Name") or ""
    if _text(element, "IsNull") == "1" or uid_text == "0":
        return None  # blank rows, and the project's own summary row (UID 0)
    if uid_text is None or not uid_text.isdigit():
        problems.append(Problem(name or "?", N_("A task without a numeric UID was left out.")))
        return None
    summary = _text(element, "Summary") == "1"
    task = FileTask(
        uid=int(uid_text),
        name=name,
        outline_level=int(_text(element, "OutlineLevel") or "1"),
        duration_days=0,
        is_milestone=_text(element, "Milestone") == "1",
        is_summary=summary,
        planned_start=None,
        percent_complete=int(float(_text(element, "PercentComplete") or "0")),
        actual_start=_day(_text(element, "ActualStart")),
        actual_finish=_day(_text(element, "ActualFinish")),
        deliverable=_text(element, "Notes") or "",
        early_start=_day(_text(element, "EarlyStart") or _text(element, "Start")),
        early_finish=_day(_text(element, "EarlyFinish") or _text(element, "Finish")),
    )
    if not name:
        problems.append(Problem(f"UID {uid_text}", N_("The task has no name.")))
    _duration(element, task, problems)
    _constraint(element, task, problems)
    _unsupported_settings(element, task, problems)
    remaining = _hours(_text(element, "RemainingDuration"))
    if remaining is not None:
        task.remaining_days = round(remaining * 60 / MINUTES_PER_DAY)
    slack = _text(element, "TotalSlack")
    task.total_float_days = (
        int(slack) / TENTHS_PER_DAY if slack and slack.lstrip("-").isdigit() else None
    )
    task.links = [
        link
        for link in map(
            lambda e: _link(e, task, problems), element.iterfind(NAMESPACE + "PredecessorLink")
        )
        if link
    ]
    baseline = next(
        (b for b in element.iterfind(NAMESPACE + "Baseline") if _text(b, "Number") == "0"), None
    )
    if baseline is not None:
        start, finish = _day(_text(baseline, "Start")), _day(_text(baseline, "Finish"))
        if start and finish:
            task.baseline = (start, finish)
    return task


def _duration(element: Element, task: FileTask, problems: list[Problem]) -> None:
    if _text(element, "DurationFormat") in ELAPSED_FORMATS:
        problems.append(Problem(task.name, N_("Elapsed durations are not supported.")))
    hours = _hours(_text(element, "Duration"))
    if hours is None or hours < 0:
        problems.append(
            Problem(
                task.name,
                N_("The duration is not a valid duration."),
                _text(element, "Duration") or "",
            )
        )
        return
    days = hours * 60 / MINUTES_PER_DAY
    if abs(days - round(days)) > 1e-6:
        problems.append(
            Problem(task.name, N_("Durations of part of a day are not supported."), f"{days:g}")
        )
    task.duration_days = round(days)


def _constraint(element: Element, task: FileTask, problems: list[Problem]) -> None:
    kind = _text(element, "ConstraintType") or ASAP
    if kind == START_NO_EARLIER_THAN:
        task.planned_start = _day(_text(element, "ConstraintDate"))
    elif kind != ASAP:
        problems.append(
            Problem(
                task.name,
                N_(
                    "Only “as soon as possible” and “start no earlier than” constraints are "
                    "supported."
                ),
                kind,
            )
        )


def _unsupported_settings(element: Element, task: FileTask, problems: list[Problem]) -> None:
    if _text(element, "Manual") == "1":
        problems.append(Problem(task.name, N_("Manually scheduled tasks are not supported.")))
    calendar = _text(element, "CalendarUID")
    if calendar not in (None, "-1"):
        problems.append(Problem(task.name, N_("Task calendars are not supported.")))
    if (_hours(_text(element, "LevelingDelay")) or 0) > 0:
        problems.append(Problem(task.name, N_("Resource leveling delays are not supported.")))


def _link(element: Element, task: FileTask, problems: list[Problem]) -> FileLink | None:
    uid, kind = _text(element, "PredecessorUID"), _text(element, "Type") or "1"
    if uid is None or not uid.isdigit() or kind not in LINK_TYPES:
        problems.append(Problem(task.name, N_("A link names no predecessor or an unknown type.")))
        return None
    if _text(element, "LagFormat") in ELAPSED_FORMATS:
        problems.append(Problem(task.name, N_("Elapsed lags are not supported.")))
    lag = int(_text(element, "LinkLag") or "0")
    if lag % TENTHS_PER_DAY:
        problems.append(
            Problem(
                task.name,
                N_("Lags of part of a day are not supported."),
                f"{lag / TENTHS_PER_DAY:g}",
            )
        )
    return FileLink(int(uid), LINK_TYPES[kind], round(lag / TENTHS_PER_DAY))


def _check_links(tasks: list[FileTask], problems: list[Problem]) -> None:
    by_uid = {task.uid: task for task in tasks}
    for task in tasks:
        for link in task.links:
            predecessor = by_uid.get(link.predecessor_uid)
            if predecessor is None:
                problems.append(
                    Problem(
                        task.name,
                        N_("A link names a predecessor that is not in the file."),
                        str(link.predecessor_uid),
                    )
                )
            elif task.is_summary or predecessor.is_summary:
                problems.append(
                    Problem(
                        task.name,
                        N_("Links to or from summary tasks are not supported."),
                        predecessor.name,
                    )
                )


def _assign_owners(root: Element, tasks: list[FileTask], problems: list[Problem]) -> None:
    """A task's owner is the resource assigned to it; a task has one owner, so of several
    the first is kept and the others are listed."""
    people = {
        _text(r, "UID"): (_text(r, "Name") or "", _text(r, "EmailAddress") or "")
        for r in root.iterfind(f"{NAMESPACE}Resources/{NAMESPACE}Resource")
    }
    assigned: dict[str, list[tuple[str, str]]] = {}
    for assignment in root.iterfind(f"{NAMESPACE}Assignments/{NAMESPACE}Assignment"):
        person = people.get(_text(assignment, "ResourceUID"))
        if person is not None and any(person):
            assigned.setdefault(_text(assignment, "TaskUID") or "", []).append(person)
    for task in tasks:
        found = assigned.get(str(task.uid), [])
        if not found:
            continue
        task.owner, task.owner_email = found[0]
        if len(found) > 1:
            problems.append(
                Problem(
                    task.name,
                    N_("A task has one owner here: the first resource is kept."),
                    ", ".join(name or email for name, email in found[1:]),
                )
            )


def _exceptions(root: Element, problems: list[Problem]) -> list[tuple[date, bool, str]]:
    calendar_uid = _text(root, "CalendarUID") or "1"
    calendar = next(
        (
            c
            for c in root.iterfind(f"{NAMESPACE}Calendars/{NAMESPACE}Calendar")
            if _text(c, "UID") == calendar_uid
        ),
        None,
    )
    if calendar is None:
        return []
    working = {
        _text(day, "DayType"): _text(day, "DayWorking") == "1"
        for day in calendar.iterfind(f"{NAMESPACE}WeekDays/{NAMESPACE}WeekDay")
        if _text(day, "DayType") != "0"
    }
    five_days = {str(n): 2 <= n <= 6 for n in range(1, 8)}
    if working and any(working.get(k, v) != v for k, v in five_days.items()):
        problems.append(
            Problem(
                "", N_("Calendars other than a five-day week with exceptions are not supported.")
            )
        )
    found = []
    for exception in calendar.iterfind(f"{NAMESPACE}Exceptions/{NAMESPACE}Exception"):
        period = exception.find(NAMESPACE + "TimePeriod")
        first = _day(_text(period, "FromDate")) if period is not None else None
        last = _day(_text(period, "ToDate")) if period is not None else None
        if first is None or last is None or (last - first).days > 366:
            continue
        day_working = _text(exception, "DayWorking") == "1"
        name = _text(exception, "Name") or ""
        for offset in range((last - first).days + 1):
            found.append((date.fromordinal(first.toordinal() + offset), day_working, name))
    return found
