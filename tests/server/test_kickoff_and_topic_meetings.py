"""Step 1 done properly: a kickoff meeting's questions raised, answered and in its minutes;
a topic meeting (专题会议) opened from a problem links back to it — as services, pages and
GraphQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schema.common import to_global_id
from server import clock
from server.errors import Forbidden, Invalid, InvalidFields
from server.meetings import minutes as meeting_minutes
from server.meetings import queries as meeting_queries
from server.meetings import running as meeting_running
from server.meetings import service as meetings
from server.meetings.models import Meeting, MeetingQuestion
from server.projects.models import Role
from server.risks import problems
from tests import factories as f
from tests.schema.test_graphql import gql, token_for
from tests.views.helpers import log_in, post

MONDAY = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def on_monday():
    with clock.travel_to(MONDAY):
        yield


async def kickoff():
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳", dept=rnd)
    project = await f.project(pm, departments=[rnd], code="KO")
    head = await f.user(name="张伟", dept=rnd)
    liaison = await f.user(name="孙浩", dept=rnd)
    await f.member(pm, project, head, Role.DEPARTMENT_HEAD, rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    meeting = await meetings.create_meeting(
        f.actor(pm),
        project_id=project.id,
        data=meetings.MeetingInput(
            kind="KICKOFF",
            title="项目启动会",
            scheduled_start=MONDAY + timedelta(hours=1),
            duration_minutes=90,
        ),
    )
    return project, pm, head, liaison, meeting


async def test_questions_are_recorded_live_by_the_chair_and_listed_in_the_minutes(db):
    project, pm, head, liaison, meeting = await kickoff()
    question = meeting_running.QuestionInput(
        question="首批产量是多少？",
        answer="5000 台",
        asked_by_id=liaison.id,
        answered_by_id=head.id,
    )
    with pytest.raises(Invalid):  # not running yet
        await meeting_running.record_question(f.actor(pm), meeting_id=meeting.id, data=question)
    await meeting_running.start_meeting(f.actor(pm), meeting_id=meeting.id)
    with pytest.raises(Forbidden):
        await meeting_running.record_question(
            f.actor(liaison), meeting_id=meeting.id, data=question
        )
    outsider = await f.user()
    with pytest.raises(InvalidFields) as refused:
        await meeting_running.record_question(
            f.actor(pm),
            meeting_id=meeting.id,
            data=meeting_running.QuestionInput(question="", answered_by_id=outsider.id),
        )
    assert {e.field for e in refused.value.errors} == {"question", "answeredById"}
    await meeting_running.record_question(f.actor(pm), meeting_id=meeting.id, data=question)
    await meeting_running.end_meeting(f.actor(pm), meeting_id=meeting.id)
    draft = await meeting_minutes.draft_minutes(await Meeting.get(id=meeting.id), "zh-CN")
    assert "## 提出的问题" in draft
    assert "1. 首批产量是多少？ (孙浩)" in draft and "答复 (张伟): 5000 台" in draft


async def test_the_chair_records_a_question_from_the_kickoff_page(http):
    project, pm, head, liaison, meeting = await kickoff()
    await meeting_running.start_meeting(f.actor(pm), meeting_id=meeting.id)
    await log_in(http, pm.email)
    page = await http.get(f"/projects/KO/meetings/{meeting.id}")
    assert 'id="question-form"' in page.text and "提出的问题" in page.text
    empty = await post(
        http, f"/projects/KO/meetings/{meeting.id}/questions", {"question": ""}, htmx=True
    )
    assert empty.status_code == 400 and 'id="question-error"' in empty.text
    saved = await post(
        http,
        f"/projects/KO/meetings/{meeting.id}/questions",
        {"question": "预算谁审批？", "answer": "黄总", "answered_by_id": str(head.id)},
        htmx=True,
    )
    assert saved.status_code == 200 and 'id="question-form"' in saved.text
    assert await MeetingQuestion.filter(meeting_id=meeting.id).count() == 1


async def test_a_topic_meeting_is_opened_from_a_problem_and_links_back(http):
    project, pm, head, liaison, meeting = await kickoff()
    problem = await problems.report_problem(
        f.actor(liaison), project_id=project.id, data=problems.ProblemInput(title="模具开裂")
    )
    await log_in(http, pm.email)
    listed = await http.get("/projects/KO/problems")
    assert f"/projects/KO/meetings?problem={problem.id}#new-meeting" in listed.text
    form = await http.get(f"/projects/KO/meetings?problem={problem.id}")
    assert 'value="专题会议：模具开裂"' in form.text
    assert f'name="problem_id" value="{problem.id}"' in form.text
    created = await post(
        http,
        "/projects/KO/meetings",
        {
            "kind": "TOPIC",
            "title": "专题会议：模具开裂",
            "scheduled_start": "2026-12-08T14:00",
            "duration_minutes": "60",
            "problem_id": str(problem.id),
        },
    )
    assert created.status_code == 303
    topic = await Meeting.get(kind="TOPIC")
    assert topic.problem_id == problem.id
    page = await http.get(created.headers["location"])
    assert f"/projects/KO/problems#problem-{problem.id}" in page.text
    other = await f.project(pm, code="ELSE")
    elsewhere = await problems.report_problem(
        f.actor(pm), project_id=other.id, data=problems.ProblemInput(title="别处")
    )
    refused = await post(
        http,
        "/projects/KO/meetings",
        {
            "kind": "TOPIC",
            "title": "x",
            "scheduled_start": "2026-12-08T14:00",
            "duration_minutes": "60",
            "problem_id": str(elsewhere.id),
        },
    )
    assert refused.status_code == 400 and 'id="problemId-error"' in refused.text


async def test_questions_and_topic_meetings_over_graphql(http):
    project, pm, head, liaison, meeting = await kickoff()
    await meeting_running.start_meeting(f.actor(pm), meeting_id=meeting.id)
    token = await token_for(pm)
    recorded = await gql(
        http,
        token,
        """mutation($input: RecordQuestionInput!) { recordMeetingQuestion(input: $input) {
          meeting { questions { question answer answeredBy { name } } }
          errors { code field } } }""",
        {
            "input": {
                "meetingId": to_global_id("Meeting", meeting.id),
                "question": "上市日期？",
                "answer": "三月",
                "answeredById": to_global_id("User", head.id),
            }
        },
    )
    assert recorded.json()["data"]["recordMeetingQuestion"] == {
        "meeting": {
            "questions": [
                {"question": "上市日期？", "answer": "三月", "answeredBy": {"name": "张伟"}}
            ]
        },
        "errors": [],
    }
    problem = await problems.report_problem(
        f.actor(pm), project_id=project.id, data=problems.ProblemInput(title="缺料")
    )
    created = await gql(
        http,
        token,
        """mutation($input: CreateMeetingInput!) { createMeeting(input: $input) {
          meeting { kind problemId } errors { code field } } }""",
        {
            "input": {
                "projectId": to_global_id("Project", project.id),
                "kind": "TOPIC",
                "title": "缺料专题会",
                "scheduledStart": "2026-12-08T06:00:00+00:00",
                "durationMinutes": 60,
                "problemId": to_global_id("Problem", problem.id),
            }
        },
    )
    assert created.json()["data"]["createMeeting"]["meeting"] == {
        "kind": "TOPIC",
        "problemId": to_global_id("Problem", problem.id),
    }
    view = await meeting_queries.meeting_view(await Meeting.get(id=meeting.id))
    assert [q.question for q in view.questions] == ["上市日期？"]
