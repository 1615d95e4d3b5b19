"""Meeting pages: the list and calendar feed, one meeting run live, minutes and exports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from server import clock, events
from server.auth import Action, Actor, may
from server.closing import acceptance as closing_acceptance
from server.closing import retrospectives as closing_retrospectives
from server.discussion.models import SubjectKind
from server.discussion.service import Subject
from server.errors import Forbidden, NotFound
from server.i18n import translate
from server.meetings import exports
from server.meetings import minutes as meeting_minutes
from server.meetings import queries as meeting_queries
from server.meetings import running as meeting_running
from server.meetings import service as meetings
from server.meetings.models import Attendance, Meeting, MeetingKind, MeetingStatus
from server.org import credentials
from server.org import service as org
from server.planning import queries as planning_queries
from server.projects import service as projects
from server.projects.models import Project
from server.requirements import queries as requirement_queries
from server.requirements.models import RequirementStatus
from server.risks import problems as risk_problems
from server.templating import render as render_template
from views.common import (
    Refusal,
    actor_of,
    current_user,
    is_htmx,
    language_of,
    optional_int,
    page,
    refusal,
    render,
    render_pdf,
)
from views.discussion import thread_context

KEEPALIVE_SECONDS = 15


def _meeting_path(project: Project, meeting: Meeting) -> str:
    return f"/projects/{project.code}/meetings/{meeting.id}"


# --- the list -----------------------------------------------------------------------------------


async def _list_context(request: Request, project: Project) -> dict[str, Any]:
    actor = actor_of(request)
    rows = (await meeting_queries.list_meetings([project.id]))[project.id]
    members = (await projects.list_members([project.id]))[project.id]
    people = {m.user.id: m.user for m in members}
    user = current_user(request)
    assert user is not None
    return {
        "project": project,
        "meetings": rows,
        "minutes_state": meeting_queries.minutes_state,
        "people": sorted(people.values(), key=lambda u: u.name),
        "kinds": [k.value for k in MeetingKind],
        "may_run": await may(actor, Action.RUN_MEETINGS, project),
        "feed_url": (
            f"/projects/{project.code}/calendar.ics?token={quote(credentials.feed_token(user))}"
        ),
    }


@page
async def meeting_list(request: Request) -> Response:
    """The meetings; `?problem=ID` opens the form as a topic meeting about that problem."""
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    context = await _list_context(request, project)
    values: dict[str, str] = {}
    problem_id = optional_int(request.query_params.get("problem"))
    if problem_id is not None:
        problem = await risk_problems.get_problem(actor, problem_id=problem_id)
        if problem.project_id == project.id:
            values = {
                "kind": MeetingKind.TOPIC.value,
                "title": translate(
                    language_of(request), "Topic meeting: %(title)s", title=problem.title
                )[:200],
                "problem_id": str(problem.id),
                "duration_minutes": "60",
            }
    return render(request, "meetings/list.html", errors={}, values=values, **context)


@page
async def create(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    owners = form.getlist("agenda_owner")
    agenda = [
        meetings.AgendaInput(
            title=str(title),
            minutes=optional_int(str(minutes)),
            owner_id=optional_int(str(owners[i])) if i < len(owners) else None,
        )
        for i, (title, minutes) in enumerate(
            zip(form.getlist("agenda_title"), form.getlist("agenda_minutes"), strict=False)
        )
        if str(title).strip() or str(minutes).strip()
    ]
    async with refusal(request) as refused:
        meeting = await meetings.create_meeting(
            actor,
            project_id=project.id,
            data=meetings.MeetingInput(
                kind=values.get("kind"),
                title=values.get("title"),
                scheduled_start=values.get("scheduled_start"),
                duration_minutes=optional_int(values.get("duration_minutes")),
                place=values.get("place", ""),
                attendee_ids=[
                    int(str(v)) for v in form.getlist("attendee_ids") if str(v).isdigit()
                ],
                agenda=agenda,
                repeat_weeks=optional_int(values.get("repeat_weeks")) or 1,
                problem_id=optional_int(values.get("problem_id")),
            ),
        )
    if refused:
        context = await _list_context(request, project)
        errors = refused.errors
        return render(
            request, "meetings/list.html", status_code=400, errors=errors, values=values, **context
        )
    return RedirectResponse(_meeting_path(project, meeting), status_code=303)


@page
async def calendar_feed(request: Request) -> Response:
    """The project's meetings as iCalendar, for the session, a feed token (?token=) or an
    API token (Bearer, or ?token=), the last within the token's scope."""
    actor = await _feed_reader(request)
    if actor is None:
        return Response("Not signed in.", status_code=401, media_type="text/plain")
    project = await projects.get_project(actor, code=request.path_params["code"])
    rows = (await meeting_queries.list_meetings([project.id]))[project.id]
    milestones = [(m.task, m.day) for m in await planning_queries.milestone_dates(project.id)]
    return Response(
        exports.project_calendar(project, rows, milestones),
        media_type="text/calendar; charset=utf-8",
        headers={"content-disposition": f'inline; filename="{project.code}.ics"'},
    )


