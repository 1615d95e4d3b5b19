"""The plan as MS Project XML (MSPDI): what a planner opening it in MS Project or
ProjectLibre finds, checked against the plan's hand-worked dates (tests/server/test_changes.py:
A 研发 09-21…09-25 → B 生产 3 days, ending 09-30 over the National Day holidays → C a
milestone on 09-30; D 2 days with 6 working days of float)."""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime

from defusedxml import ElementTree as SafeET
from tortoise.transactions import in_transaction

from server import clock
from server.planning import baselines, project_calendar
from server.planning import service as planning
from server.planning.models import Task
from server.progress import service as progress
from server.projects.models import Project
from tests import factories as f
from tests.server.test_changes import plan
from tests.test_cli import XIETONG
from tests.views.helpers import log_in

NS = {"p": "http://schemas.microsoft.com/project"}


def text(element, path: str) -> str | None:
    found = element.find(path, NS)
    return None if found is None else found.text


async def test_the_plan_downloads_as_ms_project_xml(http, db):
    p = await plan()
    pm = f.actor(p.pm)
    e = await planning.create_task(
        pm,
        project_id=p.project.id,
        data=planning.TaskInput(
            name="发布准备 <彩排>",
            planned_start=date(2026, 10, 12),
            duration_days=1,
            department_id=p.departments["市场"].id,
            deliverable="彩排记录",
        ),
    )
    await planning.add_dependency(
        pm,
        predecessor_id=p.tasks["A"].id,
        successor_id=e.id,
        type="FF",
        lag_days=1,
    )
    await project_calendar.set_project_calendar_day(
        pm, project_id=p.project.id, day=date(2026, 11, 20), is_working=False, name="运动会"
    )
    tasks = await Task.filter(project_id=p.project.id)
    async with in_transaction():
        await baselines.freeze_baseline(pm, p.project, tasks, "计划基线")
    await log_in(http, p.pm.email)
    answer = await http.get(f"/projects/{p.project.code}/plan.xml")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/xml"
    root = SafeET.fromstring(answer.content)
    assert text(root, "p:StartDate") == "2026-09-21T08:00:00"
    assert text(root, "p:MinutesPerDay") == "480"
    assert text(root, "p:StatusDate") is not None
    by_name = {text(t, "p:Name"): t for t in root.findall("p:Tasks/p:Task", NS)}
    assert set(by_name) == {"设计", "试产", "发布会", "宣传物料", "发布准备 <彩排>"}

    a, b, c, d, e_ = (by_name[n] for n in ("设计", "试产", "发布会", "宣传物料", "发布准备 <彩排>"))
    assert (text(a, "p:Start"), text(a, "p:Finish")) == (
        "2026-09-21T08:00:00",
        "2026-09-25T17:00:00",
    )
    assert text(a, "p:Duration") == "PT40H0M0S"  # 5 working days of 8 hours
    assert text(b, "p:Finish") == "2026-09-30T17:00:00"
    assert (text(c, "p:Milestone"), text(c, "p:Duration")) == ("1", "PT0H0M0S")
    assert text(c, "p:Start") == text(c, "p:Finish") == "2026-09-30T17:00:00"
    # E (10-12) now ends the project, so D (done 09-22) may slip to 10-12: 09-23, 24, 25, 28,
    # 29, 30, 10-09, Saturday 10-10 (worked for the holidays) and 10-12 are 9 working days,
    # in tenths of a minute.
    assert text(d, "p:TotalSlack") == str(9 * 4800)
    # A → B → C can slip until B's three days end on 10-12 (10-09, 10-10, 10-12): A by 3
    # working days (09-28, 29, 30). E, pinned to 10-12, drives the finish.
    assert text(a, "p:TotalSlack") == str(3 * 4800)
    assert [text(t, "p:Critical") for t in (a, d, e_)] == ["0", "0", "1"]

    # B follows A finish-to-start; E follows A finish-to-finish with one day of lag.
    uid = {name: text(t, "p:UID") for name, t in by_name.items()}
    (b_link,) = b.findall("p:PredecessorLink", NS)
    assert (text(b_link, "p:PredecessorUID"), text(b_link, "p:Type")) == (uid["设计"], "1")
    (e_link,) = e_.findall("p:PredecessorLink", NS)
    assert (text(e_link, "p:Type"), text(e_link, "p:LinkLag")) == ("0", "4800")
    assert text(e_link, "p:LagFormat") == "7"
    # E's own start is a "start no earlier than" constraint; A starts with the project.
    assert (text(e_, "p:ConstraintType"), text(e_, "p:ConstraintDate")) == (
        "4",
        "2026-10-12T08:00:00",
    )
    assert text(a, "p:ConstraintType") == "0"
    assert text(e_, "p:Notes") == "彩排记录"

    assert text(a, "p:Baseline/p:Number") == "0"
    assert text(a, "p:Baseline/p:Finish") == "2026-09-25T17:00:00"

    # The calendar: a five-day week, the National Day holidays and the Saturday worked for
    # them (the company's), the project's sports day.
    calendar = root.find("p:Calendars/p:Calendar", NS)
    week = {
        text(day, "p:DayType"): text(day, "p:DayWorking")
        for day in calendar.findall("p:WeekDays/p:WeekDay", NS)
    }
    assert week == {"1": "0", "2": "1", "3": "1", "4": "1", "5": "1", "6": "1", "7": "0"}
    exceptions = {
        text(x, "p:TimePeriod/p:FromDate")[:10]: (text(x, "p:DayWorking"), text(x, "p:Name"))
        for x in calendar.findall("p:Exceptions/p:Exception", NS)
    }
    assert exceptions["2026-10-01"] == ("0", "国庆节")
    assert exceptions["2026-10-10"] == ("1", "国庆调休")
    assert exceptions["2026-11-20"][0] == "0"
    assert "2026-10-03" not in exceptions  # a Saturday off is no exception to the week

    # Progress: A reported 40 % done on its first day, from a phone.
    with clock.travel_to(datetime(2026, 9, 21, 4, tzinfo=UTC)):
        task = await Task.get(id=p.tasks["A"].id)
        await progress.report_progress(
            pm, progress.ProgressInput(task_id=task.id, version=task.version, percent_complete=40)
        )
    # The same file from the command line.
    exported = export(p.project.code)
    assert exported.returncode == 0, exported.stderr
    a = {
        text(t, "p:Name"): t for t in SafeET.fromstring(exported.stdout).iter(f"{{{NS['p']}}}Task")
    }["设计"]
    assert text(a, "p:PercentComplete") == "40"
    assert text(a, "p:ActualStart") == "2026-09-21T08:00:00"
    assert text(a, "p:RemainingDuration") is not None
    unknown = export("NOPE")
    assert unknown.returncode == 2 and unknown.stderr == b"xietong: no project 'NOPE'\n"


