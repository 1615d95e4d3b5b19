"""Meetings: every rule of creating, reporting, running, minutes and their deadline."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest

from server.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, each_error
from server.meetings import deadlines as meeting_deadlines
from server.meetings import exports
from server.meetings import minutes as meeting_minutes
from server.meetings import queries as meeting_queries
from server.meetings import running as meeting_running
from server.meetings import service as meetings
from server.meetings.models import (
    ActionItem,
    Attendee,
    Decision,
    DepartmentReport,
    Meeting,
    MeetingStatus,
    MinutesRevision,
)
from server.notices.models import Notice
from server.org.models import Department, User
from server.planning import service as planning
from server.planning.models import Task, TaskStatus
from server.projects.models import Project, Role
from tests import factories as f


@dataclass
class Team:
    project: Project
    pmo: Department
    rnd: Department
    mkt: Department
    pm: User
    co_chair: User
    rnd_liaison: User
    mkt_liaison: User
    engineer: User
    pmo_head: User
    rnd_head: User
    outsider: User


async def team() -> Team:
    pmo = await f.department("项目管理部")
    rnd = await f.department("研发部")
    mkt = await f.department("市场部")
    pm = await f.user(name="王芳", dept=pmo)
    project = await f.project(pm, departments=[rnd, mkt])
    co_chair = await f.user(name="陈总", dept=mkt)
    rnd_liaison = await f.user(name="李娜", dept=rnd)
    mkt_liaison = await f.user(name="刘洋", dept=mkt)
    engineer = await f.user(name="孙浩", dept=rnd)
    pmo_head = await f.user(name="周主任", dept=pmo)
    rnd_head = await f.user(name="张伟", dept=rnd)
    outsider = await f.user(name="路人", dept=rnd)
    await f.member(pm, project, co_chair, Role.CO_CHAIR, mkt)
    await f.member(pm, project, rnd_liaison, Role.LIAISON, rnd)
    await f.member(pm, project, mkt_liaison, Role.LIAISON, mkt)
    await f.member(pm, project, engineer, Role.MEMBER, rnd)
    await f.member(pm, project, pmo_head, Role.DEPARTMENT_HEAD, pmo)
    await f.member(pm, project, rnd_head, Role.DEPARTMENT_HEAD, rnd)
    return Team(
        project, pmo, rnd, mkt, pm, co_chair, rnd_liaison, mkt_liaison, engineer, pmo_head,
        rnd_head, outsider,
    )  # fmt: skip


def fields_of(error: DomainError) -> set[str | None]:
    return {e.field for e in each_error(error)}


def soon(days: int = 2, hour: int = 10) -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour - 8, 0, tzinfo=UTC)


async def weekly(t: Team, **overrides: object) -> Meeting:
    data = meetings.MeetingInput(
        kind="WEEKLY",
        title="项目周例会",
        scheduled_start=soon(),
        duration_minutes=45,
        place="3号会议室",
        agenda=[
            meetings.AgendaInput(title="上周行动项回顾", owner_id=t.pm.id, minutes=10),
            meetings.AgendaInput(title="各部门汇报", minutes=25),
        ],
    )
    for name, value in overrides.items():
        setattr(data, name, value)
    return await meetings.create_meeting(f.actor(t.pm), project_id=t.project.id, data=data)


async def live(t: Team) -> Meeting:
    meeting = await weekly(t)
    return await meeting_running.start_meeting(f.actor(t.pm), meeting_id=meeting.id)


# --- creating ----------------------------------------------------------------------------------


async def test_a_weekly_series_invites_the_team_once_with_a_calendar_file(db):
    t = await team()
    first = await weekly(t, repeat_weeks=3)
    series = await Meeting.filter(series_key=first.id).order_by("scheduled_start")
    assert len(series) == 3
    assert series[1].scheduled_start - series[0].scheduled_start == timedelta(weeks=1)
    invited = {
        a.user.name for a in await Attendee.filter(meeting_id=first.id).select_related("user")
    }
    # Without a list: the PM, the co-chair and the liaisons.
    assert invited == {"王芳", "陈总", "李娜", "刘洋"}
    mails = await Notice.filter(dedup_key__startswith=f"meeting-invite:{first.id}:")
    assert len(mails) == 4
    ics = icalendar.Calendar.from_ical(mails[0].attachments[0]["content"])
    events = ics.walk("VEVENT")
    assert len(events) == 3 and str(ics["method"]) == "REQUEST"
    assert events[0]["dtstart"].dt == series[0].scheduled_start
    assert events[0]["dtend"].dt - events[0]["dtstart"].dt == timedelta(minutes=45)
    assert "项目周例会" in str(events[0]["summary"])


async def test_bad_meeting_input_is_refused_on_its_field_and_creates_nothing(db):
    t = await team()
    with pytest.raises(Invalid) as refused:
        await weekly(
            t,
            duration_minutes=90,
            attendee_ids=[t.outsider.id],
            agenda=[meetings.AgendaInput(title="", minutes=20)],
            title="",
        )
    fields = fields_of(refused.value)
    assert {"durationMinutes", "attendeeIds", "agenda.0.title", "title"} <= fields
    with pytest.raises(Invalid) as too_long:
        await weekly(t, agenda=[meetings.AgendaInput(title="汇报", minutes=50)])
    assert fields_of(too_long.value) == {"agenda"}
    with pytest.raises(Invalid) as over:
        await weekly(
            t,
            agenda=[
                meetings.AgendaInput(title="一", minutes=30),
                meetings.AgendaInput(title="二", minutes=30),
            ],
        )
    assert fields_of(over.value) == {"agenda"}
    with pytest.raises(Invalid):
        await weekly(t, kind="TOPIC", repeat_weeks=2, duration_minutes=90)
    assert await Meeting.all().count() == 0
    assert await Notice.filter(dedup_key__startswith="meeting-invite").count() == 0


async def test_only_the_pm_or_a_co_chair_schedules_starts_ends_and_publishes(db):
    t = await team()
    with pytest.raises(Forbidden):
        await meetings.create_meeting(
            f.actor(t.rnd_liaison),
            project_id=t.project.id,
            data=meetings.MeetingInput(
                kind="TOPIC", title="专题", scheduled_start=soon(), duration_minutes=60
            ),
        )
    meeting = await weekly(t)
    for someone in (t.rnd_liaison, t.engineer, t.rnd_head):
        with pytest.raises(Forbidden):
            await meeting_running.start_meeting(f.actor(someone), meeting_id=meeting.id)
    with pytest.raises(NotFound):
        await meeting_running.start_meeting(f.actor(t.outsider), meeting_id=meeting.id)
    started = await meeting_running.start_meeting(f.actor(t.co_chair), meeting_id=meeting.id)
    assert started.status == MeetingStatus.LIVE
    with pytest.raises(Invalid, match="already live"):
        await meeting_running.start_meeting(f.actor(t.pm), meeting_id=meeting.id)
    with pytest.raises(Forbidden):
        await meeting_running.end_meeting(f.actor(t.rnd_liaison), meeting_id=meeting.id)
    await meeting_running.end_meeting(f.actor(t.co_chair), meeting_id=meeting.id)
    with pytest.raises(Forbidden):
        await meeting_minutes.publish_minutes(f.actor(t.rnd_liaison), meeting_id=meeting.id)
    assert await MinutesRevision.all().count() == 0


# --- department reports ------------------------------------------------------------------------


async def test_a_liaison_reports_for_their_own_department_only(db):
    t = await team()
    meeting = await weekly(t)
    report = await meetings.submit_department_report(
        f.actor(t.rnd_liaison),
        meeting_id=meeting.id,
        data=meetings.ReportInput(
            department_id=t.rnd.id,
            done="完成样机",
            next_week="开始测试",
            needs=[meetings.NeedInput(department_id=t.mkt.id, text="提供用户调研数据")],
        ),
    )
    assert report.version == 1
    with pytest.raises(Forbidden):
        await meetings.submit_department_report(
            f.actor(t.rnd_liaison),
            meeting_id=meeting.id,
            data=meetings.ReportInput(department_id=t.mkt.id, done="x", next_week="y"),
        )
    with pytest.raises(Invalid) as refused:
        await meetings.submit_department_report(
            f.actor(t.rnd_liaison),
            meeting_id=meeting.id,
            data=meetings.ReportInput(
                department_id=t.rnd.id,
                done="",
                next_week="y",
                needs=[meetings.NeedInput(department_id=t.rnd.id, text="自己")],
            ),
        )
    assert fields_of(refused.value) == {"done", "needs.0.departmentId"}
    with pytest.raises(Conflict):
        await meetings.submit_department_report(
            f.actor(t.rnd_liaison),
            meeting_id=meeting.id,
            data=meetings.ReportInput(department_id=t.rnd.id, done="改", next_week="改", version=0),
        )
    kept = await DepartmentReport.get(id=report.id)
    assert (kept.done, kept.version) == ("完成样机", 1)
    view = await meeting_queries.meeting_view(meeting)
    assert [d.name for d in view.missing_departments] == ["市场部", "项目管理部"]


async def test_missing_departments_get_one_reminder_the_day_before(db):
    t = await team()
    meeting = await weekly(t, scheduled_start=soon(days=1, hour=10))
    await meetings.submit_department_report(
        f.actor(t.rnd_liaison),
        meeting_id=meeting.id,
        data=meetings.ReportInput(department_id=t.rnd.id, done="a", next_week="b"),
    )
    early = await meeting_deadlines.run_report_reminders(
        now=meeting.scheduled_start - timedelta(hours=30)
    )
    assert early.reminders == 0
    day_before = meeting.scheduled_start - timedelta(hours=20)
    first = await meeting_deadlines.run_report_reminders(now=day_before)
    again = await meeting_deadlines.run_report_reminders(now=day_before + timedelta(hours=1))
    # The rerun says what it did: nothing (issue 23, item 13).
    assert (first.reminders, again.reminders) == (1, 0)
    reminders = await Notice.filter(dedup_key__startswith="report-reminder:").select_related(
        "recipient"
    )
    assert [n.recipient.name for n in reminders] == ["刘洋"]
    assert "市场部" in reminders[0].body


# --- live ---------------------------------------------------------------------------------------


async def test_nothing_is_recorded_in_a_meeting_that_is_not_live(db):
    t = await team()
    meeting = await weekly(t)
    with pytest.raises(Invalid, match="not started"):
        await meeting_running.record_decision(f.actor(t.pm), meeting_id=meeting.id, text="定稿")
    await meeting_running.start_meeting(f.actor(t.pm), meeting_id=meeting.id)
    await meeting_running.end_meeting(f.actor(t.pm), meeting_id=meeting.id)
    with pytest.raises(Invalid, match="ended"):
        await meeting_running.record_decision(f.actor(t.pm), meeting_id=meeting.id, text="定稿")
    with pytest.raises(Invalid, match="ended"):
        await meeting_running.add_action_item(
            f.actor(t.pm),
            meeting_id=meeting.id,
            data=meeting_running.ActionItemInput(
                title="x", owner_id=t.pm.id, due_date=soon().date()
            ),
        )
    assert await Decision.all().count() == 0


async def test_two_people_recording_at_once_both_keep_their_entries(db):
    t = await team()
    meeting = await live(t)
    await asyncio.gather(
        meeting_running.record_decision(
            f.actor(t.pm), meeting_id=meeting.id, text="十二月底冻结需求"
        ),
        meeting_running.record_decision(
            f.actor(t.co_chair), meeting_id=meeting.id, text="增加一轮测试"
        ),
    )
    assert sorted(d.text for d in await Decision.filter(meeting_id=meeting.id)) == [
        "十二月底冻结需求",
        "增加一轮测试",
    ]
    # The chair or a co-chair records; the others attend, invited or not (PRODUCT.md's roles).
    for attendee in (t.engineer, t.rnd_liaison, t.rnd_head):
        with pytest.raises(Forbidden):
            await meeting_running.record_decision(
                f.actor(attendee), meeting_id=meeting.id, text="x"
            )
    assert await Decision.filter(meeting_id=meeting.id).count() == 2


async def test_an_action_item_is_appended_to_the_plan_and_renumbers_nothing(db):
    t = await team()
    far = datetime.now(UTC).date() + timedelta(days=60)
    phases = [
        await planning.create_task(
            f.actor(t.pm),
            project_id=t.project.id,
            data=planning.TaskInput(name=name, planned_start=far, duration_days=5),
        )
        for name in ("设计阶段", "开发阶段")
    ]
    meeting = await live(t)
    item = await meeting_running.add_action_item(
        f.actor(t.pm),
        meeting_id=meeting.id,
        data=meeting_running.ActionItemInput(
            title="尽快确认外观",
            owner_id=t.engineer.id,
            due_date=datetime.now(UTC).date() + timedelta(days=3),
        ),
    )
    codes = dict(await Task.filter(project_id=t.project.id).values_list("name", "wbs_code"))
    assert codes == {"设计阶段": "1", "开发阶段": "2", "尽快确认外观": "3"}
    assert item.task_id is not None and phases[1].wbs_code == "2"


async def test_an_action_item_becomes_a_task_of_its_owner_and_bad_ones_change_nothing(db):
    t = await team()
    meeting = await live(t)
    due = datetime.now(UTC).date() + timedelta(days=10)
    item = await meeting_running.add_action_item(
        f.actor(t.pm),
        meeting_id=meeting.id,
        data=meeting_running.ActionItemInput(
            title="补充测试用例", owner_id=t.engineer.id, due_date=due
        ),
    )
    task = await Task.get(id=item.task_id)
    assert (task.name, task.owner_id, task.department_id) == (
        "补充测试用例",
        t.engineer.id,
        t.rnd.id,
    )  # type: ignore[attr-defined]
    assert task.planned_finish == due
    assert f"/meetings/{meeting.id}" in task.deliverable
    tasks_before = await Task.all().count()
    with pytest.raises(Invalid) as refused:
        await meeting_running.add_action_item(
            f.actor(t.pm),
            meeting_id=meeting.id,
            data=meeting_running.ActionItemInput(
                title="x", owner_id=t.outsider.id, due_date=date(2020, 1, 1)
            ),
        )
    assert fields_of(refused.value) == {"ownerId", "dueDate"}
    assert await Task.all().count() == tasks_before
    assert await ActionItem.all().count() == 1


async def test_the_agenda_clock_moves_item_by_item(db):
    t = await team()
    meeting = await live(t)
    moved = await meeting_running.next_agenda_item(f.actor(t.pm), meeting_id=meeting.id)
    assert moved.current_item == 1
    view = await meeting_queries.meeting_view(moved)
    assert view.agenda[0].spent_seconds is not None
    assert view.current_item is not None and view.current_item.title == "各部门汇报"
    await meeting_running.set_attendance(
        f.actor(t.pm), meeting_id=meeting.id, user_id=t.mkt_liaison.id, attendance="EXCUSED"
    )
    with pytest.raises(NotFound):
        await meeting_running.set_attendance(
            f.actor(t.pm), meeting_id=meeting.id, user_id=t.engineer.id, attendance="PRESENT"
        )


# --- end, minutes, deadline ---------------------------------------------------------------------


async def run_a_weekly_meeting(t: Team) -> Meeting:
    meeting = await weekly(t)
    await meetings.submit_department_report(
        f.actor(t.rnd_liaison),
        meeting_id=meeting.id,
        data=meetings.ReportInput(
            department_id=t.rnd.id,
            done="完成样机",
            next_week="开始测试",
            needs=[meetings.NeedInput(department_id=t.mkt.id, text="提供用户调研数据")],
        ),
    )
    await meeting_running.start_meeting(f.actor(t.pm), meeting_id=meeting.id)
    await meeting_running.set_attendance(
        f.actor(t.pm), meeting_id=meeting.id, user_id=t.rnd_liaison.id, attendance="PRESENT"
    )
    await meeting_running.record_decision(
        f.actor(t.pm), meeting_id=meeting.id, text="十二月底冻结需求"
    )
    await meeting_running.add_action_item(
        f.actor(t.pm),
        meeting_id=meeting.id,
        data=meeting_running.ActionItemInput(
            title="补充测试用例",
            owner_id=t.engineer.id,
            due_date=datetime.now(UTC).date() + timedelta(days=5),
        ),
    )
    return await meeting_running.end_meeting(f.actor(t.pm), meeting_id=meeting.id)


async def test_end_drafts_the_minutes_and_needs_become_action_items(db):
    t = await team()
    ended = await run_a_weekly_meeting(t)
    assert ended.status == MeetingStatus.ENDED
    assert ended.ended_at is not None
    assert ended.minutes_due_at == ended.ended_at + timedelta(hours=24)
    assert meeting_queries.minutes_state(ended) == "due"
    need_item = await ActionItem.get(need_id__isnull=False).select_related("owner", "department")
    assert (need_item.owner.name, need_item.department.name) == ("刘洋", "市场部")  # type: ignore[union-attr]
    draft = ended.minutes_draft
    for expected in ("十二月底冻结需求", "补充测试用例", "提供用户调研数据", "完成样机", "李娜"):
        assert expected in draft


async def test_publishing_sends_once_per_person_freezes_and_corrections_are_revisions(db):
    t = await team()
    meeting = await run_a_weekly_meeting(t)
    first = await meeting_minutes.publish_minutes(f.actor(t.pm), meeting_id=meeting.id)
    assert first.revision == 1
    sent = await Notice.filter(dedup_key__startswith=f"minutes:{meeting.id}:r1:").select_related(
        "recipient"
    )
    # Attendees (PM, co-chair, two liaisons) and the heads of departments taking part.
    assert sorted(n.recipient.name for n in sent) == sorted(
        ["王芳", "陈总", "李娜", "刘洋", "周主任", "张伟"]
    )
    assert "十二月底冻结需求" in sent[0].body
    with pytest.raises(Invalid, match="already published"):
        await meeting_minutes.publish_minutes(f.actor(t.pm), meeting_id=meeting.id)
    reloaded = await Meeting.get(id=meeting.id)
    assert meeting_queries.minutes_state(reloaded) == "on_time"
    corrected = await meeting_minutes.edit_minutes(
        f.actor(t.pm),
        meeting_id=meeting.id,
        version=reloaded.version,
        body=reloaded.minutes_draft.replace("十二月底", "一月中"),
    )
    with pytest.raises(Invalid) as no_note:
        await meeting_minutes.publish_minutes(f.actor(t.pm), meeting_id=meeting.id)
    assert no_note.value.field == "changeNote"
    with pytest.raises(Conflict):
        await meeting_minutes.edit_minutes(
            f.actor(t.pm), meeting_id=meeting.id, version=reloaded.version, body="旧的"
        )
    second = await meeting_minutes.publish_minutes(
        f.actor(t.pm), meeting_id=meeting.id, change_note="冻结日期改为一月中"
    )
    assert second.revision == 2
    told = await Notice.filter(dedup_key__startswith=f"minutes:{meeting.id}:r2:")
    assert len(told) == 6
    assert "冻结日期改为一月中" in told[0].body and "一月中冻结需求" in told[0].body
    assert (await MinutesRevision.get(meeting_id=meeting.id, revision=1)).body == (
        reloaded.minutes_draft
    )
    assert corrected.version == reloaded.version + 1


async def test_late_minutes_climb_to_the_pm_then_the_initiating_head_once_each(db):
    t = await team()
    meeting = await run_a_weekly_meeting(t)
    due = meeting.minutes_due_at
    assert due is not None
    before = await meeting_deadlines.run_minutes_deadlines(now=due - timedelta(seconds=1))
    assert before.notices == 0
    at_due = await meeting_deadlines.run_minutes_deadlines(now=due)
    assert at_due.notices == 0
    late = await meeting_deadlines.run_minutes_deadlines(now=due + timedelta(seconds=1))
    again = await meeting_deadlines.run_minutes_deadlines(now=due + timedelta(hours=1))
    assert (late.notices, again.notices) == (1, 0)
    later = await meeting_deadlines.run_minutes_deadlines(now=due + timedelta(hours=24, seconds=1))
    assert later.levels == {2: 1}
    told = await Notice.filter(dedup_key__startswith=f"minutes-late:{meeting.id}:").select_related(
        "recipient"
    )
    assert sorted((n.dedup_key.split(":")[2], n.recipient.name) for n in told) == [
        ("L1", "王芳"),
        ("L2", "周主任"),
    ]
    assert (
        meeting_queries.minutes_state(await Meeting.get(id=meeting.id), now=due + timedelta(1))
        == "late"
    )


async def test_open_action_items_are_carried_to_the_next_weekly_meeting(db):
    t = await team()
    first = await weekly(t, repeat_weeks=2)
    await meeting_running.start_meeting(f.actor(t.pm), meeting_id=first.id)
    due = datetime.now(UTC).date() + timedelta(days=5)
    open_item = await meeting_running.add_action_item(
        f.actor(t.pm),
        meeting_id=first.id,
        data=meeting_running.ActionItemInput(
            title="补充测试用例", owner_id=t.engineer.id, due_date=due
        ),
    )
    done_item = await meeting_running.add_action_item(
        f.actor(t.pm),
        meeting_id=first.id,
        data=meeting_running.ActionItemInput(title="确认场地", owner_id=t.pm.id, due_date=due),
    )
    await Task.filter(id=done_item.task_id).update(status=TaskStatus.DONE)
    await meeting_running.end_meeting(f.actor(t.pm), meeting_id=first.id)
    second = await Meeting.get(series_key=first.id, id__not=first.id)
    carried = await meeting_queries.carried_action_items(second)
    assert [i.id for i in carried] == [open_item.id]


async def test_the_project_calendar_is_valid_icalendar(db):
    t = await team()
    first = await weekly(t, repeat_weeks=2, place="线上会议 https://meet.example.com/x")
    rows = (await meeting_queries.list_meetings([t.project.id]))[t.project.id]
    parsed = icalendar.Calendar.from_ical(exports.project_calendar(t.project, rows))
    events = parsed.walk("VEVENT")
    assert [str(e["uid"]) for e in events] == [f"meeting-{m.id}@xietong" for m in rows]
    assert str(events[0]["location"]).startswith("线上会议")
    assert str(parsed["version"]) == "2.0" and parsed["prodid"]
    assert events[0]["dtstart"].dt == first.scheduled_start


async def test_moving_a_meeting_sends_everyone_the_changed_invitation(db):
    t = await team()
    meeting = await weekly(t)
    later = meeting.scheduled_start + timedelta(days=1)
    with pytest.raises(Invalid) as refused:
        await meetings.reschedule_meeting(
            f.actor(t.pm),
            meeting_id=meeting.id,
            version=meeting.version,
            data=meetings.RescheduleInput(duration_minutes=90, add_attendee_ids=[t.outsider.id]),
        )
    assert fields_of(refused.value) == {"durationMinutes", "attendeeIds"}
    with pytest.raises(Forbidden):
        await meetings.reschedule_meeting(
            f.actor(t.rnd_liaison),
            meeting_id=meeting.id,
            version=meeting.version,
            data=meetings.RescheduleInput(scheduled_start=later),
        )
    moved = await meetings.reschedule_meeting(
        f.actor(t.pm),
        meeting_id=meeting.id,
        version=meeting.version,
        data=meetings.RescheduleInput(scheduled_start=later, add_attendee_ids=[t.engineer.id]),
    )
    assert moved.scheduled_start == later and moved.version == meeting.version + 1
    with pytest.raises(Conflict):
        await meetings.reschedule_meeting(
            f.actor(t.pm),
            meeting_id=meeting.id,
            version=meeting.version,
            data=meetings.RescheduleInput(place="别处"),
        )
    changed = await Notice.filter(
        dedup_key__startswith=f"meeting-invite:{meeting.id}:v{moved.version}:"
    ).select_related("recipient")
    assert sorted(n.recipient.name for n in changed) == sorted(
        ["王芳", "陈总", "李娜", "刘洋", "孙浩"]
    )
    assert "会议变更" in changed[0].subject
    # The greeting opens the body; it does not trail the subject (issue 23, item 10).
    notice = next(n for n in changed if n.recipient.name == "李娜")
    assert "您好" not in notice.subject and notice.body.startswith("李娜，您好")
    event = icalendar.Calendar.from_ical(changed[0].attachments[0]["content"]).walk("VEVENT")[0]
    assert event["dtstart"].dt == later and int(event["sequence"]) == moved.version
    await meeting_running.start_meeting(f.actor(t.pm), meeting_id=meeting.id)
    with pytest.raises(Invalid, match="not started"):
        await meetings.reschedule_meeting(
            f.actor(t.pm),
            meeting_id=meeting.id,
            version=moved.version + 1,
            data=meetings.RescheduleInput(place="别处"),
        )


async def test_a_need_taken_up_in_the_meeting_becomes_one_action_item(db):
    t = await team()
    meeting = await weekly(t)
    await meetings.submit_department_report(
        f.actor(t.rnd_liaison),
        meeting_id=meeting.id,
        data=meetings.ReportInput(
            department_id=t.rnd.id,
            done="完成样机",
            next_week="开始测试",
            needs=[meetings.NeedInput(department_id=t.mkt.id, text="提供用户调研数据")],
        ),
    )
    await meeting_running.start_meeting(f.actor(t.pm), meeting_id=meeting.id)
    view = await meeting_queries.meeting_view(await Meeting.get(id=meeting.id))
    [need] = view.open_needs
    due = datetime.now(UTC).date() + timedelta(days=3)
    item = await meeting_running.add_action_item(
        f.actor(t.pm),
        meeting_id=meeting.id,
        data=meeting_running.ActionItemInput(
            owner_id=t.mkt_liaison.id, due_date=due, need_id=need.id
        ),
    )
    assert (item.title, item.department_id) == ("提供用户调研数据", t.mkt.id)
    with pytest.raises(Invalid, match="already has an action item"):
        await meeting_running.add_action_item(
            f.actor(t.pm),
            meeting_id=meeting.id,
            data=meeting_running.ActionItemInput(owner_id=t.pm.id, due_date=due, need_id=need.id),
        )
    assert (await meeting_queries.meeting_view(await Meeting.get(id=meeting.id))).open_needs == []
    await meeting_running.end_meeting(f.actor(t.pm), meeting_id=meeting.id)
    assert await ActionItem.filter(meeting_id=meeting.id).count() == 1  # not taken up twice


async def test_the_draft_is_for_its_writers_until_the_minutes_are_published(db):
    t = await team()
    meeting = await run_a_weekly_meeting(t)
    _, _, draft = await meeting_minutes.minutes_text(f.actor(t.pm), meeting_id=meeting.id)
    assert "十二月底冻结需求" in draft
    with pytest.raises(NotFound):
        await meeting_minutes.minutes_text(f.actor(t.rnd_liaison), meeting_id=meeting.id)
    await meeting_minutes.publish_minutes(f.actor(t.co_chair), meeting_id=meeting.id)
    _, _, published = await meeting_minutes.minutes_text(
        f.actor(t.rnd_liaison), meeting_id=meeting.id
    )
    assert published == draft
    with pytest.raises(NotFound):
        await meeting_minutes.minutes_text(f.actor(t.outsider), meeting_id=meeting.id)
