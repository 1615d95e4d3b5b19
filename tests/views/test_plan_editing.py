"""Plan page: links edited in place, Gantt bars open the form, baselines, project calendar."""

from __future__ import annotations

import re
from datetime import date

import pytest

from server.auth import Actor
from server.demo import DEMO_PASSWORD, load_demo
from server.org.models import User
from server.planning import baselines as planning_baselines
from server.planning import service as planning
from server.planning.company_calendar import seed_company_calendar
from server.planning.models import Dependency, ProjectCalendarDay, Task, TaskSchedule
from server.projects.models import Project
from tests import factories as f
from tests.conftest import count_queries
from tests.schema.test_reads import outline_project
from tests.views.helpers import log_in, post


async def test_links_are_added_and_removed_in_place_and_a_cycle_is_refused_on_its_field(http):
    await load_demo()
    await log_in(http, "wangfang@example.com", DEMO_PASSWORD)
    interviews = await Task.get(name="用户访谈与竞品分析")
    hardware = await Task.get(name="硬件开发")
    form = await http.get(
        f"/projects/X1-LAUNCH/plan/tasks/{hardware.id}/edit", headers={"HX-Request": "true"}
    )
    assert "前置任务" in form.text and "添加前置任务" in form.text
    links_before = await Dependency.filter(successor_id=hardware.id).count()

    # The hardware work already follows the interviews through the plan: linking back loops.
    refused = await post(
        http,
        f"/projects/X1-LAUNCH/plan/tasks/{interviews.id}/dependencies",
        {"predecessor_id": str(hardware.id), "type": "FS", "lag_days": "0"},
        htmx=True,
    )
    assert 'id="successorId-error"' in refused.text and "循环" in refused.text
    assert await Dependency.filter(successor_id=interviews.id).count() == 0

    finish_before = (await TaskSchedule.get(task_id=hardware.id)).early_finish
    pm = await User.get(email="wangfang@example.com")
    late_task = await planning.create_task(
        Actor.for_user(pm),
        project_id=hardware.project_id,
        data=planning.TaskInput(
            name="模具评审",
            planned_start=date(2027, 3, 1),
            duration_days=3,
            parent_id=hardware.parent_id,
        ),
    )
    added = await post(
        http,
        f"/projects/X1-LAUNCH/plan/tasks/{hardware.id}/dependencies",
        {"predecessor_id": str(late_task.id), "type": "FS", "lag_days": "2"},
        htmx=True,
    )
    assert added.text.lstrip().startswith('<div id="plan">')
    assert f'id="task-{hardware.id}" class="editing"' in added.text
    assert await Dependency.filter(successor_id=hardware.id).count() == links_before + 1
    assert (await TaskSchedule.get(task_id=hardware.id)).early_finish > finish_before

    removed = await post(
        http,
        f"/projects/X1-LAUNCH/plan/tasks/{hardware.id}/dependencies/{late_task.id}/remove",
        {},
        htmx=True,
    )
    assert removed.status_code == 200
    assert await Dependency.filter(successor_id=hardware.id).count() == links_before
    assert (await TaskSchedule.get(task_id=hardware.id)).early_finish == finish_before


async def test_gantt_bars_open_the_task_form_for_editors_only(http):
    await load_demo()
    await log_in(http, "wangfang@example.com", DEMO_PASSWORD)
    hardware = await Task.get(name="硬件开发")
    page = await http.get("/projects/X1-LAUNCH/plan")
    bar_link = re.search(
        rf'<a href="[^"]*/plan/tasks/{hardware.id}/edit" hx-get="[^"]*" '
        rf'hx-target="#task-{hardware.id}"',
        page.text,
    )
    assert bar_link is not None
    svg = await http.get("/projects/X1-LAUNCH/plan.svg")
    assert "hx-get" not in svg.text  # the download is a plain picture


async def test_the_plan_compares_with_any_baseline(http):
    await load_demo()
    pm = await User.get(email="wangfang@example.com")
    project = await Project.get(code="X1-LAUNCH")
    first = await planning_baselines.approve_plan(
        Actor.for_user(pm), project_id=project.id, name="基线一"
    )
    hardware = await Task.get(name="硬件开发")
    await planning.update_task(
        Actor.for_user(pm),
        task_id=hardware.id,
        version=hardware.version,
        data=planning.TaskInput(duration_days=hardware.duration_days + 10),
    )
    await planning_baselines.approve_plan(Actor.for_user(pm), project_id=project.id, name="基线二")
    await log_in(http, "wangfang@example.com", DEMO_PASSWORD)
    latest = await http.get("/projects/X1-LAUNCH/plan")
    assert "基线二" in latest.text and "基线一" in latest.text
    chosen = await http.get(f"/projects/X1-LAUNCH/plan?baseline={first.id}")
    assert re.search(rf'<option value="{first.id}" selected>基线一', chosen.text)
    assert latest.text != chosen.text  # different baseline bars are drawn


