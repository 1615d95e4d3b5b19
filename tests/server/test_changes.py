"""Change requests: the impact is computed by the scheduler on a copy of the plan (hand-worked
here across the 2026 National Day holidays, through FS and SS links with lags), approvals bind
to the request and its impact, the last approval applies every edit in one transaction, and
bad edits are refused on their field with nothing kept."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from server.changes import approvals, service
from server.changes.models import ChangeApproval, ChangeRequest, ChangeStatus
from server.closing import figures as closing_figures
from server.errors import Conflict, Forbidden, Invalid, InvalidFields
from server.notices.models import ChatRobot, Notice, RobotKind
from server.org.models import Department, User
from server.planning import service as planning
from server.planning.models import Baseline, Dependency, Task, TaskSchedule
from server.progress import service as progress
from server.projects.models import Project, Role
from server.signoffs.models import DocumentVersion
from tests import factories as f
from tests.server.test_closing_report import _company_calendar


@dataclass
class Plan:
    project: Project
    pm: User
    heads: dict[str, User]
    departments: dict[str, Department]
    tasks: dict[str, Task]


async def plan() -> Plan:
    """A (研发, 09-21…09-25) → B (生产, 3 days) → C (市场, milestone); D (市场, 2 days) alone.
    10-01…10-08 are holidays and Saturday 10-10 a working day, so B ends 09-30 and C shows
    09-30; D's float is 6 working days (09-23 … 09-30)."""
    departments = {n: await f.department(f"{n}部") for n in ("市场", "研发", "生产")}
    pm = await f.user(name="王芳", dept=departments["市场"])
    project = await f.project(pm, departments=[departments["研发"], departments["生产"]])
    await Project.filter(id=project.id).update(
        start_date=date(2026, 9, 21), status_date=date(2026, 9, 21)
    )
    project = await Project.get(id=project.id)
    heads = {}
    for name, dept in departments.items():
        head = await f.user(name=f"{name}负责人", dept=dept)
        await f.member(pm, project, head, Role.DEPARTMENT_HEAD, dept)
        heads[name] = head
    await _company_calendar()
    tasks = {}
    for key, name, dept, days, milestone in (
        ("A", "设计", "研发", 5, False),
        ("B", "试产", "生产", 3, False),
        ("C", "发布会", "市场", 0, True),
        ("D", "宣传物料", "市场", 2, False),
    ):
        tasks[key] = await planning.create_task(
            f.actor(pm),
            project_id=project.id,
            data=planning.TaskInput(
                name=name,
                planned_start=date(2026, 9, 21),
                duration_days=days,
                department_id=departments[dept].id,
                is_milestone=milestone,
            ),
        )
    for before, after in (("A", "B"), ("B", "C")):
        await planning.add_dependency(
            f.actor(pm), predecessor_id=tasks[before].id, successor_id=tasks[after].id
        )
    return Plan(project, pm, heads, departments, tasks)


def request_of(p: Plan, edits, **more) -> service.ChangeInput:
    return service.ChangeInput(
        title=more.pop("title", "试产延长两天"),
        reason="新模具需要多两天调试",
        kind=more.pop("kind", "SCHEDULE"),
        requester_department_id=p.departments["生产"].id,
        edits=edits,
        **more,
    )


async def draft(p: Plan, edits, **more) -> ChangeRequest:
    return await service.draft_change_request(
        f.actor(p.pm), project_id=p.project.id, data=request_of(p, edits, **more)
    )


async def test_the_preview_moves_the_finish_over_the_national_day_holidays(db):
    p = await plan()
    longer = await draft(p, [{"op": "edit_task", "task_id": p.tasks["B"].id, "duration_days": 5}])
    impact = longer.impact
    # B: 09-28, 09-29, 09-30, then 10-09 and the make-up Saturday 10-10.
    assert (impact["finishBefore"], impact["finishAfter"]) == ("2026-09-30", "2026-10-10")
    assert impact["deltaWorkingDays"] == 2
    assert impact["milestones"] == [
        {
            "id": p.tasks["C"].id,
            "name": "发布会",
            "before": "2026-09-30",
            "after": "2026-10-10",
            "deltaWorkingDays": 2,
        }
    ]
    assert impact["criticalAdded"] == [] and impact["criticalRemoved"] == []
    by_department = {d["name"]: d for d in impact["departments"]}
    assert [t["name"] for t in by_department["生产部"]["tasksMoved"]] == ["试产"]
    assert by_department["生产部"]["tasksMoved"][0]["delta"] == 2
    assert [t["name"] for t in by_department["市场部"]["tasksMoved"]] == ["发布会"]
    assert "研发部" not in by_department  # A does not move
    # D gains float (6 → 8): nobody loses any.
    assert all(d["floatLost"] == 0 for d in impact["departments"])
    assert service.required_slots(p.project, longer) == [
        "pm",
        f"department:{p.departments['市场'].id}",
        f"department:{p.departments['生产'].id}",
    ]