async def _feed_reader(request: Request) -> Actor | None:
    language = language_of(request)
    user = current_user(request)
    if user is not None:
        return Actor.for_user(user, language)
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    token = bearer.strip() if scheme.lower() == "bearer" else request.query_params.get("token")
    if token and token.startswith("xt_"):
        return await org.actor_for_api_token(token, language)
    user = await credentials.user_for_feed_token(token)
    return Actor.for_user(user, language) if user is not None else None


# --- one meeting --------------------------------------------------------------------------------


async def _meeting_context(request: Request, *, meeting_id: int | None = None) -> dict[str, Any]:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    meeting = await meeting_queries.get_meeting(
        actor, meeting_id=meeting_id or int(request.path_params["meeting_id"]), project=project
    )
    view = await meeting_queries.meeting_view(meeting)
    may_run = await may(actor, Action.RUN_MEETINGS, project)
    report_departments = await meeting_minutes.department_reports_allowed(
        actor, project, view.departments
    )
    members = (await projects.list_members([project.id]))[project.id]
    people = sorted({m.user.id: m.user for m in members}.values(), key=lambda u: u.name)
    invited_ids = {a.user.id for a in view.attendees}
    local = meeting.scheduled_start.astimezone(ZoneInfo(project.time_zone))
    return {
        "project": project,
        "meeting": meeting,
        "local_start": local.strftime("%Y-%m-%dT%H:%M"),
        "uninvited": [u for u in people if u.id not in invited_ids],
        "view": view,
        "may_run": may_run,
        "may_record": meeting.status == MeetingStatus.LIVE
        and await may(actor, Action.RECORD_IN_MEETING, project),
        "report_departments": report_departments,
        "people": people,
        "attendance_values": [a.value for a in Attendance],
        "minutes_state": meeting_queries.minutes_state(meeting),
        "after": await events.latest_id("meeting", meeting.id),
        **await _requirement_review(meeting),
        "may_decide": {
            a.id
            for a in view.awaiting_acceptance
            if await closing_acceptance.may_decide(actor, project, a)
        },
        **await thread_context(
            request,
            SubjectKind.MEETING,
            meeting.id,
            shown=Subject(SubjectKind.MEETING, meeting.id, project, meeting.title, None),
        ),
    }


async def _requirement_review(meeting: Meeting) -> dict[str, Any]:
    """A requirement review meeting lists what awaits review, to decide it there."""
    if meeting.kind != MeetingKind.REQUIREMENT_REVIEW or meeting.status != MeetingStatus.LIVE:
        return {"requirements_to_review": []}
    waiting, _ = await requirement_queries.list_requirements(
        meeting.project_id, requirement_queries.ListFilter(status=RequirementStatus.FILED.value)
    )
    return {
        "requirements_to_review": waiting,
        "merge_targets": await requirement_queries.merge_targets(meeting.project_id),
    }


@page
async def meeting_page(request: Request) -> Response:
    context = await _meeting_context(request)
    return render(request, "meetings/meeting.html", errors={}, values={}, **context)


