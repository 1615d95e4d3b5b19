"""The plan as Microsoft Project XML (MSPDI), which MS Project and ProjectLibre open: tasks
with their outline, links with lags, the working calendar with the company's and the
project's exceptions, baseline 0, progress and the status date. Pure: data in, bytes out.

A working day is 08:00–12:00 and 13:00–17:00 (480 minutes), so a day of duration is PT8H
and a day of lag or slack is 4,800 tenths of a minute (MSPDI's unit for both). A task with
no predecessor starts on its planned start: "start no earlier than" (ConstraintType 4) when
that is after the project's start, "as soon as possible" otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from xml.etree import ElementTree as ET

from server.planning.calendar import WorkingCalendar
from server.planning.models import DependencyType
from server.planning.queries import PlanRow
from server.projects.models import Project

NAMESPACE = "http://schemas.microsoft.com/project"
MINUTES_PER_DAY = 480
TENTHS_PER_DAY = MINUTES_PER_DAY * 10
# MSPDI's link types: 0 finish-to-finish, 1 finish-to-start, 2 start-to-finish, 3 start-to-start.
LINK_TYPES = {
    DependencyType.FF: 0,
    DependencyType.FS: 1,
    DependencyType.SF: 2,
    DependencyType.SS: 3,
}
DAYS_FORMAT = "7"  # durations and lags shown in days
ASAP, START_NO_EARLIER_THAN = "0", "4"
WORKING_TIMES = (("08:00:00", "12:00:00"), ("13:00:00", "17:00:00"))


def _start(day: date) -> str:
    return f"{day.isoformat()}T08:00:00"


def _finish(day: date) -> str:
    return f"{day.isoformat()}T17:00:00"


def _days(count: int) -> str:
    return f"PT{count * MINUTES_PER_DAY // 60}H0M0S"


def _add(parent: ET.Element, tag: str, value: object) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = str(value)
    return element


def _working_times(parent: ET.Element) -> None:
    times = ET.SubElement(parent, "WorkingTimes")
    for start, finish in WORKING_TIMES:
        working = ET.SubElement(times, "WorkingTime")
        _add(working, "FromTime", start)
        _add(working, "ToTime", finish)


def _calendar(
    parent: ET.Element, project: Project, calendar: WorkingCalendar, first: date, last: date
) -> None:
    element = ET.SubElement(ET.SubElement(parent, "Calendars"), "Calendar")
    _add(element, "UID", 1)
    _add(element, "Name", f"{project.code} 工作日历")
    _add(element, "IsBaseCalendar", 1)
    week = ET.SubElement(element, "WeekDays")
    for day_type in range(1, 8):  # 1 Sunday … 7 Saturday
        weekday = ET.SubElement(week, "WeekDay")
        _add(weekday, "DayType", day_type)
        working = 2 <= day_type <= 6
        _add(weekday, "DayWorking", int(working))
        if working:
            _working_times(weekday)
    exceptions = ET.SubElement(element, "Exceptions")
    for day, working in calendar.exceptions_between(first, last):
        exception = ET.SubElement(exceptions, "Exception")
        _add(exception, "EnteredByOccurrences", 0)
        period = ET.SubElement(exception, "TimePeriod")
        _add(period, "FromDate", f"{day.isoformat()}T00:00:00")
        _add(period, "ToDate", f"{day.isoformat()}T23:59:00")
        _add(exception, "Occurrences", 1)
        _add(exception, "Name", calendar.name_of(day) or ("调休上班" if working else "休息"))
        _add(exception, "Type", 1)  # daily
        _add(exception, "DayWorking", int(working))
        if working:
            _working_times(exception)


@dataclass(frozen=True)
class _Plan:
    project: Project
    calendar: WorkingCalendar
    uid: dict[int, int]  # task id → MSPDI UID


def _task(parent: ET.Element, number: int, row: PlanRow, plan: _Plan) -> None:
    element = ET.SubElement(parent, "Task")
    _add(element, "UID", plan.uid[row.task.id])
    _add(element, "ID", number)
    _add(element, "Name", row.task.name)
    _add(element, "Manual", 0)
    _add(element, "Type", 1)  # fixed duration: durations here are working days, not work
    _add(element, "IsNull", 0)
    _add(element, "WBS", row.task.wbs_code)
    _add(element, "OutlineNumber", row.task.wbs_code)
    _add(element, "OutlineLevel", row.depth + 1)
    _dates(element, row, plan.calendar)
    _progress(element, row)
    # A summary's own start only orders it among its siblings; it is kept the same way.
    constrained = row.task.planned_start != plan.project.start_date
    _add(element, "ConstraintType", START_NO_EARLIER_THAN if constrained else ASAP)
    if constrained:
        _add(element, "ConstraintDate", _start(row.task.planned_start))
    if row.task.deliverable:
        _add(element, "Notes", row.task.deliverable)
    _links(element, row, plan.uid)
    if row.baseline is not None:
        baseline = ET.SubElement(element, "Baseline")
        _add(baseline, "Number", 0)
        _add(baseline, "Start", _start(row.baseline.start))
        _add(baseline, "Finish", _finish(row.baseline.finish))
        days = plan.calendar.duration_between(row.baseline.start, row.baseline.finish)
        _add(baseline, "Duration", _days(days))


def _dates(element: ET.Element, row: PlanRow, calendar: WorkingCalendar) -> None:
    task, schedule = row.task, row.schedule
    start = schedule.early_start if schedule else task.planned_start
    finish = schedule.early_finish if schedule else task.planned_start
    milestone = task.is_milestone and not row.is_summary
    duration = 0 if milestone else calendar.duration_between(start, finish)
    # A milestone sits at the end of its day, where the finish of its predecessor is.
    _add(element, "Start", _finish(start) if milestone else _start(start))
    _add(element, "Finish", _finish(finish))
    _add(element, "Duration", _days(duration))
    _add(element, "DurationFormat", DAYS_FORMAT)
    _add(element, "Milestone", int(milestone))
    _add(element, "Summary", int(row.is_summary))
    if schedule is None:
        return
    _add(element, "Critical", int(schedule.is_critical))
    _add(element, "EarlyStart", _start(schedule.early_start))
    _add(element, "EarlyFinish", _finish(schedule.early_finish))
    _add(element, "LateStart", _start(schedule.late_start))
    _add(element, "LateFinish", _finish(schedule.late_finish))
    _add(element, "FreeSlack", schedule.free_float * TENTHS_PER_DAY)
    _add(element, "TotalSlack", schedule.total_float * TENTHS_PER_DAY)


def _progress(element: ET.Element, row: PlanRow) -> None:
    _add(element, "PercentComplete", row.task.percent_complete)
    if row.task.actual_start is not None:
        _add(element, "ActualStart", _start(row.task.actual_start))
    if row.task.actual_finish is not None:
        _add(element, "ActualFinish", _finish(row.task.actual_finish))
    if row.schedule is not None and not row.is_summary:
        _add(element, "RemainingDuration", _days(row.schedule.remaining_days))


def _links(element: ET.Element, row: PlanRow, uid: dict[int, int]) -> None:
    for link in row.links:
        if link.successor_id != row.task.id or link.predecessor_id not in uid:
            continue
        predecessor = ET.SubElement(element, "PredecessorLink")
        _add(predecessor, "PredecessorUID", uid[link.predecessor_id])
        _add(predecessor, "Type", LINK_TYPES[DependencyType(link.type)])
        _add(predecessor, "CrossProject", 0)
        _add(predecessor, "LinkLag", link.lag_days * TENTHS_PER_DAY)
        _add(predecessor, "LagFormat", DAYS_FORMAT)


def _owners(root: ET.Element, rows: Sequence[PlanRow], uid: dict[int, int]) -> None:
    """Each owner as a work resource, assigned to the tasks they own."""
    people = {name: n for n, name in enumerate(dict.fromkeys(r.owner for r in rows if r.owner), 1)}
    resources = ET.SubElement(root, "Resources")
    for name, number in people.items():
        resource = ET.SubElement(resources, "Resource")
        _add(resource, "UID", number)
        _add(resource, "ID", number)
        _add(resource, "Name", name)
        _add(resource, "Type", 1)  # work
    assignments = ET.SubElement(root, "Assignments")
    for number, row in enumerate((r for r in rows if r.owner), start=1):
        assignment = ET.SubElement(assignments, "Assignment")
        _add(assignment, "UID", number)
        _add(assignment, "TaskUID", uid[row.task.id])
        _add(assignment, "ResourceUID", people[row.owner])
        _add(assignment, "Units", 1)


def _outline_key(row: PlanRow) -> list[int]:
    return [int(part) for part in row.task.wbs_code.split(".") if part.isdigit()]


def plan_xml(project: Project, rows: Sequence[PlanRow], calendar: WorkingCalendar) -> bytes:
    """The plan in WBS order; UIDs are 1, 2, 3… in that order (MS Project's own)."""
    ordered = sorted(rows, key=_outline_key)
    plan = _Plan(project, calendar, {row.task.id: n for n, row in enumerate(ordered, start=1)})
    finishes = [r.schedule.early_finish for r in ordered if r.schedule is not None]
    last = max(finishes, default=project.start_date)
    root = ET.Element("Project", xmlns=NAMESPACE)
    _add(root, "SaveVersion", 14)
    _add(root, "Name", f"{project.code}.xml")
    _add(root, "Title", project.name)
    _add(root, "ScheduleFromStart", 1)
    _add(root, "StartDate", _start(project.start_date))
    _add(root, "FinishDate", _finish(last))
    _add(root, "CalendarUID", 1)
    _add(root, "DefaultStartTime", "08:00:00")
    _add(root, "DefaultFinishTime", "17:00:00")
    _add(root, "MinutesPerDay", MINUTES_PER_DAY)
    _add(root, "MinutesPerWeek", MINUTES_PER_DAY * 5)
    _add(root, "DaysPerMonth", 20)
    if project.status_date is not None:
        _add(root, "StatusDate", _finish(project.status_date))
    _add(root, "DurationFormat", DAYS_FORMAT)
    # The exceptions of the years the plan spans, and of the year after, where it may move.
    _calendar(
        root, project, calendar, date(project.start_date.year, 1, 1), date(last.year + 1, 12, 31)
    )
    tasks = ET.SubElement(root, "Tasks")
    for number, row in enumerate(ordered, start=1):
        _task(tasks, number, row, plan)
    _owners(root, ordered, plan.uid)
    ET.indent(root, space=" ")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + body