async def test_the_preview_follows_a_start_to_start_link_with_a_lag(db):
    p = await plan()
    test = await draft(
        p,
        [
            {"op": "add_link", "predecessor": p.tasks["B"].id, "successor": "E", "type": "SS",
             "lag": 2},
            {"op": "add_task", "key": "E", "name": "样机测试", "department_id":
             p.departments["研发"].id, "planned_start": "2026-09-21", "duration_days": 4},
        ],
        kind="SCOPE",
    )  # fmt: skip
    impact = test.impact
    # B starts 09-28; E two working days later, 09-30, then 10-09, 10-10, 10-12.
    assert impact["finishAfter"] == "2026-10-12" and impact["deltaWorkingDays"] == 3
    # E drives the finish now; the milestone, still 09-30, has 3 days of float.
    assert impact["criticalAdded"] == [{"id": -1, "name": "样机测试"}]
    assert impact["criticalRemoved"] == [{"id": p.tasks["C"].id, "name": "发布会"}]
    assert impact["milestones"] == []
    research = next(d for d in impact["departments"] if d["name"] == "研发部")
    assert research["tasksMoved"] == [
        {"id": -1, "name": "样机测试", "before": None, "after": "2026-10-12", "delta": None}
    ]


async def test_bad_edits_are_refused_on_their_field_and_nothing_is_kept(db):
    p = await plan()
    other = await f.project(p.pm, code="OTHER")
    stranger = await planning.create_task(
        f.actor(p.pm),
        project_id=other.id,
        data=planning.TaskInput(name="别的", planned_start=date(2026, 11, 2), duration_days=1),
    )
    with pytest.raises(Invalid) as cycle:
        await draft(p, [{"op": "add_link", "predecessor": p.tasks["C"].id,
                         "successor": p.tasks["A"].id}])  # fmt: skip
    assert cycle.value.field == "edits" and "设计 → 试产 → 发布会" in cycle.value.translated("zh")
    with pytest.raises(InvalidFields) as several:
        await draft(
            p,
            [
                {"op": "edit_task", "task_id": stranger.id, "duration_days": 2},
                {"op": "edit_task", "task_id": p.tasks["B"].id, "duration_days": -1},
                {"op": "add_task", "name": "", "department_id": 999, "planned_start": "9月"},
                {"op": "rename"},
            ],
        )
    assert {e.field for e in several.value.errors} == {
        "edit-0-taskId",
        "edit-1-durationDays",
        "edit-2-name",
        "edit-2-departmentId",
        "edit-2-plannedStart",
        "edit-3-op",
    }
    await progress.report_progress(
        f.actor(p.pm),
        progress.ProgressInput(task_id=p.tasks["A"].id, version=1, percent_complete=40),
    )
    with pytest.raises(Invalid) as started:
        await draft(p, [{"op": "remove_task", "task_id": p.tasks["A"].id}])
    assert started.value.field == "edit-0-taskId"
    with pytest.raises(Invalid) as cost:
        await draft(p, [], cost_delta="一万")
    assert cost.value.field == "costDelta"
    assert await ChangeRequest.all().count() == 0
    cancelled = await draft(p, [{"op": "remove_task", "task_id": p.tasks["A"].id, "cancel": True}])
    assert cancelled.code == "CR-001"


async def approve(who: User, request: ChangeRequest, decision="APPROVE", comment=None, **kw):
    current = await ChangeRequest.get(id=request.id)
    return await approvals.decide_change_request(
        f.actor(who),
        request_id=request.id,
        data=approvals.DecisionInput(
            decision=decision,
            content_hash=kw.get("content_hash") or current.content_hash,
            comment=comment,
        ),
    )