async def _after_write(
    request: Request,
    refused: Refusal,
    *,
    fragment: str,
    values: dict[str, str],
) -> Response:
    """No JS: back to the page (or it with errors). htmx: the form again, emptied on success."""
    if not refused and not is_htmx(request):
        return RedirectResponse(request.url.path.rsplit("/", 1)[0], status_code=303)
    context = await _meeting_context(request)
    template = fragment if is_htmx(request) else "meetings/meeting.html"
    return render(
        request,
        template,
        status_code=400 if refused else 200,
        errors=refused.errors,
        values=values if refused else {},
        **context,
    )


WriteAction = Callable[[Actor, Meeting, Any, dict[str, str]], Awaitable[None]]
Handler = Callable[[Request], Awaitable[Response]]


def _write(fragment: str) -> Callable[[WriteAction], Handler]:
    """A POST handler around one service call: errors land on the form's fields."""

    def decorator(action: WriteAction) -> Handler:
        @page
        async def handler(request: Request) -> Response:
            actor = actor_of(request)
            project = await projects.get_project(actor, code=request.path_params["code"])
            meeting = await meeting_queries.get_meeting(
                actor, meeting_id=int(request.path_params["meeting_id"]), project=project
            )
            form = await request.form()
            values = {k: v for k, v in form.items() if isinstance(v, str)}
            async with refusal(request, shown_by_page=(Forbidden, NotFound)) as refused:
                await action(actor, meeting, form, values)
            return await _after_write(request, refused, fragment=fragment, values=values)

        wrapped: Handler = handler
        return wrapped

    return decorator


@_write("meetings/_controls.html")
async def start(actor: Actor, meeting: Meeting, form: Any, values: dict[str, str]) -> None:
    await meeting_running.start_meeting(actor, meeting_id=meeting.id)


@_write("meetings/_controls.html")
async def next_item(actor: Actor, meeting: Meeting, form: Any, values: dict[str, str]) -> None:
    await meeting_running.next_agenda_item(actor, meeting_id=meeting.id)


@_write("meetings/_controls.html")
async def end(actor: Actor, meeting: Meeting, form: Any, values: dict[str, str]) -> None:
    await meeting_running.end_meeting(actor, meeting_id=meeting.id)


@_write("meetings/_reschedule_form.html")
async def reschedule(actor: Actor, meeting: Meeting, form: Any, values: dict[str, str]) -> None:
    await meetings.reschedule_meeting(
        actor,
        meeting_id=meeting.id,
        version=optional_int(values.get("version")) or 0,
        data=meetings.RescheduleInput(
            scheduled_start=values.get("scheduled_start"),
            duration_minutes=optional_int(values.get("duration_minutes")),
            place=values.get("place"),
            add_attendee_ids=[
                int(str(v)) for v in form.getlist("attendee_ids") if str(v).isdigit()
            ],
        ),
    )


@_write("meetings/_attendance_form.html")
async def attendance(actor: Actor, meeting: Meeting, form: Any, values: dict[str, str]) -> None:
    await meeting_running.set_attendance(
        actor,
        meeting_id=meeting.id,
        user_id=optional_int(values.get("user_id")) or 0,
        attendance=values.get("attendance", ""),
    )


@_write("meetings/_attendance_form.html")
async def all_present(actor: Actor, meeting: Meeting, form: Any, values: dict[str, str]) -> None:
    await meeting_running.mark_all_present(actor, meeting_id=meeting.id)


@_write("meetings/_decision_form.html")
async def decision(actor: Actor, meeting: Meeting, form: Any, values: dict[str, str]) -> None:
    await meeting_running.record_decision(actor, meeting_id=meeting.id, text=values.get("text"))


@_write("meetings/_acceptance_review.html")
async def acceptance(actor: Actor, meeting: Meeting, form: Any, values: dict[str, str]) -> None:
    """The receiving department decides a hand-over in the acceptance meeting."""
    await closing_acceptance.decide_acceptance(
        actor,
        acceptance_id=optional_int(values.get("acceptance_id")) or 0,
        version=optional_int(values.get("version")) or 0,
        verdict=closing_acceptance.Verdict(
            decision=values.get("decision", ""),
            comment=values.get("comment"),
            evidence_link=values.get("evidence_link"),
            meeting_id=meeting.id,
        ),
    )


