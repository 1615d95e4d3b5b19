"""Pages (Jinja2 + htmx): plain URLs that work without JavaScript, edited in place with htmx."""

from starlette.convertors import register_url_convertor
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from server import logs
from server.settings import Settings
from views import (
    auth,
    changes,
    closing,
    discussion,
    health,
    meetings,
    notices,
    org,
    plan_import,
    planning,
    progress,
    projects,
    requirements,
    risks,
    signoffs,
)
from views.common import chart_twin, csv_twin
from views.middleware import BodyLimit, PageMiddleware
from views.observe import Observe

register_url_convertor("document", signoffs.DocumentSlug())


def page_routes() -> list[BaseRoute]:
    return [
        Route("/healthz", health.healthz),
        Route("/readyz", health.readyz),
        Route("/metrics", health.metrics_page),
        Route("/favicon.ico", health.favicon),
        Route("/login", auth.login_form, methods=["GET"]),
        Route("/login", auth.login, methods=["POST"]),
        Route("/logout", auth.logout, methods=["POST"]),
        Route("/language", auth.choose_language, methods=["POST"]),
        Route("/", projects.my_projects, methods=["GET"]),
        Route("/projects", projects.create_project, methods=["POST"]),
        Route("/my/tasks", progress.my_tasks, methods=["GET"]),
        Route("/my/tasks/{task_id:int}", progress.report, methods=["POST"]),
        Route("/projects/{code}", projects.overview, methods=["GET"]),
        Route("/projects/{code}", projects.edit_project, methods=["POST"]),
        Route("/projects/{code}/archive", projects.archive_project, methods=["POST"]),
        Route("/projects/{code}/status", projects.set_status, methods=["POST"]),
        Route("/projects/{code}/plan", planning.plan, methods=["GET"]),
        Route("/projects/{code}/plan/tasks", planning.save_task, methods=["POST"]),
        Route(
            "/projects/{code}/plan/tasks/{task_id:int}/edit",
            planning.edit_task_form,
            methods=["GET"],
        ),
        Route(
            "/projects/{code}/plan/tasks/{task_id:int}/predecessor-choices",
            planning.predecessor_choices,
            methods=["GET"],
        ),
        Route("/projects/{code}/plan/tasks/{task_id:int}", planning.save_task, methods=["POST"]),
        Route(
            "/projects/{code}/plan/tasks/{task_id:int}/dependencies",
            planning.add_dependency,
            methods=["POST"],
        ),
        Route(
            "/projects/{code}/plan/tasks/{task_id:int}/dependencies/{predecessor_id:int}/remove",
            planning.remove_dependency,
            methods=["POST"],
        ),
        Route(
            "/projects/{code}/plan/calendar", planning.set_project_calendar_day, methods=["POST"]
        ),
        Route("/projects/{code}/plan.svg", planning.gantt_svg, methods=["GET"]),
        Route("/projects/{code}/plan.png", chart_twin(planning.gantt_svg, "png"), methods=["GET"]),
        Route("/projects/{code}/plan.pdf", chart_twin(planning.gantt_svg, "pdf"), methods=["GET"]),
        Route("/projects/{code}/plan/settings", planning.save_schedule_settings, methods=["POST"]),
        Route("/projects/{code}/plan/approve", planning.approve_plan, methods=["POST"]),
        Route("/projects/{code}/plan/import", plan_import.preview, methods=["POST"]),
        Route("/projects/{code}/plan/import/confirm", plan_import.confirm, methods=["POST"]),
        Route("/projects/{code}/tracking", progress.tracking, methods=["GET"]),
        Route("/projects/{code}/tracking.xlsx", progress.tracking_xlsx, methods=["GET"]),
        Route("/projects/{code}/tracking.csv", csv_twin(progress.tracking_xlsx), methods=["GET"]),
        Route("/projects/{code}/tracking.svg", progress.tracking_svg, methods=["GET"]),
        Route(
            "/projects/{code}/tracking.png",
            chart_twin(progress.tracking_svg, "png"),
            methods=["GET"],
        ),
        Route(
            "/projects/{code}/tracking.pdf",
            chart_twin(progress.tracking_svg, "pdf"),
            methods=["GET"],
        ),
        Route("/projects/{code}/tracking/tasks/{task_id:int}", progress.explain, methods=["POST"]),
        Route("/projects/{code}/requirements", requirements.requirements_page, methods=["GET"]),
        Route("/projects/{code}/requirements", requirements.file_requirement, methods=["POST"]),
        Route(
            "/projects/{code}/requirements.xlsx", requirements.requirements_xlsx, methods=["GET"]
        ),
        Route(
            "/projects/{code}/requirements.csv",
            csv_twin(requirements.requirements_xlsx),
            methods=["GET"],
        ),
        Route(
            "/projects/{code}/requirements/{requirement_id:int}",
            requirements.update_requirement,
            methods=["POST"],
        ),
        Route(
            "/projects/{code}/requirements/{requirement_id:int}",
            requirements.requirement_page,
            methods=["GET"],
        ),
        Route(
            "/projects/{code}/requirements/{requirement_id:int}/review",
            requirements.review_requirement,
            methods=["POST"],
        ),
        Route(
            "/projects/{code}/requirements/conflicts",
            requirements.flag_conflict,
            methods=["POST"],
        ),
        Route(
            "/projects/{code}/requirements/conflicts/{conflict_id:int}",
            requirements.resolve_conflict,
            methods=["POST"],
        ),
        Route("/projects/{code}/resources", requirements.resources_page, methods=["GET"]),
        Route("/projects/{code}/resources", requirements.file_request, methods=["POST"]),
        Route("/projects/{code}/resources.xlsx", requirements.resources_xlsx, methods=["GET"]),
        Route(
            "/projects/{code}/resources.csv",
            csv_twin(requirements.resources_xlsx),
            methods=["GET"],
        ),
        Route(
            "/projects/{code}/resources/{request_id:int}/decision",
            requirements.decide_request,
            methods=["POST"],
        ),
        Route(
            "/projects/{code}/resources/{request_id:int}/gap",
            requirements.resolve_gap,
            methods=["POST"],
        ),
        Route(
            "/projects/{code}/resources/{request_id:int}/decide",
            requirements.gap_page,
            methods=["GET"],
        ),
        Route(
            "/projects/{code}/resources/{request_id:int}/decide",
            requirements.decide_gap,
            methods=["POST"],
        ),
        Route("/projects/{code}/risks", risks.register, methods=["GET"]),
        Route("/projects/{code}/risks", risks.raise_risk, methods=["POST"]),
        Route("/projects/{code}/risks.xlsx", risks.register_xlsx, methods=["GET"]),
        Route("/projects/{code}/risks.csv", csv_twin(risks.register_xlsx), methods=["GET"]),
        Route("/projects/{code}/risks.svg", risks.heat_map_svg, methods=["GET"]),
        Route("/projects/{code}/risks/matrix", risks.risk_matrix, methods=["POST"]),
        Route("/projects/{code}/risks/{risk_id:int}", risks.risk_page, methods=["GET"]),
        Route("/projects/{code}/risks/{risk_id:int}", risks.update_risk, methods=["POST"]),
        Route("/projects/{code}/risks/{risk_id:int}/review", risks.review_risk, methods=["POST"]),
        Route(
            "/projects/{code}/risks/{risk_id:int}/occurred", risks.risk_occurred, methods=["POST"]
        ),
        Route("/projects/{code}/risks/{risk_id:int}/close", risks.close_risk, methods=["POST"]),
        Route("/projects/{code}/problems", risks.problems, methods=["GET"]),
        Route("/projects/{code}/problems", risks.report, methods=["POST"]),
        Route("/projects/{code}/problems/{problem_id:int}", risks.update, methods=["POST"]),
        Route("/projects/{code}/problems/{problem_id:int}", risks.problem_page, methods=["GET"]),
        Route("/projects/{code}/tasks/{task_id:int}", planning.task_page, methods=["GET"]),
        Route("/projects/{code}/acceptance", closing.acceptance_page, methods=["GET"]),
        *change_routes(),
        Route(
            "/projects/{code}/closing-report/generate",
            signoffs.generate_closing_report,
            methods=["POST"],
        ),
        Route("/projects/{code}/retrospective", closing.retrospective_page, methods=["GET"]),
        Route("/projects/{code}/retrospective", closing.file_retrospective, methods=["POST"]),
        Route("/lessons", closing.lessons_page, methods=["GET"]),
        Route("/projects/{code}/acceptance", closing.hand_over, methods=["POST"]),
        Route("/projects/{code}/acceptance.xlsx", closing.acceptance_xlsx, methods=["GET"]),
        Route(
            "/projects/{code}/acceptance.csv", csv_twin(closing.acceptance_xlsx), methods=["GET"]
        ),
        Route("/projects/{code}/acceptance.docx", closing.acceptance_docx, methods=["GET"]),
        Route("/projects/{code}/acceptance/{acceptance_id:int}", closing.decide, methods=["POST"]),
        Route("/projects/{code}/comments", discussion.add_comment, methods=["POST"]),
        Route(
            "/projects/{code}/comments/{comment_id:int}", discussion.edit_comment, methods=["POST"]
        ),
        Route(
            "/projects/{code}/comments/{comment_id:int}/withdraw",
            discussion.withdraw_comment,
            methods=["POST"],
        ),
        Route("/projects/{code}/attachments", discussion.upload, methods=["POST"]),
        Route(
            "/projects/{code}/attachments/{attachment_id:int}/{name}",
            discussion.attachment,
            methods=["GET"],
        ),
        Route("/projects/{code}/plan.xlsx", planning.plan_xlsx, methods=["GET"]),
        Route("/projects/{code}/plan.csv", csv_twin(planning.plan_xlsx), methods=["GET"]),
        Route("/projects/{code}/plan.xml", planning.plan_xml, methods=["GET"]),
        Route("/projects/{code}/calendar.ics", meetings.calendar_feed, methods=["GET"]),
        Route("/projects/{code}/robots", notices.project_robots, methods=["GET"]),
        Route("/projects/{code}/robots", notices.add_project_robot, methods=["POST"]),
        Route(
            "/projects/{code}/robots/{robot_id:int}/remove",
            notices.remove_project_robot,
            methods=["POST"],
        ),
        Route("/projects/{code}/meetings", meetings.meeting_list, methods=["GET"]),
        Route("/projects/{code}/meetings", meetings.create, methods=["POST"]),
        *meeting_routes(),
        Route("/projects/{code}/{slug:document}", signoffs.document, methods=["GET"]),
        Route("/projects/{code}/{slug:document}", signoffs.revise, methods=["POST"]),
        Route("/projects/{code}/{slug:document}/edit", signoffs.edit_form, methods=["GET"]),
        Route(
            "/projects/{code}/{slug:document}/request",
            signoffs.request_signatures,
            methods=["POST"],
        ),
        Route("/projects/{code}/{slug:document}/remind", signoffs.remind, methods=["POST"]),
        Route(
            "/projects/{code}/{slug:document}/delegate", signoffs.name_delegate, methods=["POST"]
        ),
        Route("/projects/{code}/{slug:document}/sign", signoffs.sign_form, methods=["GET"]),
        Route("/projects/{code}/{slug:document}/sign", signoffs.sign, methods=["POST"]),
        Route("/projects/{code}/{slug:document}.md", signoffs.export_markdown, methods=["GET"]),
        Route("/projects/{code}/{slug:document}.docx", signoffs.export_docx, methods=["GET"]),
        Route("/projects/{code}/{slug:document}.pdf", signoffs.export_pdf, methods=["GET"]),
        Route("/projects/{code}/team", projects.team, methods=["GET"]),
        Route("/projects/{code}/team", projects.add_member, methods=["POST"]),
        Route(
            "/projects/{code}/team/liaisons/{department_id:int}",
            projects.replace_liaison,
            methods=["POST"],
        ),
        Route(
            "/projects/{code}/team/{member_id:int}/remove",
            projects.remove_member,
            methods=["POST"],
        ),
        Route("/admin/departments", org.departments, methods=["GET"]),
        Route("/admin/departments", org.create_department, methods=["POST"]),
        Route("/admin/users", org.users, methods=["GET"]),
        Route("/admin/users", org.create_user, methods=["POST"]),
        Route("/admin/users/{user_id:int}/active", org.set_user_active, methods=["POST"]),
        Route("/admin/calendar", planning.calendar_page, methods=["GET"]),
        Route("/admin/calendar", planning.set_calendar_day, methods=["POST"]),
        Route("/account", org.account, methods=["GET"]),
        Route("/account/password", org.change_password, methods=["POST"]),
        Route("/account/feed", org.rotate_feed, methods=["POST"]),
        Route("/account/notices", org.save_notice_preferences, methods=["POST"]),
        Route("/admin/users/{user_id:int}/password", org.reset_password, methods=["POST"]),
        Route("/tokens", org.tokens, methods=["GET"]),
        Route("/tokens", org.create_token, methods=["POST"]),
        Route("/tokens/{token_id:int}/revoke", org.revoke_token, methods=["POST"]),
        Route("/mailbox", notices.mailbox, methods=["GET"]),
        Route("/admin/outbox", notices.outbox, methods=["GET"]),
        Route("/admin/outbox/{notice_id:int}/retry", notices.retry, methods=["POST"]),
        Route("/admin/robots", notices.robots, methods=["GET"]),
        Route("/admin/robots", notices.add_robot, methods=["POST"]),
        Route("/admin/robots/{robot_id:int}/remove", notices.remove_robot, methods=["POST"]),
    ]


