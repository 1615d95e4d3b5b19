"""Problems and the escalation ladder, with the day under the test's control."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server import clock
from server.errors import Conflict, Forbidden, InvalidFields, NotFound
from server.notices.models import Channel, Notice
from server.org.models import Department, User
from server.planning import baselines as planning_baselines
from server.planning import service as planning
from server.planning.models import Task
from server.progress import service as progress
from server.projects import chat_robots
from server.projects.chat_robots import RobotInput
from server.projects.models import Project, Role
from server.risks import escalations as risk_escalations
from server.risks import problems as risk_problems
from server.risks.ladder import level_reached, next_rungs
from server.risks.models import Escalation, LadderStep, Problem, ProblemStatus
from tests import factories as f

# --- the ladder, pure ---------------------------------------------------------------------------


@given(
    days=st.integers(min_value=0, max_value=60),
    threshold=st.integers(min_value=1, max_value=5),
    critical=st.booleans(),
)
def test_ladder_levels_follow_the_thresholds(days: int, threshold: int, critical: bool) -> None:
    level = level_reached(days, threshold=threshold, critical=critical)
    assert (level == 0) == (days <= threshold)
    assert level <= (4 if critical else 3)
    assert level_reached(days + 1, threshold=threshold, critical=critical) >= level
    if level == 4:
        assert critical and days > 4 * threshold
    if not critical and level:
        assert level == min(3, (days - 1) // threshold)


@given(st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=30))
def test_every_level_reached_is_notified_once_per_episode(reached_by_day: list[int]) -> None:
    episode = notified = 0
    sent: list[tuple[int, int]] = []
    for reached in reached_by_day:
        rung = next_rungs(reached=reached, episode=episode, notified_level=notified)
        sent += [(rung.episode, level) for level in rung.levels]
        episode, notified = rung.episode, rung.level_after
    assert len(sent) == len(set(sent))
    # Within an episode the levels notified are 1..highest reached, in order.
    by_episode: dict[int, list[int]] = {}
    for ep, level in sent:
        by_episode.setdefault(ep, []).append(level)
    for levels in by_episode.values():
        assert levels == list(range(1, len(levels) + 1))


# --- the ladder run on a project ---------------------------------------------------------------


@dataclass
class Team:
    project: Project
    rnd: Department
    pm: User
    owner: User
    liaison: User
    head: User
    boss: User
    viewer: User
    long_task: Task  # 10 days, on the critical path
    short_task: Task  # 5 days, 5 days of float


async def team() -> Team:
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳", mobile="13800000001")
    project = await f.project(pm, departments=[rnd])
    owner = await f.user(name="孙浩", dept=rnd, mobile="13800000002")
    liaison = await f.user(name="李娜", dept=rnd, mobile="13800000003")
    head = await f.user(name="张伟", dept=rnd)
    boss = await f.user(name="赵总")
    viewer = await f.user(dept=rnd)
    await f.member(pm, project, owner, Role.MEMBER, rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    await f.member(pm, project, head, Role.DEPARTMENT_HEAD, rnd)
    await f.member(pm, project, boss, Role.MANAGEMENT, rnd)
    await f.member(pm, project, viewer, Role.VIEWER, rnd)
    tasks = []
    for name, days in (("整机设计", 10), ("样机测试", 5)):
        tasks.append(
            await planning.create_task(
                f.actor(pm),
                project_id=project.id,
                data=planning.TaskInput(
                    name=name,
                    planned_start=date(2026, 11, 2),
                    duration_days=days,
                    owner_id=owner.id,
                    department_id=rnd.id,
                ),
            )
        )
    return Team(project, rnd, pm, owner, liaison, head, boss, viewer, *tasks)


def at_nine(day: date) -> datetime:
    """09:00 in Asia/Shanghai on `day`."""
    return datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)


async def run_on(day: date) -> risk_escalations.EscalationReport:
    return await risk_escalations.run_escalations(now=at_nine(day))


async def recipients(task: Task, level: int) -> set[str]:
    rows = await Notice.filter(
        dedup_key__startswith=f"escalation:task:{task.id}:", channel=Channel.EMAIL
    ).select_related("recipient")
    return {n.recipient.name for n in rows if f":L{level}:" in n.dedup_key}


async def test_a_task_with_float_climbs_one_level_at_a_time_and_never_to_management(db):
    t = await team()
    # The short task is due Fri 6 Nov; threshold 2 working days.
    assert (await run_on(date(2026, 11, 10))).escalations == 0  # 2 days late: not yet
    report = await run_on(date(2026, 11, 11))  # 3 days late
    assert report.levels == {1: 1}
    assert await recipients(t.short_task, 1) == {"孙浩", "李娜"}
    again = await run_on(date(2026, 11, 11))
    assert again.escalations == 0 and again.notices == 0
    assert (await run_on(date(2026, 11, 12))).escalations == 0  # 4 days: still level 1
    assert (await run_on(date(2026, 11, 13))).levels == {2: 1}  # 5 days late
    assert await recipients(t.short_task, 2) == {"王芳"}
    await run_on(date(2026, 11, 17))  # 7 days late
    assert await recipients(t.short_task, 3) == {"张伟"}
    await run_on(date(2026, 11, 27))  # 15 days late, but it has float: no management
    assert await recipients(t.short_task, 4) == set()
    levels = await Escalation.filter(subject=f"task:{t.short_task.id}").values_list(
        "level", flat=True
    )
    assert sorted(levels) == [1, 2, 3]


async def test_a_critical_task_skips_to_the_pm_and_reaches_management(db):
    t = await team()
    # The long task is due Fri 13 Nov and on the critical path.
    await run_on(date(2026, 11, 18))  # 3 days late: levels 1 and 2 at once
    assert await recipients(t.long_task, 1) == {"孙浩", "李娜"}
    assert await recipients(t.long_task, 2) == {"王芳"}
    await run_on(date(2026, 11, 24))  # 7 days late → head
    assert await recipients(t.long_task, 3) == {"张伟"}
    assert await recipients(t.long_task, 4) == set()
    await run_on(date(2026, 11, 26))  # 9 days late > 4 × 2 → management
    assert await recipients(t.long_task, 4) == {"赵总"}


async def test_the_notice_says_task_owner_days_late_effect_on_finish_and_link(db):
    t = await team()
    await run_on(date(2026, 11, 18))
    notice = await Notice.get(dedup_key=f"escalation:task:{t.long_task.id}:e0:L2:u{t.pm.id}")
    assert "整机设计" in notice.subject and t.project.code in notice.subject
    assert "孙浩" in notice.body
    assert "3" in notice.body
    # Critical: the project finish moves by the 3 days, from 13 Nov to 18 Nov.
    assert "2026年11月13日" in notice.body and "2026年11月18日" in notice.body
    assert f"/projects/{t.project.code}/plan" in notice.body
    assert "<table" in notice.html_body and "整机设计" in notice.html_body


async def test_a_task_that_recovers_and_falls_late_again_starts_over(db):
    t = await team()
    # A baseline fixes the due date while progress reports move the schedule.
    await f.member(t.pm, t.project, await f.user(dept=await t.pm.department), Role.LIAISON)
    await planning_baselines.approve_plan(f.actor(t.pm), project_id=t.project.id)
    await run_on(date(2026, 11, 11))
    assert await recipients(t.short_task, 1) == {"孙浩", "李娜"}
    task = await Task.get(id=t.short_task.id)
    done = await progress.report_progress(
        f.actor(t.owner),
        progress.ProgressInput(task_id=task.id, version=task.version, percent_complete=100),
    )
    report = await run_on(date(2026, 11, 12))
    assert report.recovered == 1
    step = await LadderStep.get(subject=f"task:{task.id}")
    assert (step.episode, step.level) == (1, 0)
    # Reopened (the deliverable failed review): late again, level 1 goes out again.
    await progress.report_progress(
        f.actor(t.owner),
        progress.ProgressInput(task_id=task.id, version=done.version, percent_complete=60),
    )
    report = await run_on(date(2026, 11, 12))
    assert 1 in report.levels
    keys = await Notice.filter(
        dedup_key__startswith=f"escalation:task:{task.id}:", recipient_id=t.owner.id
    ).values_list("dedup_key", flat=True)
    assert sorted(keys) == [
        f"escalation:task:{task.id}:e0:L1:u{t.owner.id}",
        f"escalation:task:{task.id}:e1:L1:u{t.owner.id}",
    ]


async def test_the_schedule_runs_at_nine_on_working_days_in_the_project_time_zone(db):
    await team()
    wednesday = date(2026, 11, 11)
    eight = at_nine(wednesday) - timedelta(hours=1)
    assert (await risk_escalations.run_escalations(now=eight, only_at_hour=9)).projects == 0
    assert (
        await risk_escalations.run_escalations(now=at_nine(wednesday), only_at_hour=9)
    ).projects == 1
    saturday = date(2026, 11, 14)
    assert (
        await risk_escalations.run_escalations(now=at_nine(saturday), only_at_hour=9)
    ).projects == 0


async def test_two_runs_at_once_send_each_notice_once(db):
    t = await team()
    await asyncio.gather(run_on(date(2026, 11, 18)), run_on(date(2026, 11, 18)))
    keys = await Notice.all().values_list("dedup_key", flat=True)
    assert len(keys) == len(set(keys))
    assert await recipients(t.long_task, 2) == {"王芳"}
    assert await Escalation.filter(subject=f"task:{t.long_task.id}").count() == 2


async def test_chat_robots_get_one_message_per_level_mentioning_mobiles(db):
    t = await team()
    robots = [
        RobotInput(
            kind="DINGTALK", name="项目群", url="http://127.0.0.1:9/x", project_code=t.project.code
        ),
        RobotInput(
            kind="WECOM", name="研发部群", url="http://127.0.0.1:9/y", department_id=t.rnd.id
        ),
        RobotInput(
            kind="FEISHU",
            name="别的部门",
            url="http://127.0.0.1:9/z",
            department_id=(await f.department("市场部")).id,
        ),
    ]
    for robot in robots:
        await chat_robots.add_robot(f.system(), robot)
    await run_on(date(2026, 11, 11))
    chats = await Notice.filter(channel=Channel.WEBHOOK, dedup_key__contains=":L1:").order_by(
        "address"
    )
    assert [c.address for c in chats] == ["研发部群", "项目群"]
    assert set(chats[0].mentions) == {"13800000002", "13800000003"}
    assert "样机测试" in chats[0].subject
    # Levels 1 and 2 reached in one run (the critical task, 7 days late): one message per
    # chat, at level 2, mentioning everyone told.
    await run_on(date(2026, 11, 24))
    long_chats = await Notice.filter(
        channel=Channel.WEBHOOK, dedup_key__startswith=f"escalation:task:{t.long_task.id}:"
    )
    assert sorted(c.address for c in long_chats) == ["研发部群", "项目群"]
    assert all(":L3:" in c.dedup_key for c in long_chats)
    assert set(long_chats[0].mentions) == {"13800000001", "13800000002", "13800000003"}


# --- problems -------------------------------------------------------------------------------


async def test_anyone_on_the_team_raises_a_problem_but_not_a_viewer(db):
    t = await team()
    problem = await risk_problems.report_problem(
        f.actor(t.owner),
        project_id=t.project.id,
        data=risk_problems.ProblemInput(
            title="模具供应商延期",
            severity="HIGH",
            department_id=t.rnd.id,
            due_date=date(2099, 1, 8),
        ),
    )
    assert problem.owner_id == t.owner.id and problem.status == ProblemStatus.OPEN
    with pytest.raises(Forbidden):
        await risk_problems.report_problem(
            f.actor(t.viewer),
            project_id=t.project.id,
            data=risk_problems.ProblemInput(title="看不见"),
        )
    outsider = await f.user()
    with pytest.raises(NotFound):
        await risk_problems.report_problem(
            f.actor(outsider), project_id=t.project.id, data=risk_problems.ProblemInput(title="x")
        )
    assert await Problem.all().count() == 1


async def test_bad_problem_input_is_refused_on_its_field_and_changes_nothing(db):
    t = await team()
    stranger = await f.user()
    with pytest.raises(InvalidFields) as refused:
        await risk_problems.report_problem(
            f.actor(t.pm),
            project_id=t.project.id,
            data=risk_problems.ProblemInput(
                title="",
                severity="HUGE",
                owner_id=stranger.id,
                due_date="2020-01-01",
            ),
        )
    fields = {e.field for e in refused.value.errors}
    assert fields == {"title", "severity", "ownerId", "dueDate"}
    assert await Problem.all().count() == 0


async def test_updating_a_problem_checks_version_and_needs_a_resolution_to_close(db):
    t = await team()
    problem = await risk_problems.report_problem(
        f.actor(t.liaison),
        project_id=t.project.id,
        data=risk_problems.ProblemInput(title="测试设备不足", department_id=t.rnd.id),
    )
    with pytest.raises(Exception) as no_resolution:
        await risk_problems.update_problem(
            f.actor(t.pm),
            problem_id=problem.id,
            version=problem.version,
            data=risk_problems.ProblemInput(status="RESOLVED"),
        )
    assert getattr(no_resolution.value, "field", None) == "resolution"
    closed = await risk_problems.update_problem(
        f.actor(t.liaison),
        problem_id=problem.id,
        version=problem.version,
        data=risk_problems.ProblemInput(status="RESOLVED", resolution="借用质量部设备"),
    )
    assert closed.status == ProblemStatus.RESOLVED and closed.resolved_at is not None
    with pytest.raises(Conflict):
        await risk_problems.update_problem(
            f.actor(t.pm),
            problem_id=problem.id,
            version=problem.version,
            data=risk_problems.ProblemInput(title="改名"),
        )
    with pytest.raises(Forbidden):
        await risk_problems.update_problem(
            f.actor(t.viewer),
            problem_id=problem.id,
            version=closed.version,
            data=risk_problems.ProblemInput(title="改名"),
        )
    assert (await Problem.get(id=problem.id)).title == "测试设备不足"


async def test_a_blocker_opens_one_problem_for_the_task(db):
    t = await team()
    task = await Task.get(id=t.short_task.id)
    first = await progress.report_progress(
        f.actor(t.owner),
        progress.ProgressInput(
            task_id=task.id,
            version=task.version,
            percent_complete=30,
            note="等待模具",
            blocker=True,
        ),
    )
    await progress.report_progress(
        f.actor(t.owner),
        progress.ProgressInput(
            task_id=task.id, version=first.version, percent_complete=35, blocker=True
        ),
    )
    problems = await Problem.filter(task_id=task.id)
    assert len(problems) == 1
    assert problems[0].title == "等待模具" and problems[0].owner_id == t.owner.id


async def test_an_overdue_problem_climbs_the_ladder(db):
    t = await team()
    with clock.travel_to(at_nine(date(2026, 10, 30))):  # raised on a Friday, due Monday
        problem = await risk_problems.report_problem(
            f.actor(t.pm),
            project_id=t.project.id,
            data=risk_problems.ProblemInput(
                title="认证排期未定",
                owner_id=t.liaison.id,
                department_id=t.rnd.id,
                due_date=date(2026, 11, 2),
            ),
        )
    await run_on(date(2026, 11, 5))  # 3 working days past due
    rows = await Notice.filter(dedup_key__startswith=f"escalation:problem:{problem.id}:")
    assert {n.recipient_id for n in rows} == {t.liaison.id}
    assert "认证排期未定" in rows[0].subject