async def test_the_last_approval_applies_the_edits_and_keeps_before_and_after(db):
    p = await plan()
    request = await draft(
        p,
        [
            {"op": "edit_task", "task_id": p.tasks["B"].id, "duration_days": 5},
            {"op": "add_task", "key": "E", "name": "模具验收", "department_id":
             p.departments["生产"].id, "planned_start": "2026-09-21", "duration_days": 1},
            {"op": "add_link", "predecessor": "E", "successor": p.tasks["C"].id},
        ],
        rebaseline=True,
    )  # fmt: skip
    with pytest.raises(Invalid):  # a draft is not decided
        await approve(p.pm, request)
    await User.filter(id=p.heads["生产"].id).update(mobile="13800000002")
    group = await ChatRobot.create(
        project_id=p.project.id, kind=RobotKind.WECOM, name="项目群", url="http://127.0.0.1:9/x"
    )
    request = await approvals.submit_change_request(
        f.actor(p.pm), request_id=request.id, version=request.version
    )
    assert request.status == ChangeStatus.SUBMITTED
    mailed = await Notice.filter(dedup_key__startswith=f"change:{request.id}:")
    assert sorted(n.recipient_id for n in mailed if n.recipient_id) == sorted(
        [p.pm.id, p.heads["市场"].id, p.heads["生产"].id]
    )
    posted = [n for n in mailed if n.robot_id == group.id]
    assert len(posted) == 1 and posted[0].mentions == ["13800000002"]

    with pytest.raises(Forbidden):  # research is not affected: its head does not decide
        await approve(p.heads["研发"], request)
    with pytest.raises(Conflict):
        await approve(p.pm, request, content_hash="0" * 64)
    with pytest.raises(Invalid) as silent:
        await approve(p.heads["市场"], request, "REJECT")
    assert silent.value.field == "comment"
    await approve(p.pm, request)
    with pytest.raises(Invalid):  # once per content
        await approve(p.pm, request)
    await approve(p.heads["市场"], request)
    assert (await Task.get(id=p.tasks["B"].id)).duration_days == 3  # not yet
    applied = await approve(p.heads["生产"], request)

    assert applied.status == ChangeStatus.APPLIED
    assert (await Task.get(id=p.tasks["B"].id)).duration_days == 5
    schedule = await TaskSchedule.get(task_id=p.tasks["B"].id)
    assert schedule.early_finish == date(2026, 10, 10)
    new = await Task.get(name="模具验收")
    assert await Dependency.filter(predecessor_id=new.id, successor_id=p.tasks["C"].id).exists()
    edited = next(a for a in applied.applied if a["op"] == "edit_task")
    assert (edited["before"]["duration_days"], edited["after"]["duration_days"]) == (3, 5)
    assert await Baseline.filter(name__startswith="CR-001").count() == 1
    with pytest.raises(Invalid) as twice:
        await approve(p.pm, request)
    assert twice.value.field == "status"
    assert await Task.filter(name="模具验收").count() == 1


async def test_an_edit_between_the_preview_and_the_last_approval_applies_nothing(db):
    p = await plan()
    request = await draft(p, [{"op": "edit_task", "task_id": p.tasks["B"].id, "duration_days": 5}])
    request = await approvals.submit_change_request(
        f.actor(p.pm), request_id=request.id, version=request.version
    )
    await approve(p.pm, request)
    await approve(p.heads["市场"], request)
    read_by_the_last_head = (await ChangeRequest.get(id=request.id)).content_hash
    await planning.update_task(
        f.actor(p.pm),
        task_id=p.tasks["B"].id,
        version=1,
        data=planning.TaskInput(duration_days=4),
    )
    with pytest.raises(Conflict):
        await approve(p.heads["生产"], request, content_hash=read_by_the_last_head)
    assert (await Task.get(id=p.tasks["B"].id)).duration_days == 4
    fresh = await ChangeRequest.get(id=request.id)
    assert fresh.status == ChangeStatus.SUBMITTED and fresh.content_hash != read_by_the_last_head
    # 4 → 5 days now moves the finish by one working day; earlier approvals no longer count.
    assert fresh.impact["deltaWorkingDays"] == 1
    assert await service.counted_approvals(fresh) == {}
    assert await ChangeApproval.all().count() == 2


async def test_a_large_change_also_needs_management(db):
    p = await plan()
    boss = await f.user(name="总经理", dept=p.departments["市场"])
    await f.member(p.pm, p.project, boss, Role.MANAGEMENT, p.departments["市场"])
    request = await draft(
        p,
        [{"op": "edit_task", "task_id": p.tasks["A"].id, "duration_days": 6}],
        cost_delta="150000.00",
    )
    assert service.required_slots(p.project, request)[-1] == "management"
    request = await approvals.submit_change_request(
        f.actor(p.pm), request_id=request.id, version=request.version
    )
    for who in (p.pm, p.heads["研发"], p.heads["生产"], p.heads["市场"]):
        await approve(who, request)
    assert (await ChangeRequest.get(id=request.id)).status == ChangeStatus.SUBMITTED
    done = await approve(boss, request)
    assert done.status == ChangeStatus.APPLIED
    # The closing report counts applied changes only: a withdrawn one is not among them.
    withdrawn = await draft(p, [], title="撤回的", cost_delta="999")
    await service.withdraw_change_request(
        f.actor(p.pm), request_id=withdrawn.id, version=withdrawn.version
    )
    assert await closing_figures.change_rows(p.project.id) == ["1 | +1 | 150000.00"]