@_write("meetings/_retrospective_review.html")
async def retrospective(actor: Actor, meeting: Meeting, form: Any, values: dict[str, str]) -> None:
    await closing_retrospectives.review_retrospective(
        actor,
        retrospective_id=optional_int(values.get("retrospective_id")) or 0,
        meeting_id=meeting.id,
        version=optional_int(values.get("version")) or 0,
    )


@_write("meetings/_question_form.html")
async def question(actor: Actor, meeting: Meeting, form: Any, values: dict[str, str]) -> None:
    await meeting_running.record_question(
        actor,
        meeting_id=meeting.id,
        data=meeting_running.QuestionInput(
            question=values.get("question"),
            answer=values.get("answer"),
            asked_by_id=optional_int(values.get("asked_by_id")),
            answered_by_id=optional_int(values.get("answered_by_id")),
        ),
    )


@_write("meetings/_action_form.html")
async def action_item(actor: Actor, meeting: Meeting, form: Any, values: dict[str, str]) -> None:
    await meeting_running.add_action_item(
        actor,
        meeting_id=meeting.id,
        data=meeting_running.ActionItemInput(
            title=values.get("title"),
            owner_id=optional_int(values.get("owner_id")),
            due_date=values.get("due_date") or None,
            department_id=optional_int(values.get("department_id")),
            need_id=optional_int(values.get("need_id")),
        ),
    )


@_write("meetings/_report_form.html")
async def report(actor: Actor, meeting: Meeting, form: Any, values: dict[str, str]) -> None:
    needs = [
        meetings.NeedInput(department_id=optional_int(str(dept)), text=str(text))
        for dept, text in zip(
            form.getlist("need_department"), form.getlist("need_text"), strict=False
        )
        if str(text).strip()
    ]
    await meetings.submit_department_report(
        actor,
        meeting_id=meeting.id,
        data=meetings.ReportInput(
            department_id=optional_int(values.get("department_id")),
            done=values.get("done"),
            next_week=values.get("next_week"),
            needs=needs,
        ),
    )


@_write("meetings/_minutes.html")
async def save_minutes(actor: Actor, meeting: Meeting, form: Any, values: dict[str, str]) -> None:
    await meeting_minutes.edit_minutes(
        actor,
        meeting_id=meeting.id,
        version=optional_int(values.get("version")) or 0,
        body=values.get("minutes"),
    )


@_write("meetings/_minutes.html")
async def publish(actor: Actor, meeting: Meeting, form: Any, values: dict[str, str]) -> None:
    await meeting_minutes.publish_minutes(
        actor, meeting_id=meeting.id, change_note=values.get("change_note")
    )


# --- live updates -------------------------------------------------------------------------------

# One render per (meeting, event id, language) however many pages watch the meeting.
_renders: dict[tuple[int, str, str], asyncio.Task[str]] = {}
_RENDERS_KEPT = 256


# The view each meeting's fragment was last rendered from, by the event id it reflects:
# a batch of only new decisions or action items extends it instead of reading it all again.
_views: dict[int, tuple[str, meeting_queries.MeetingView]] = {}
_ADDED = {"decision.recorded": "decisionId", "action.added": "actionItemId"}


async def _live_view(
    meeting_id: int, since: str | None, batch: list[events.Event]
) -> meeting_queries.MeetingView:
    known = _views.get(meeting_id)
    continues = known is not None and since is not None and known[0] == since
    if known is not None and continues and batch and all(e.kind in _ADDED for e in batch):
        ids = {
            kind: [int(e.data[key]) for e in batch if e.kind == kind]
            for kind, key in _ADDED.items()
        }
        return await meeting_queries.view_with_additions(
            known[1],
            decision_ids=ids["decision.recorded"],
            action_item_ids=ids["action.added"],
        )
    return await meeting_queries.meeting_view(await Meeting.get(id=meeting_id))


async def _render_live(
    meeting_id: int, since: str | None, batch: list[events.Event], language: str
) -> str:
    view = await _live_view(meeting_id, since, batch)
    if batch:
        if len(_views) >= _RENDERS_KEPT and meeting_id not in _views:
            _views.pop(next(iter(_views)))
        _views[meeting_id] = (batch[-1].id, view)
    return render_template(
        "meetings/_live.html",
        language,
        view=view,
        meeting=view.meeting,
        project=view.project,
        minutes_state=meeting_queries.minutes_state(view.meeting),
    )


