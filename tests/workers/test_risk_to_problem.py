"""A risk that occurs becomes a problem and climbs the escalation ladder: a real arq worker,
real Redis and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from server import clock
from server.projects.models import Role
from server.risks import register
from server.risks.models import Escalation, Problem
from tests import factories as f
from tests.workers.test_notice_delivery import run_job_in_worker

MONDAY = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
THURSDAY = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)  # the problem 3 working days overdue


async def test_an_occurred_risk_climbs_the_ladder_as_a_problem_by_mail(db, smtp_server):
    inbox, smtp_url = smtp_server
    settings = replace(db, smtp_url=smtp_url)
    with clock.travel_to(MONDAY):
        rnd = await f.department("研发部")
        pm = await f.user(name="王芳", email="wangfang@example.com", password=None)
        project = await f.project(pm, departments=[rnd], code="RX")
        owner = await f.user(name="孙浩", dept=rnd, email="sunhao@example.com", password=None)
        liaison = await f.user(name="李娜", dept=rnd, email="lina@example.com", password=None)
        await f.member(pm, project, owner, Role.MEMBER, rnd)
        await f.member(pm, project, liaison, Role.LIAISON, rnd)
        risk = await register.raise_risk(
            f.actor(owner),
            project_id=project.id,
            data=register.RiskInput(title="模具供应商停产", probability=4, impact=5),
        )
        await register.risk_occurred(
            f.actor(owner), risk_id=risk.id, version=risk.version, note="供应商正式通知停产"
        )
        await run_job_in_worker(settings)  # the welcome mails, out of the way
        inbox.messages.clear()
    problem = await Problem.get()
    assert problem.due_date == date(2026, 12, 7)

    with clock.travel_to(THURSDAY):
        await run_job_in_worker(settings, "escalations")
        await run_job_in_worker(settings, "escalations")  # a rerun adds nothing
        await run_job_in_worker(settings)
    rungs = await Escalation.filter(subject=f"problem:{problem.id}").values_list("level", flat=True)
    assert sorted(rungs) == [1]
    to = sorted(recipient for recipients, _ in inbox.messages for recipient in recipients)
    assert to == ["lina@example.com", "sunhao@example.com"]
    subjects = {message["Subject"] for _, message in inbox.messages}
    assert all("模具供应商停产" in s for s in subjects)