async def test_project_calendar_exceptions_move_the_plan_and_refusals_change_nothing(http):
    await load_demo()
    await log_in(http, "wangfang@example.com", DEMO_PASSWORD)
    interviews = await Task.get(name="用户访谈与竞品分析")
    before = await TaskSchedule.get(task_id=interviews.id)
    shutdown = before.early_start.isoformat()
    bad = await post(http, "/projects/X1-LAUNCH/plan/calendar", {"day": "2026-02-30"})
    assert bad.status_code == 400 and 'id="day-error"' in bad.text
    assert await ProjectCalendarDay.all().count() == 0
    saved = await post(
        http,
        "/projects/X1-LAUNCH/plan/calendar",
        {"day": shutdown, "is_working": "0", "name": "工厂停电检修"},
    )
    assert saved.status_code == 303
    after = await TaskSchedule.get(task_id=interviews.id)
    assert after.early_finish > before.early_finish
    page = await http.get("/projects/X1-LAUNCH/plan")
    assert "工厂停电检修" in page.text
    assert f'name="day" value="{shutdown}"' in page.text  # listed, with its remove button
    await post(http, "/projects/X1-LAUNCH/plan/calendar", {"day": shutdown, "remove": "1"})
    assert (await TaskSchedule.get(task_id=interviews.id)).early_finish == before.early_finish
    page = await http.get("/projects/X1-LAUNCH/plan")
    assert "工厂停电检修" not in page.text and f'name="day" value="{shutdown}"' not in page.text

    await http.post("/logout", data={"csrf_token": http.cookies.get("xt_csrf")})
    http.cookies.clear()
    await log_in(http, "zhangwei@example.com", DEMO_PASSWORD)
    refused = await post(
        http, "/projects/X1-LAUNCH/plan/calendar", {"day": shutdown, "is_working": "0"}
    )
    assert refused.status_code == 403
    assert await ProjectCalendarDay.all().count() == 0


async def test_a_start_before_the_project_start_is_said_on_the_field(http):
    """Issue 23, item 5: the schedule moves such a task to the project start; the form says so."""
    from datetime import timedelta

    from tests import factories as f

    pm = await f.user(email="pm@example.com")
    project = await f.project(pm, code="EARLY")
    early = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="提前的任务", planned_start=project.start_date - timedelta(days=7), duration_days=2
        ),
    )
    on_time = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(name="按时的任务", planned_start=project.start_date),
    )
    await log_in(http, "pm@example.com")
    form = await http.get(f"/projects/EARLY/plan/tasks/{early.id}/edit")
    assert "早于项目开始日期" in form.text
    assert f'min="{project.start_date.isoformat()}"' in form.text
    plain = await http.get(f"/projects/EARLY/plan/tasks/{on_time.id}/edit")
    assert "早于项目开始日期" not in plain.text and "任何任务都不会排在此之前" in plain.text


def _options(html: str, select_id: str) -> list[tuple[str, bool, str]]:
    block = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', html, re.S)
    assert block is not None, select_id
    return [
        (value, bool(selected), label)
        for value, selected, label in re.findall(
            r'<option value="(\d*)"( selected)?\s*>([^<]*)</option>', block.group(1)
        )
    ]


