"""Reading MS Project XML for an import's preview: what the plan can hold is read, what it
cannot is listed with the task named, and a hostile or broken file is refused unread."""

from __future__ import annotations

from datetime import date

import pytest

from server.errors import Invalid
from server.planning import mspdi, project_calendar
from server.planning import service as planning
from server.planning.models import DependencyType
from server.planning.mspdi_read import MAX_FILE_BYTES, read_plan_file
from server.planning.queries import plan_view
from tests import factories as f
from tests.server.test_changes import plan

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Project xmlns="http://schemas.microsoft.com/project">'
)


def project_file(tasks: str, week: str = "", start: str = "2026-09-21T08:00:00") -> bytes:
    calendar = (
        f"<CalendarUID>1</CalendarUID><Calendars><Calendar><UID>1</UID><WeekDays>{week}"
        "</WeekDays></Calendar></Calendars>"
    )
    return (
        f"{HEAD}<StartDate>{start}</StartDate>{calendar}<Tasks>{tasks}</Tasks></Project>".encode()
    )


def task(uid: int, name: str, extra: str = "", duration: str = "PT8H0M0S", level: int = 1) -> str:
    return (
        f"<Task><UID>{uid}</UID><ID>{uid}</ID><Name>{name}</Name><OutlineLevel>{level}"
        f"</OutlineLevel><Duration>{duration}</Duration>{extra}</Task>"
    )


async def test_our_own_export_reads_back_whole(db):
    p = await plan()
    pm = f.actor(p.pm)
    e = await planning.create_task(
        pm,
        project_id=p.project.id,
        data=planning.TaskInput(
            name="发布准备",
            planned_start=date(2026, 10, 12),
            duration_days=1,
            deliverable="彩排记录",
        ),
    )
    await planning.add_dependency(
        pm, predecessor_id=p.tasks["D"].id, successor_id=e.id, type="SS", lag_days=2
    )
    await project_calendar.set_project_calendar_day(
        pm, project_id=p.project.id, day=date(2026, 11, 20), is_working=False, name="运动会"
    )
    view = await plan_view(p.project)
    read = read_plan_file(mspdi.plan_xml(p.project, view.rows, view.calendar))
    assert read.problems == []
    assert read.start == date(2026, 9, 21)
    by_name = {t.name: t for t in read.tasks}
    assert [t.name for t in read.tasks] == ["设计", "试产", "发布会", "宣传物料", "发布准备"]
    assert (by_name["设计"].duration_days, by_name["试产"].duration_days) == (5, 3)
    assert by_name["发布会"].is_milestone and by_name["发布会"].duration_days == 0
    assert by_name["发布准备"].planned_start == date(2026, 10, 12)
    assert by_name["设计"].planned_start is None  # starts with the project
    assert by_name["发布准备"].deliverable == "彩排记录"
    (link,) = by_name["发布准备"].links
    assert (link.type, link.lag_days) == (DependencyType.SS, 2)
    assert link.predecessor_uid == by_name["宣传物料"].uid
    assert by_name["宣传物料"].total_float_days is not None
    days = {day: (working, name) for day, working, name in read.exceptions}
    assert days[date(2026, 10, 1)] == (False, "国庆节")
    assert days[date(2026, 10, 10)] == (True, "国庆调休")
    assert days[date(2026, 11, 20)][0] is False


def test_what_the_plan_cannot_hold_is_listed_with_the_task_named():
    summary = task(1, "阶段一", "<Summary>1</Summary>", "PT16H0M0S")
    tasks = "".join(
        [
            summary,
            task(2, "手工排程", "<Manual>1</Manual>", level=2),
            task(3, "日历天", "<DurationFormat>8</DurationFormat>", "PT24H0M0S", level=2),
            task(4, "半天", "", "PT4H0M0S", level=2),
            task(5, "必须开始", "<ConstraintType>2</ConstraintType>", level=2),
            task(6, "自有日历", "<CalendarUID>3</CalendarUID>", level=2),
            task(
                7,
                "接在摘要后",
                "<PredecessorLink><PredecessorUID>1</PredecessorUID><Type>1</Type></PredecessorLink>",
            ),
            task(
                8,
                "前置不存在",
                "<PredecessorLink><PredecessorUID>99</PredecessorUID><Type>1</Type></PredecessorLink>",
            ),
            task(
                9,
                "半天间隔",
                "<PredecessorLink><PredecessorUID>4</PredecessorUID><Type>1</Type><LinkLag>2400</LinkLag></PredecessorLink>",
            ),
            task(10, "负工期", "", "-PT8H0M0S"),
        ]
    )
    six_days = "".join(
        f"<WeekDay><DayType>{n}</DayType><DayWorking>{int(n != 1)}</DayWorking></WeekDay>"
        for n in range(1, 8)
    )
    read = read_plan_file(project_file(tasks, week=six_days))
    listed = {(p.task, p.what) for p in read.problems}
    assert ("手工排程", "Manually scheduled tasks are not supported.") in listed
    assert ("日历天", "Elapsed durations are not supported.") in listed
    assert ("半天", "Durations of part of a day are not supported.") in listed
    assert (
        "必须开始",
        "Only “as soon as possible” and “start no earlier than” constraints are supported.",
    ) in listed
    assert ("自有日历", "Task calendars are not supported.") in listed
    assert ("接在摘要后", "Links to or from summary tasks are not supported.") in listed
    assert ("前置不存在", "A link names a predecessor that is not in the file.") in listed
    assert ("半天间隔", "Lags of part of a day are not supported.") in listed
    assert ("负工期", "The duration is not a valid duration.") in listed
    assert ("", "Calendars other than a five-day week with exceptions are not supported.") in listed
    assert len(read.problems) == 10


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b"<Project>&b;</Project>",
            "declares entities or a DTD",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b"<Project>&e;</Project>",
            "declares entities or a DTD",
        ),
        (b"<Project><Tasks></Project>", "not well-formed XML"),
        (b'<Plan xmlns="http://schemas.microsoft.com/project"/>', "not a Microsoft Project XML"),
        (b" " * (MAX_FILE_BYTES + 1), "larger than 20 MB"),
    ],
)
def test_a_hostile_or_broken_file_is_refused_unread(data, message):
    with pytest.raises(Invalid) as refused:
        read_plan_file(data)
    assert refused.value.field == "file"
    assert message in refused.value.translated("en")


def test_the_resource_assigned_is_the_owner_and_a_second_one_is_listed():
    resources = (
        "<Resources><Resource><UID>1</UID><Name>赵工</Name>"
        "<EmailAddress>zhao@example.com</EmailAddress></Resource>"
        "<Resource><UID>2</UID><Name>钱经理</Name></Resource></Resources>"
    )
    assignments = "".join(
        f"<Assignment><UID>{n}</UID><TaskUID>{t}</TaskUID><ResourceUID>{r}</ResourceUID>"
        "</Assignment>"
        for n, (t, r) in enumerate([(1, 1), (2, 2), (2, 1)], start=1)
    )
    data = project_file(task(1, "设计") + task(2, "评审") + task(3, "发布")).replace(
        b"</Tasks>", f"</Tasks>{resources}<Assignments>{assignments}</Assignments>".encode()
    )
    read = read_plan_file(data)
    owners = {t.name: (t.owner, t.owner_email) for t in read.tasks}
    assert owners == {
        "设计": ("赵工", "zhao@example.com"),
        "评审": ("钱经理", ""),
        "发布": ("", ""),
    }
    assert [(p.task, p.detail) for p in read.problems] == [("评审", "赵工")]