def export(code: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([XIETONG, "plan", "export", code], capture_output=True, timeout=120)


async def test_someone_outside_the_project_gets_no_xml(http, db):
    p = await plan()
    await log_in(http, (await f.user(name="路人")).email)
    assert (await http.get(f"/projects/{p.project.code}/plan.xml")).status_code == 404


async def test_the_command_line_previews_and_imports_a_plan(db, tmp_path):
    p = await plan()
    file = tmp_path / "plan.xml"
    file.write_bytes(export(p.project.code).stdout)
    target = await f.project(p.pm, code="NEWPLAN")
    await Project.filter(id=target.id).update(start_date=date(2026, 9, 21))
    previewed = cli("plan", "import", "NEWPLAN", str(file))
    assert previewed.returncode == 0, previewed.stderr
    assert previewed.stdout.startswith(b"4 tasks (0 summaries, 1 milestones), 2 links")
    assert not await Task.filter(project_id=target.id).exists()
    imported = cli("plan", "import", "NEWPLAN", str(file), "--confirm")
    assert imported.returncode == 0, imported.stderr
    assert b"imported 4 tasks into NEWPLAN" in imported.stdout
    assert b"differs" not in imported.stdout
    assert await Task.filter(project_id=target.id).count() == 4
    file.write_bytes(file.read_bytes().replace(b"<PredecessorUID>1<", b"<PredecessorUID>77<"))
    broken = cli("plan", "import", p.project.code, str(file))
    assert broken.returncode == 2
    assert b"error: " in broken.stdout and b"not in the file" in broken.stdout


def cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([XIETONG, *args], capture_output=True, timeout=120)
