"""Everything the pages do is in the API too: the tracking table and late-task notes, the
meeting's next item, all-present and minutes draft, users, tokens, calendars, chat robots;
Task.project and Task.status as an enum."""

from __future__ import annotations

from datetime import date

from schema.common import to_global_id
from server.meetings import running as meeting_running
from server.meetings.models import AgendaItem, Attendee, Meeting
from server.notices.models import ChatRobot
from server.org.models import ApiToken, User
from server.planning.models import CalendarDay, ProjectCalendarDay
from server.progress.models import TrackingNote
from tests import factories as f
from tests.schema.test_graphql import gql, token_for
from tests.server.test_meetings import live, team
from tests.views.test_tracking_pages import late_plan

TRACKING = """
query($id: ID!, $week: String) { tracking(projectId: $id, week: $week) { week monday sunday
  rows { task { name status project { code } } daysLate plannedPercent actualPercent
         mayExplain note { cause action version } } } }
"""
EXPLAIN = """
mutation($input: ExplainLateTaskInput!) { explainLateTask(input: $input) {
  note { cause action version } errors { code field message } } }
"""


async def test_a_liaison_reads_the_tracking_table_and_explains_a_late_task(http):
    project, pm, liaison, viewer, late = await late_plan()
    token = await token_for(liaison)
    variables = {"id": to_global_id("Project", project.id), "week": "2026-W46"}
    table = (await gql(http, token, TRACKING, variables)).json()["data"]["tracking"]
    assert (table["week"], table["monday"], table["sunday"]) == (
        "2026-W46",
        "2026-11-09",
        "2026-11-15",
    )
    [row] = table["rows"]
    assert row["task"] == {"name": "样机测试", "status": "NOT_STARTED", "project": {"code": "TRK"}}
    assert row["daysLate"] > 0 and row["mayExplain"] and row["note"] is None
    explain = {"taskId": to_global_id("Task", late.id), "week": "2026-W46", "cause": "模具延期"}
    saved = await gql(http, token, EXPLAIN, {"input": explain | {"action": "换供应商"}})
    assert saved.json()["data"]["explainLateTask"] == {
        "note": {"cause": "模具延期", "action": "换供应商", "version": 1},
        "errors": [],
    }
    refused = await gql(
        http, await token_for(viewer), EXPLAIN, {"input": explain | {"action": "x"}}
    )
    assert refused.json()["data"]["explainLateTask"]["errors"][0]["code"] == "FORBIDDEN"
    assert (await TrackingNote.get(task_id=late.id)).action == "换供应商"


MEETING = """
mutation($input: {input}!) {{ {name}(input: $input) {{
  meeting {{ status version attendees {{ user {{ name }} attendance }} minutesDraft }}
  errors {{ code field message }} }} }}
"""


def meeting_mutation(name: str, input_type: str) -> str:
    return MEETING.format(name=name, input=input_type)


async def test_the_chair_moves_on_marks_everyone_present_and_edits_the_minutes(http, db):
    t = await team()
    meeting = await live(t)
    token = await token_for(t.pm)
    meeting_id = to_global_id("Meeting", meeting.id)
    first_item = await AgendaItem.filter(meeting_id=meeting.id).order_by("position").first()
    moved = await gql(
        http,
        token,
        meeting_mutation("nextAgendaItem", "MeetingIdInput"),
        {"input": {"meetingId": meeting_id}},
    )
    assert moved.json()["data"]["nextAgendaItem"]["errors"] == []
    assert (await AgendaItem.get(id=first_item.id)).spent_seconds is not None
    present = await gql(
        http,
        token,
        meeting_mutation("markAllPresent", "MeetingIdInput"),
        {"input": {"meetingId": meeting_id}},
    )
    attendees = present.json()["data"]["markAllPresent"]["meeting"]["attendees"]
    assert attendees and {a["attendance"] for a in attendees} == {"PRESENT"}
    assert not await Attendee.filter(meeting_id=meeting.id, attendance="INVITED").exists()

    edit = meeting_mutation("editMinutes", "EditMinutesInput")
    too_early = await gql(
        http, token, edit, {"input": {"meetingId": meeting_id, "version": 1, "minutes": "x"}}
    )
    assert too_early.json()["data"]["editMinutes"]["errors"][0]["field"] == ["meetingId"]
    await meeting_running.end_meeting(f.actor(t.pm), meeting_id=meeting.id)
    version = (await Meeting.get(id=meeting.id)).version
    edited = await gql(
        http,
        token,
        edit,
        {"input": {"meetingId": meeting_id, "version": version, "minutes": "# 纪要\n- 决定"}},
    )
    payload = edited.json()["data"]["editMinutes"]
    assert payload["errors"] == [] and payload["meeting"]["minutesDraft"] == "# 纪要\n- 决定"
    liaison = await gql(
        http,
        await token_for(t.rnd_liaison),
        edit,
        {"input": {"meetingId": meeting_id, "version": version + 1, "minutes": "改"}},
    )
    assert liaison.json()["data"]["editMinutes"]["errors"][0]["code"] == "FORBIDDEN"


USERS = """
mutation($input: CreateUserInput!) { createUser(input: $input) {
  user { id name version isActive department { name } } errors { code field message } } }
"""
ACTIVE = """
mutation($input: SetUserActiveInput!) { setUserActive(input: $input) {
  user { isActive version } errors { code field } } }
"""