async def random_plan(rng, departments, pm, heads) -> tuple[Project, list[Task]]:
    project = await f.project(pm, departments=[departments["研发"], departments["生产"]])
    await Project.filter(id=project.id).update(
        start_date=date(2026, 9, 21), status_date=date(2026, 9, 21),
        change_finish_threshold_days=1000,
    )  # fmt: skip
    project = await Project.get(id=project.id)
    for name, dept in departments.items():
        await f.member(pm, project, heads[name], Role.DEPARTMENT_HEAD, dept)
    tasks = []
    for n in range(rng.randint(4, 9)):
        milestone = rng.random() < 0.2
        tasks.append(
            await planning.create_task(
                f.actor(pm),
                project_id=project.id,
                data=planning.TaskInput(
                    name=f"任务{n}",
                    planned_start=date(2026, 9, 21) + timedelta(days=rng.randint(0, 12)),
                    duration_days=0 if milestone else rng.randint(1, 6),
                    department_id=rng.choice(list(departments.values())).id,
                    is_milestone=milestone,
                ),
            )
        )
    for j in range(1, len(tasks)):
        for i in rng.sample(range(j), k=min(j, rng.randint(0, 2))):
            await planning.add_dependency(
                f.actor(pm),
                predecessor_id=tasks[i].id,
                successor_id=tasks[j].id,
                type=rng.choice(["FS", "FS", "SS", "FF"]),
                lag_days=rng.randint(-1, 3),
            )
    return project, tasks


def random_edits(rng, tasks, links, departments) -> list[dict]:
    edits: list[dict] = []
    added: list[tuple[int, int]] = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["edit", "edit", "add", "unlink", "link"])
        if kind == "edit":
            task = rng.choice([t for t in tasks if not t.is_milestone] or tasks)
            edits.append(
                {
                    "op": "edit_task",
                    "task_id": task.id,
                    "duration_days": rng.randint(1, 9),
                    "planned_start": str(date(2026, 9, 21) + timedelta(rng.randint(0, 20))),
                }
            )
        elif kind == "add":
            key = f"K{len(edits)}"
            edits.append(
                {
                    "op": "add_task",
                    "key": key,
                    "name": f"新{len(edits)}",
                    "department_id": rng.choice(list(departments.values())).id,
                    "planned_start": "2026-09-21",
                    "duration_days": rng.randint(1, 8),
                }
            )
            edits.append(
                {
                    "op": "add_link",
                    "predecessor": rng.choice(tasks).id,
                    "successor": key,
                    "type": rng.choice(["FS", "SS", "FF"]),
                    "lag": rng.randint(0, 2),
                }
            )
        elif kind == "unlink" and links:
            p, s = links.pop(rng.randrange(len(links)))
            edits.append({"op": "remove_link", "predecessor": p, "successor": s})
        elif kind == "link":
            i, j = sorted(rng.sample(range(len(tasks)), 2))
            if (tasks[i].id, tasks[j].id) not in links + added:
                added.append((tasks[i].id, tasks[j].id))
                edits.append(
                    {
                        "op": "add_link",
                        "predecessor": tasks[i].id,
                        "successor": tasks[j].id,
                        "type": "FS",
                        "lag": 0,
                    }
                )
    return edits


async def critical_names(project_id: int) -> set[str]:
    rows = await TaskSchedule.filter(project_id=project_id, is_critical=True).select_related("task")
    return {r.task.name for r in rows}


