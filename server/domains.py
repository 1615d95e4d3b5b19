"""Every domain loaded once, so each process (web, worker, CLI, tests) has all event handlers."""

from server.meetings import service as meetings
from server.planning import service as planning
from server.progress import service as progress
from server.projects import service as projects
from server.risks import service as risks
from server.signoffs import service as signoffs

LOADED = (meetings, planning, progress, projects, risks, signoffs)