async def test_an_administrator_creates_and_deactivates_users_and_others_cannot(http):
    rnd = await f.department("研发部")
    admin = await f.user(name="管理员", is_admin=True)
    person = await f.user(name="王芳")
    created = await gql(
        http,
        await token_for(admin),
        USERS,
        {
            "input": {
                "name": "新同事",
                "departmentId": to_global_id("Department", rnd.id),
                "email": "new@example.com",
                "mobile": "13800000123",
            }
        },
    )
    user = created.json()["data"]["createUser"]["user"]
    assert user["department"] == {"name": "研发部"} and user["isActive"]
    off = await gql(
        http,
        await token_for(admin),
        ACTIVE,
        {"input": {"userId": user["id"], "version": user["version"], "active": False}},
    )
    assert off.json()["data"]["setUserActive"]["user"]["isActive"] is False
    refused = await gql(
        http,
        await token_for(person),
        USERS,
        {"input": {"name": "x", "departmentId": to_global_id("Department", rnd.id)}},
    )
    assert refused.json()["data"]["createUser"]["errors"][0]["code"] == "FORBIDDEN"
    assert await User.filter(name="x").count() == 0


TOKENS = """
mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) {
  token { id name readOnly projectCodes revokedAt } secret errors { code field message } } }
"""


async def test_a_user_issues_lists_and_revokes_their_own_tokens(http):
    pm = await f.user(name="王芳")
    project = await f.project(pm, code="TOK")
    token = await token_for(pm)
    issued = await gql(
        http,
        token,
        TOKENS,
        {"input": {"name": "报表", "projectCodes": [project.code], "readOnly": True}},
    )
    payload = issued.json()["data"]["createApiToken"]
    assert payload["token"]["projectCodes"] == ["TOK"] and payload["token"]["readOnly"]
    assert payload["secret"].startswith("xt")
    viewer = await gql(http, payload["secret"], "{ viewer { name } }")
    assert viewer.json()["data"]["viewer"]["name"] == "王芳"
    listed = await gql(http, token, "{ apiTokens { name projectCodes } }")
    assert {"name": "报表", "projectCodes": ["TOK"]} in listed.json()["data"]["apiTokens"]
    revoked = await gql(
        http,
        token,
        """mutation($input: RevokeApiTokenInput!) { revokeApiToken(input: $input) {
            token { revokedAt } errors { code } } }""",
        {"input": {"id": payload["token"]["id"]}},
    )
    assert revoked.json()["data"]["revokeApiToken"]["token"]["revokedAt"] is not None
    assert (await gql(http, payload["secret"], "{ viewer { name } }")).status_code == 401
    assert await ApiToken.filter(revoked_at__isnull=False).count() == 1


CALENDAR = """
mutation($input: SetCalendarDayInput!) { setCalendarDay(input: $input) {
  calendarDay { date working reason projectId } errors { code field message } } }
"""


async def test_company_and_project_calendar_days(http):
    admin = await f.user(name="管理员", is_admin=True)
    pm = await f.user(name="王芳")
    project = await f.project(pm, code="CAL")
    company = await gql(
        http,
        await token_for(admin),
        CALENDAR,
        {"input": {"date": "2026-12-31", "working": False, "reason": "年终盘点"}},
    )
    assert company.json()["data"]["setCalendarDay"]["calendarDay"]["projectId"] is None
    assert (await CalendarDay.get(day=date(2026, 12, 31))).name == "年终盘点"
    project_id = to_global_id("Project", project.id)
    own = await gql(
        http,
        await token_for(pm),
        CALENDAR,
        {
            "input": {
                "date": "2026-12-26",
                "working": True,
                "reason": "周末赶工",
                "projectId": project_id,
            }
        },
    )
    assert own.json()["data"]["setCalendarDay"]["errors"] == []
    assert (await ProjectCalendarDay.get(project_id=project.id)).is_working
    refused = await gql(
        http, await token_for(pm), CALENDAR, {"input": {"date": "2026-12-30", "working": False}}
    )
    assert refused.json()["data"]["setCalendarDay"]["errors"][0]["code"] == "FORBIDDEN"


ROBOTS = """
mutation($input: AddChatRobotInput!) { addChatRobot(input: $input) {
  robot { id kind name projectCode department { name } } errors { code field message } } }
"""


async def test_the_pm_adds_and_removes_the_projects_chat_robot(http):
    pm = await f.user(name="王芳")
    project = await f.project(pm, code="BOT")
    token = await token_for(pm)
    project_id = to_global_id("Project", project.id)
    bad = await gql(
        http,
        token,
        ROBOTS,
        {
            "input": {
                "kind": "DINGTALK",
                "name": "项目群",
                "url": "ftp://x",
                "projectId": project_id,
            }
        },
        language="en",
    )
    assert bad.json()["data"]["addChatRobot"]["errors"][0]["field"] == ["url"]
    added = await gql(
        http,
        token,
        ROBOTS,
        {
            "input": {
                "kind": "DINGTALK",
                "name": "项目群",
                "url": "http://127.0.0.1:9/hook",
                "projectId": project_id,
            }
        },
    )
    robot = added.json()["data"]["addChatRobot"]["robot"]
    assert robot["projectCode"] == "BOT" and robot["kind"] == "DINGTALK"
    listed = await gql(
        http, token, "query($id: ID) { chatRobots(projectId: $id) { name } }", {"id": project_id}
    )
    assert listed.json()["data"]["chatRobots"] == [{"name": "项目群"}]
    removed = await gql(
        http,
        token,
        """mutation($input: RemoveChatRobotInput!) { removeChatRobot(input: $input) {
            errors { code } } }""",
        {"input": {"id": robot["id"]}},
    )
    assert removed.json()["data"]["removeChatRobot"]["errors"] == []
    assert not (await ChatRobot.get()).active