def live_fragment(
    meeting_id: int, since: str | None, batch: list[events.Event], language: str
) -> asyncio.Task[str]:
    """One render per (meeting, event id, language), shared by every page in this process."""
    key = (meeting_id, batch[-1].id if batch else f"now:{since}", language)
    task = _renders.get(key)
    if task is None:
        if len(_renders) >= _RENDERS_KEPT:
            for old in list(_renders)[: _RENDERS_KEPT // 2]:
                _renders.pop(old, None)
        task = asyncio.ensure_future(_render_live(meeting_id, since, batch, language))
        _renders[key] = task
    return task


def sse_message(event_id: str, name: str, data: str) -> str:
    # The live fragment holds no <pre> or <textarea>: its line breaks and indentation carry
    # nothing, and one data line is cheaper to send and to parse on a phone.
    compact = " ".join(line.strip() for line in data.splitlines() if line.strip())
    return f"id: {event_id}\nevent: {name}\ndata: {compact}\n\n"


async def _live_stream(meeting_id: int, cursor: str, language: str) -> AsyncIterator[str]:
    """The live fragment, re-rendered whole after each batch of events since `cursor`."""
    yield "retry: 1000\n\n"
    batches = events.subscribe(
        "meeting", meeting_id, last_id=cursor, idle_seconds=KEEPALIVE_SECONDS
    )
    try:
        async for batch in batches:
            if not batch:
                yield ": keepalive\n\n"
                continue
            event_id = batch[-1].id
            html = await live_fragment(meeting_id, cursor, batch, language)
            cursor = event_id
            yield sse_message(event_id, "live", html)
            if any(e.kind in ("meeting.started", "meeting.ended") for e in batch):
                yield sse_message(event_id, "reload", clock.now().isoformat())
    finally:
        await batches.aclose()  # type: ignore[attr-defined]


@page
async def live_events(request: Request) -> Response:
    """Server-sent events of one meeting; a reconnect's Last-Event-ID replays what it missed."""
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    meeting = await meeting_queries.get_meeting(
        actor, meeting_id=int(request.path_params["meeting_id"]), project=project
    )
    # The starting point is taken before the response opens: whatever is recorded once the
    # browser sees the stream open reaches it, however long the first read takes to start.
    cursor = (
        request.headers.get("last-event-id")
        or request.query_params.get("after")
        or await events.latest_id("meeting", meeting.id)
    )
    return StreamingResponse(
        _live_stream(meeting.id, cursor, language_of(request)),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


# --- exports ------------------------------------------------------------------------------------


async def _minutes_text(request: Request) -> tuple[Project, Meeting, str]:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    meeting = await meeting_queries.get_meeting(
        actor, meeting_id=int(request.path_params["meeting_id"]), project=project
    )
    return await meeting_minutes.minutes_text(actor, meeting_id=meeting.id)


def _filename(project: Project, meeting: Meeting, extension: str) -> str:
    day = meeting.scheduled_start.date().isoformat()
    return quote(f"{project.code}-{day}-会议纪要.{extension}")


@page
async def minutes_markdown(request: Request) -> Response:
    project, meeting, text = await _minutes_text(request)
    return Response(
        text,
        media_type="text/markdown; charset=utf-8",
        headers={
            "content-disposition": "attachment; filename*=UTF-8''"
            + _filename(project, meeting, "md")
        },
    )


@page
async def minutes_pdf(request: Request) -> Response:
    project, meeting, text = await _minutes_text(request)
    name = f"{project.code}-{meeting.scheduled_start.date().isoformat()}-会议纪要.pdf"
    return await render_pdf(
        request, "print/minutes.html", name, project=project, meeting=meeting, text=text
    )


@page
async def minutes_docx(request: Request) -> Response:
    project, meeting, text = await _minutes_text(request)
    return Response(
        exports.minutes_docx(meeting.title, text),
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={
            "content-disposition": "attachment; filename*=UTF-8''"
            + _filename(project, meeting, "docx")
        },
    )
