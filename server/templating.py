"""One Jinja environment for pages and emails: autoescape on, gettext from Babel catalogs."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from server import i18n, mentions
from server.audit.service import ACTION_LABELS
from server.changes.models import (
    CHANGE_KIND_LABELS,
    CHANGE_STATUS_LABELS,
    ChangeKind,
    ChangeStatus,
)
from server.closing.models import ACCEPTANCE_STATUS_LABELS, AcceptanceStatus
from server.meetings.models import (
    ATTENDANCE_LABELS,
    MEETING_KIND_LABELS,
    MEETING_STATUS_LABELS,
    Attendance,
    MeetingKind,
    MeetingStatus,
)
from server.notices.models import (
    NOTICE_KIND_LABELS,
    NOTICE_STATUS_LABELS,
    ROBOT_KIND_LABELS,
    NoticeKind,
    NoticeStatus,
    RobotKind,
)
from server.projects.models import ROLE_LABELS, STATUS_LABELS, ProjectStatus, Role, move_label
from server.requirements.models import (
    GAP_RESOLUTION_LABELS,
    GAP_STATE_LABELS,
    PRIORITY_LABELS,
    REQUIREMENT_STATUS_LABELS,
    RESOURCE_KIND_LABELS,
    RESOURCE_STATUS_LABELS,
    GapResolution,
    GapState,
    Priority,
    RequirementStatus,
    ResourceKind,
    ResourceStatus,
)
from server.risks.models import (
    PROBLEM_STATUS_LABELS,
    RISK_CATEGORY_LABELS,
    RISK_LEVEL_LABELS,
    RISK_STATUS_LABELS,
    RISK_STRATEGY_LABELS,
    SEVERITY_LABELS,
    ProblemStatus,
    RiskCategory,
    RiskLevel,
    RiskStatus,
    RiskStrategy,
    Severity,
)
from server.settings import get_settings
from server.signoffs.models import (
    COLUMN_LABELS,
    DECISION_LABELS,
    DOCUMENT_STATUS_LABELS,
    KIND_LABELS,
    Decision,
    DocumentKind,
    DocumentStatus,
)
from server.validation import CONTROL_CHARACTERS

# server/templates links to the top-level folder, so the wheel carries it too.
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


class CleanMarkup(Markup):
    """Markup drawn by code that escaped every text it took in and removed the control
    characters from it (the planning exports): printed as it is. The plan page prints
    some 1 MB of it, which the check below would read through again."""

    __slots__ = ()


def _without_control_characters(value: object) -> object:
    """Text stored before control characters were refused still renders as well-formed
    HTML, SVG and XML (which forbid them)."""
    # Every printed value passes here: numbers and printable text leave at once.
    if type(value) is CleanMarkup:
        return value
    if isinstance(value, str) and not value.isprintable() and CONTROL_CHARACTERS.search(value):
        return type(value)(CONTROL_CHARACTERS.sub("", value))
    return value


def field_error(errors: dict[str, str], name: str) -> Markup:
    """A field's refusal under it, as templates/_field_error.html writes it: for a form drawn
    often (a plan's task form), where an include per field cost a context each."""
    message = errors.get(name)
    if not message:
        return Markup("")
    return Markup('<p class="field-error" id="{0}-error">{1}</p>').format(name, message)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        finalize=_without_control_characters,
        # Plain-text mail and chat messages are not HTML: escaping would show "&amp;" there.
        autoescape=select_autoescape(
            disabled_extensions=("txt", "md"), default=True, default_for_string=True
        ),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates are read once per process (a new release restarts it): with reloading
        # on, every render and every include (a task's form has eight) asked the file
        # system whether the template had changed.
        auto_reload=False,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        # Jinja's newstyle gettext formats the placeholders itself, so these must not.
        lambda message: i18n.translations(i18n.current_language.get()).gettext(message),
        lambda singular, plural, n: i18n.translations(i18n.current_language.get()).ngettext(
            singular, plural, n
        ),
        newstyle=True,
    )
    env.globals["field_error"] = field_error
    env.globals["role_label"] = lambda role: i18n.gettext(ROLE_LABELS[Role(role)])
    env.globals["status_label"] = lambda status: i18n.gettext(STATUS_LABELS[ProjectStatus(status)])
    env.globals["action_label"] = lambda action: i18n.gettext(ACTION_LABELS.get(action) or action)
    env.globals["kind_label"] = lambda kind: i18n.gettext(KIND_LABELS[DocumentKind(kind)])
    env.globals["document_status_label"] = lambda status: i18n.gettext(
        DOCUMENT_STATUS_LABELS[DocumentStatus(status)]
    )
    env.globals["decision_label"] = lambda value: i18n.gettext(DECISION_LABELS[Decision(value)])
    env.globals["team_role_label"] = _team_role_label
    env.globals["notice_status_label"] = lambda value: i18n.gettext(
        NOTICE_STATUS_LABELS[NoticeStatus(value)]
    )
    env.globals["robot_kind_label"] = lambda value: i18n.gettext(
        ROBOT_KIND_LABELS[RobotKind(value)]
    )
    env.globals["risk_category_label"] = lambda value: i18n.gettext(
        RISK_CATEGORY_LABELS[RiskCategory(value)]
    )
    env.globals["risk_level_label"] = lambda value: i18n.gettext(
        RISK_LEVEL_LABELS[RiskLevel(value)]
    )
    env.globals["risk_strategy_label"] = lambda value: i18n.gettext(
        RISK_STRATEGY_LABELS[RiskStrategy(value)]
    )
    env.globals["risk_status_label"] = lambda value: i18n.gettext(
        RISK_STATUS_LABELS[RiskStatus(value)]
    )
    env.globals["priority_label"] = lambda value: i18n.gettext(PRIORITY_LABELS[Priority(value)])
    env.globals["requirement_status_label"] = lambda value: i18n.gettext(
        REQUIREMENT_STATUS_LABELS[RequirementStatus(value)]
    )
    env.globals["resource_kind_label"] = lambda value: i18n.gettext(
        RESOURCE_KIND_LABELS[ResourceKind(value)]
    )
    env.globals["resource_status_label"] = lambda value: i18n.gettext(
        RESOURCE_STATUS_LABELS[ResourceStatus(value)]
    )
    env.globals["gap_state_label"] = lambda value: i18n.gettext(GAP_STATE_LABELS[GapState(value)])
    env.globals["gap_resolution_label"] = lambda value: i18n.gettext(
        GAP_RESOLUTION_LABELS[GapResolution(value)]
    )
    env.globals["resource_or_gap_label"] = _resource_or_gap_label

    env.globals["severity_label"] = lambda value: i18n.gettext(SEVERITY_LABELS[Severity(value)])
    env.globals["problem_status_label"] = lambda value: i18n.gettext(
        PROBLEM_STATUS_LABELS[ProblemStatus(value)]
    )
    env.globals["meeting_kind_label"] = lambda value: i18n.gettext(
        MEETING_KIND_LABELS[MeetingKind(value)]
    )
    env.globals["meeting_status_label"] = lambda value: i18n.gettext(
        MEETING_STATUS_LABELS[MeetingStatus(value)]
    )
    env.globals["attendance_label"] = lambda value: i18n.gettext(
        ATTENDANCE_LABELS[Attendance(value)]
    )
    env.filters["instant"] = lambda value, zone="Asia/Shanghai": i18n.format_instant(value, zone)
    env.filters["column_label"] = lambda key: i18n.gettext(COLUMN_LABELS.get(key) or key)
    # Days stored in JSON (a change request's impact) come as ISO text.
    env.filters["day"] = lambda value: i18n.format_day(
        date.fromisoformat(value) if isinstance(value, str) else value
    )
    env.filters["number"] = lambda value: i18n.format_number(value)
    env.filters["markdown"] = markdown_html
    env.filters["money"] = lambda value, currency="CNY": i18n.format_money(value, currency)
    env.filters["mentions"] = mentions.as_html
    env.globals["acceptance_status_label"] = lambda value: i18n.gettext(
        ACCEPTANCE_STATUS_LABELS[AcceptanceStatus(value)]
    )
    env.globals["status_move_label"] = lambda current, wanted: i18n.gettext(
        move_label(ProjectStatus(current), ProjectStatus(wanted))
    )
    env.globals["notice_kind_label"] = lambda value: i18n.gettext(
        NOTICE_KIND_LABELS[NoticeKind(value)]
    )
    env.globals["change_kind_label"] = lambda value: i18n.gettext(
        CHANGE_KIND_LABELS[ChangeKind(value)]
    )
    env.globals["change_status_label"] = lambda value: i18n.gettext(
        CHANGE_STATUS_LABELS[ChangeStatus(value)]
    )
    env.filters["filesize"] = lambda value: i18n.format_file_size(value)
    env.globals["attachment_limit_mb"] = lambda: get_settings().attachment_max_bytes // 2**20
    return env


_markdown = MarkdownIt("commonmark", {"html": False})


def markdown_html(text: str) -> Markup:
    """Markdown (published minutes) as HTML: CommonMark with raw HTML escaped, so what a
    writer typed can never become markup of its own."""
    return Markup(_markdown.render(text or ""))  # noqa: S704 - markdown-it escaped it


def _resource_or_gap_label(value: str) -> str:
    """The resource list's status filter offers request statuses and gap states together."""
    if value in ResourceStatus.__members__:
        return i18n.gettext(RESOURCE_STATUS_LABELS[ResourceStatus(value)])
    return i18n.gettext(GAP_STATE_LABELS[GapState(value)])


def _team_role_label(value: str) -> str:
    """A charter's core-team role: a project role's label, or the words someone typed."""
    try:
        return i18n.gettext(ROLE_LABELS[Role(value)])
    except ValueError:
        return value


def render(template_name: str, language: str, **context: object) -> str:
    """Render in `language`, whatever the language of the surrounding request."""
    with i18n.speaking(language):
        return environment().get_template(template_name).render(**context, language=language)