async def test_the_preview_is_what_applying_the_edits_makes_on_random_plans(db):
    """Twelve seeded random plans and edit sets: the finish, the milestones and the critical
    set the preview promised are those the plan has once the request is applied."""
    import random

    departments = {n: await f.department(f"{n}部") for n in ("市场", "研发", "生产")}
    pm = await f.user(name="王芳", dept=departments["市场"])
    heads = {n: await f.user(name=f"{n}负责人", dept=d) for n, d in departments.items()}
    for seed in range(12):
        rng = random.Random(seed)
        project, tasks = await random_plan(rng, departments, pm, heads)
        links = list(
            await Dependency.filter(project_id=project.id).values_list(
                "predecessor_id", "successor_id"
            )
        )
        edits = random_edits(rng, tasks, links, departments)
        request = await service.draft_change_request(
            f.actor(pm),
            project_id=project.id,
            data=service.ChangeInput(
                title=f"随机 {seed}", reason="r", kind="SCHEDULE",
                requester_department_id=departments["市场"].id, edits=edits,
            ),
        )  # fmt: skip
        promised = request.impact
        critical_before = await critical_names(project.id)
        request = await approvals.submit_change_request(
            f.actor(pm), request_id=request.id, version=request.version
        )
        for who in [pm, *heads.values()]:
            current = await ChangeRequest.get(id=request.id)
            if current.status == ChangeStatus.SUBMITTED:
                # A head whose department the request does not touch is refused.
                with contextlib.suppress(Forbidden):
                    await approve(who, current)
        assert (await ChangeRequest.get(id=request.id)).status == ChangeStatus.APPLIED, seed
        leaves = await TaskSchedule.filter(project_id=project.id).select_related("task")
        assert max(r.early_finish for r in leaves).isoformat() == promised["finishAfter"], seed
        removed = {t["name"] for t in promised["criticalRemoved"]}
        added = {t["name"] for t in promised["criticalAdded"]}
        assert await critical_names(project.id) == (critical_before - removed) | added, seed
        for moved in promised["milestones"]:
            if moved["after"]:
                row = next(r for r in leaves if r.task.name == moved["name"])
                assert row.early_finish.isoformat() == moved["after"], seed


async def test_a_waiting_request_reminds_its_approvers_then_climbs_once_each(db):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from server import clock
    from server.changes.reminders import run_change_reminders

    p = await plan()
    zone = ZoneInfo("Asia/Shanghai")
    with clock.travel_to(datetime(2026, 9, 21, 10, tzinfo=zone)):  # a Monday
        request = await draft(p, [{"op": "edit_task", "task_id": p.tasks["B"].id,
                                   "duration_days": 5}])  # fmt: skip
        request = await approvals.submit_change_request(
            f.actor(p.pm), request_id=request.id, version=request.version
        )
        await approve(p.pm, request)

    async def waiting_mails() -> list[tuple[int, int]]:
        rows = await Notice.filter(dedup_key__startswith=f"change-wait:{request.id}:")
        return sorted((int(n.dedup_key.split(":")[3]), n.recipient_id) for n in rows)

    with clock.travel_to(datetime(2026, 9, 23, 11, tzinfo=zone)):  # 2 working days: not yet
        await run_change_reminders()
    assert await waiting_mails() == []
    with clock.travel_to(datetime(2026, 9, 24, 11, tzinfo=zone)):  # 3: the approvers
        await run_change_reminders()
    assert await waiting_mails() == sorted([(1, p.heads["市场"].id), (1, p.heads["生产"].id)])
    # 09-28 is 5 working days on (the weekend does not count): the PM hears who holds it up.
    for _ in range(2):  # a rerun adds nothing
        with clock.travel_to(datetime(2026, 9, 28, 11, tzinfo=zone)):
            report = await run_change_reminders()
    assert await waiting_mails() == sorted(
        [(1, p.heads["市场"].id), (1, p.heads["生产"].id), (2, p.pm.id)]
    )
    assert report.waiting == 1
    pm_mail = await Notice.get(
        dedup_key__startswith=f"change-wait:{request.id}:", recipient_id=p.pm.id
    )
    assert "市场负责人" in pm_mail.body and "生产负责人" in pm_mail.body


