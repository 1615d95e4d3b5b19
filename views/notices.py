"""The in-app mailbox: where mail goes when no SMTP server is configured."""

from starlette.requests import Request
from starlette.responses import Response

from server.notices import service as notices
from views.common import actor_of, page, render


@page
async def mailbox(request: Request) -> Response:
    actor = actor_of(request)
    mails = await notices.list_mailbox(actor)
    return render(request, "notices/mailbox.html", mails=mails)
