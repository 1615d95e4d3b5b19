"""Retrospectives: a department's liaison files one (once the project is under way), edits it
with the version, and every project's lessons are found by anyone signed in, by department,
tag and words."""

from __future__ import annotations

import pytest

from server.closing import retrospectives as retros
from server.errors import Conflict, Forbidden, Invalid
from server.projects.models import Project, ProjectStatus
from tests import factories as f
from tests.server.test_acceptance import team


async def test_a_liaison_files_and_edits_their_departments_retrospective(db):
    project, pm, rnd_liaison, market_liaison, market_head, task, market, rnd = await team()
    data = retros.RetrospectiveInput(
        department_id=None, lessons="模具要提前两周下单", tags="供应商，模具, #进度"
    )
    with pytest.raises(Invalid):  # still planning
        await retros.file_retrospective(f.actor(rnd_liaison), project_id=project.id, data=data)
    await Project.filter(id=project.id).update(status=ProjectStatus.CLOSING)
    filed = await retros.file_retrospective(f.actor(rnd_liaison), project_id=project.id, data=data)
    assert filed.department_id == rnd.id and filed.tags == ["供应商", "模具", "进度"]
    with pytest.raises(Forbidden):  # another department's liaison
        await retros.file_retrospective(
            f.actor(market_liaison),
            project_id=project.id,
            data=retros.RetrospectiveInput(department_id=rnd.id, lessons="x"),
        )
    with pytest.raises(Invalid) as empty:
        await retros.file_retrospective(
            f.actor(market_liaison),
            project_id=project.id,
            data=retros.RetrospectiveInput(department_id=market.id),
        )
    assert empty.value.field == "lessons"
    with pytest.raises(Conflict):
        await retros.file_retrospective(
            f.actor(rnd_liaison),
            project_id=project.id,
            data=retros.RetrospectiveInput(department_id=None, lessons="改", version=7),
        )
    edited = await retros.file_retrospective(
        f.actor(rnd_liaison),
        project_id=project.id,
        data=retros.RetrospectiveInput(department_id=None, lessons="模具提前三周", version=1),
    )
    assert edited.id == filed.id and edited.version == 2 and edited.tags == []


async def test_lessons_are_found_across_projects_by_department_tag_and_words(db):
    project, pm, rnd_liaison, market_liaison, market_head, task, market, rnd = await team()
    await Project.filter(id=project.id).update(status=ProjectStatus.CLOSED)
    await retros.file_retrospective(
        f.actor(rnd_liaison),
        project_id=project.id,
        data=retros.RetrospectiveInput(department_id=None, lessons="模具要提前下单", tags="模具"),
    )
    await retros.file_retrospective(
        f.actor(market_liaison),
        project_id=project.id,
        data=retros.RetrospectiveInput(department_id=None, went_well="渠道反馈快", tags="渠道"),
    )
    stranger = await f.user(name="新项目经理")  # never on this project
    everything, total = await retros.list_lessons(f.actor(stranger), retros.LessonFilter())
    assert total == 2
    by_tag, _ = await retros.list_lessons(f.actor(stranger), retros.LessonFilter(tag="模具"))
    assert [r.department_id for r in by_tag] == [rnd.id]
    by_words, _ = await retros.list_lessons(f.actor(stranger), retros.LessonFilter(text="渠道反馈"))
    assert [r.department_id for r in by_words] == [market.id]
    by_department, _ = await retros.list_lessons(
        f.actor(stranger), retros.LessonFilter(department_id=rnd.id)
    )
    assert [r.lessons for r in by_department] == ["模具要提前下单"]
    assert await retros.all_tags() == sorted(["模具", "渠道"])