def change_routes() -> list[BaseRoute]:
    one = "/projects/{code}/changes/{number:int}"
    return [
        Route("/projects/{code}/changes", changes.change_log, methods=["GET"]),
        Route("/projects/{code}/changes", changes.draft, methods=["POST"]),
        Route("/projects/{code}/changes.xlsx", changes.change_log_xlsx, methods=["GET"]),
        Route("/projects/{code}/changes.csv", csv_twin(changes.change_log_xlsx), methods=["GET"]),
        Route("/projects/{code}/changes/thresholds", changes.set_thresholds, methods=["POST"]),
        Route(one + ".docx", changes.change_docx, methods=["GET"]),
        Route(one, changes.change_page, methods=["GET"]),
        Route(one + "/edits", changes.add_edit, methods=["POST"]),
        Route(one + "/edits/{index:int}/remove", changes.remove_edit, methods=["POST"]),
        Route(one + "/details", changes.update_details, methods=["POST"]),
        Route(one + "/submit", changes.submit, methods=["POST"]),
        Route(one + "/withdraw", changes.withdraw, methods=["POST"]),
        Route(one + "/decide", changes.decide, methods=["POST"]),
    ]


def meeting_routes() -> list[BaseRoute]:
    base = "/projects/{code}/meetings/{meeting_id:int}"
    return [
        Route(base, meetings.meeting_page, methods=["GET"]),
        Route(base + "/events", meetings.live_events, methods=["GET"]),
        Route(base + "/minutes.md", meetings.minutes_markdown, methods=["GET"]),
        Route(base + "/minutes.docx", meetings.minutes_docx, methods=["GET"]),
        Route(base + "/minutes.pdf", meetings.minutes_pdf, methods=["GET"]),
        Route(base + "/start", meetings.start, methods=["POST"]),
        Route(base + "/reschedule", meetings.reschedule, methods=["POST"]),
        Route(base + "/next", meetings.next_item, methods=["POST"]),
        Route(base + "/end", meetings.end, methods=["POST"]),
        Route(base + "/attendance", meetings.attendance, methods=["POST"]),
        Route(base + "/decisions", meetings.decision, methods=["POST"]),
        Route(base + "/questions", meetings.question, methods=["POST"]),
        Route(base + "/acceptances", meetings.acceptance, methods=["POST"]),
        Route(base + "/retrospectives", meetings.retrospective, methods=["POST"]),
        Route(base + "/attendance/all", meetings.all_present, methods=["POST"]),
        Route(base + "/action-items", meetings.action_item, methods=["POST"]),
        Route(base + "/report", meetings.report, methods=["POST"]),
        Route(base + "/minutes", meetings.save_minutes, methods=["POST"]),
        Route(base + "/publish", meetings.publish, methods=["POST"]),
    ]


def page_middleware(settings: Settings) -> list[Middleware]:
    return [
        Middleware(Observe, log_requests=logs.json_wanted()),
        Middleware(BodyLimit, settings=settings),
        Middleware(PageMiddleware, settings=settings),
    ]