async def test_the_task_form_lists_the_phases_and_predecessors_a_task_can_take(http):
    await load_demo()
    await log_in(http, "wangfang@example.com", DEMO_PASSWORD)
    hardware = await Task.get(name="硬件开发")
    pm = await User.get(email="wangfang@example.com")
    await Task.filter(id=hardware.id).update(name="硬件开发 <b>&</b>")
    milestone = await planning.add_milestone(
        Actor.for_user(pm),
        project_id=hardware.project_id,
        name="样机冻结",
        due=date(2027, 3, 1),
    )
    form = await http.get(
        f"/projects/X1-LAUNCH/plan/tasks/{hardware.id}/edit", headers={"HX-Request": "true"}
    )
    tasks = await Task.filter(project_id=hardware.project_id)
    parents = {t.parent_id for t in tasks}

    phases = _options(form.text, f"t-parent-{hardware.id}")
    expected_phases = {
        str(t.id)
        for t in tasks
        if (t.id in parents or t.parent_id is None) and not t.is_milestone and t.id != hardware.id
    }
    assert phases[0] == ("", False, "—")
    assert {value for value, _, _ in phases[1:]} == expected_phases
    assert [value for value, chosen, _ in phases if chosen] == [str(hardware.parent_id)]
    assert str(milestone.id) not in {value for value, _, _ in phases}

    # The predecessor picker offers the leaf tasks nearest this one in the outline (15
    # before it, 5 after), the one just before it chosen; typing finds any other.
    leaves = sorted(
        (t for t in await Task.filter(project_id=hardware.project_id) if t.id not in parents),
        key=lambda t: (t.wbs_key, t.id),
    )
    at = next(i for i, t in enumerate(leaves) if t.id == hardware.id)
    assert at > 0 and len(leaves) - at > 5, "the demo plan must have leaves on both sides"
    nearest = leaves[max(0, at - 15) : at] + leaves[at + 1 : at + 6]
    predecessors = _options(form.text, f"link-pred-{hardware.id}")
    assert [value for value, _, _ in predecessors] == [str(t.id) for t in nearest]
    assert [value for value, chosen, _ in predecessors if chosen] == [str(leaves[at - 1].id)]
    assert 'name="find"' in form.text

    # Another task's form shows the name with markup as text, in both pickers.
    other = next(t for t in tasks if t.id not in parents and t.id != hardware.id)
    other_form = await http.get(
        f"/projects/X1-LAUNCH/plan/tasks/{other.id}/edit", headers={"HX-Request": "true"}
    )
    assert "硬件开发 &lt;b&gt;&amp;&lt;/b&gt;" in other_form.text
    assert "<b>&</b>" not in other_form.text


@pytest.mark.parametrize("leaves", [3, 30])
async def test_the_plan_and_a_task_form_cost_the_same_statements_whatever_the_plan_size(
    http, leaves
):
    pm = await f.user(email="pm@example.com")
    project = await outline_project(pm, "ST1", leaves=leaves)
    task = await Task.get(project_id=project.id, wbs_code="1.2")
    await log_in(http, "pm@example.com")
    form_url = f"/projects/ST1/plan/tasks/{task.id}/edit"
    # As on a real install: a company calendar with its edition, read once per process.
    await seed_company_calendar()
    await http.get("/projects/ST1/plan")

    with count_queries() as counter:
        form = await http.get(form_url, headers={"HX-Request": "true"})
    assert form.status_code == 200 and f'id="task-{task.id}" class="editing"' in form.text
    # Who is asking, the project, the task, the phases it may go under, the tasks nearest
    # it (the predecessor picker's first choices), its links with their predecessors, the
    # members and departments, its progress history and its problems.
    assert counter.count == 10, counter.queries

    with count_queries() as counter:
        page = await http.get("/projects/ST1/plan")
    assert page.status_code == 200 and page.text.count('class="gantt-name depth-') == leaves + 3
    # Who is asking, the project with their roles, baselines, members, departments, the
    # schedule's freshness, tasks, schedules, baseline rows, links, the project's calendar.
    assert counter.count == 11, counter.queries


async def test_a_task_is_edited_and_linked_only_under_its_own_projects_address(http):
    """A PM of two plans cannot reach one plan's task through the other's address: the
    task, its links and the plan shown would belong to different projects."""
    pm = await f.user()
    first = await outline_project(pm, "PA1", leaves=3)
    second = await outline_project(pm, "PB1", leaves=3)
    theirs = {t.wbs_code: t for t in await Task.filter(project_id=second.id)}
    await log_in(http, pm.email)

    elsewhere = f"/projects/{first.code}/plan/tasks/{theirs['1.2'].id}"
    linked = await post(
        http,
        f"{elsewhere}/dependencies",
        {"predecessor_id": str(theirs["1.1"].id), "type": "FS", "lag_days": "0"},
        htmx=True,
    )
    renamed = await post(http, elsewhere, {"name": "改名", "version": "1"}, htmx=True)
    assert linked.status_code == renamed.status_code == 404
    assert (await http.get(f"{elsewhere}/edit", headers={"HX-Request": "true"})).status_code == 404
    assert await Dependency.filter(project_id=second.id).count() == 0
    assert (await Task.get(id=theirs["1.2"].id)).name == "任务 2"
    # Under its own address the same link is made.
    own = f"/projects/{second.code}/plan/tasks/{theirs['1.2'].id}/dependencies"
    made = await post(http, own, {"predecessor_id": str(theirs["1.1"].id), "type": "FS"}, htmx=True)
    assert made.status_code == 200 and await Dependency.filter(project_id=second.id).count() == 1