async def test_a_charter_edit_becomes_the_charters_next_version_to_sign_again(db):
    from server.signoffs.models import DocumentStatus, SignableDocument
    from tests.server.test_signoffs import charter_in_signing, sign

    p = await plan()
    charter = await charter_in_signing(p)
    for head in p.heads.values():
        await sign(head, charter)
    assert (await SignableDocument.get(id=charter.id)).status == DocumentStatus.SIGNED
    with pytest.raises(Invalid) as bad:
        await draft(p, [{"op": "edit_charter", "section": "background", "value": "x"}])
    assert bad.value.field == "edit-0-section"
    request = await draft(
        p,
        [{"op": "edit_charter", "section": "goals",
          "value": "上市首月销量 | ≥ 25,000 件\n退货率 | ≤ 2%"}],
        kind="SCOPE",
    )  # fmt: skip
    assert request.edits[0]["value"] == [
        {"goal": "上市首月销量", "target": "≥ 25,000 件"},
        {"goal": "退货率", "target": "≤ 2%"},
    ]
    assert (
        request.impact["charterSections"] == ["goals"] and request.impact["deltaWorkingDays"] == 0
    )
    request = await approvals.submit_change_request(
        f.actor(p.pm), request_id=request.id, version=request.version
    )
    assert service.required_slots(p.project, request) == ["pm"]
    applied = await approve(p.pm, request)
    assert applied.status == ChangeStatus.APPLIED
    charter = await SignableDocument.get(id=charter.id)
    assert charter.current_number == 2 and charter.status == DocumentStatus.DRAFT
    version = await DocumentVersion.get(document_id=charter.id, number=2)
    assert version.body["goals"][0] == {"goal": "上市首月销量", "target": "≥ 25,000 件"}
    assert applied.applied[-1]["op"] == "edit_charter"
    assert applied.applied[-1]["after"]["goals"][1]["goal"] == "退货率"


async def test_a_resource_edit_asks_both_departments_and_changes_the_committed_figures(db):
    from decimal import Decimal

    from server.requirements import resources
    from server.requirements.models import ResourceRequest, ResourceStatus

    p = await plan()
    liaison = await f.user(name="生产接口人", dept=p.departments["生产"])
    await f.member(p.pm, p.project, liaison, Role.LIAISON, p.departments["生产"])
    filed = await resources.file_request(
        f.actor(liaison),
        project_id=p.project.id,
        data=resources.ResourceInput(
            department_id=p.departments["生产"].id, kind="PEOPLE", description="模具工程师",
            quantity="2", unit="人", supplier_id=p.departments["研发"].id,
        ),
    )  # fmt: skip
    await resources.commit_resource(
        f.actor(p.heads["研发"]), request_id=filed.id, version=filed.version, commit=True
    )
    with pytest.raises(InvalidFields) as bad:
        await draft(p, [{"op": "edit_resource", "resource_id": filed.id, "quantity": "0",
                         "needed_by": "明天"}])  # fmt: skip
    assert {e.field for e in bad.value.errors} == {"edit-0-quantity", "edit-0-neededBy"}
    request = await draft(
        p,
        [{"op": "edit_resource", "resource_id": filed.id, "quantity": "3",
          "amount": "45,000", "needed_by": "2026-10-09"}],
        kind="RESOURCES",
    )  # fmt: skip
    assert service.required_slots(p.project, request) == [
        "pm",
        f"department:{p.departments['研发'].id}",
        f"department:{p.departments['生产'].id}",
    ]
    request = await approvals.submit_change_request(
        f.actor(p.pm), request_id=request.id, version=request.version
    )
    for who in (p.pm, p.heads["研发"], p.heads["生产"]):
        done = await approve(who, request)
    assert done.status == ChangeStatus.APPLIED
    row = await ResourceRequest.get(id=filed.id)
    assert (row.quantity, row.amount, row.needed_by) == (
        Decimal("3.00"), Decimal("45000.00"), date(2026, 10, 9)
    )  # fmt: skip
    assert row.status == ResourceStatus.COMMITTED
    assert done.applied[0]["before"]["quantity"] == "2.00"


async def test_the_preview_follows_a_finish_to_finish_link_with_a_lag(db):
    p = await plan()
    packing = await draft(
        p,
        [
            {"op": "add_task", "key": "F", "name": "包装", "department_id":
             p.departments["生产"].id, "planned_start": "2026-09-21", "duration_days": 2},
            {"op": "add_link", "predecessor": p.tasks["B"].id, "successor": "F", "type": "FF",
             "lag": 1},
        ],
        kind="SCOPE",
    )  # fmt: skip
    impact = packing.impact
    # F must finish one working day after B (09-30): the next working day is 10-09, after
    # the holidays; two days of work end there, so F starts 09-30.
    assert impact["finishAfter"] == "2026-10-09" and impact["deltaWorkingDays"] == 1
    production = next(d for d in impact["departments"] if d["name"] == "生产部")
    assert production["tasksMoved"] == [
        {"id": -1, "name": "包装", "before": None, "after": "2026-10-09", "delta": None}
    ]
    assert impact["criticalAdded"] == [{"id": -1, "name": "包装"}]
    assert impact["criticalRemoved"] == [{"id": p.tasks["C"].id, "name": "发布会"}]
