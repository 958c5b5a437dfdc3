"""The switch between one's own record and the records one may act on (issue 17, item 3):
``POST /access/acting/`` with ``record`` (an owner's id among one's ties, or ``mine``). Thin:
``access_control.acting`` asks the door and keeps the choice in the session."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from access_control import acting
from accounts.authenticated import AuthenticatedRequest
from accounts.models import UserKind
from dmp_portal.http import client_address

MINE = acting.MINE


@login_required
@require_POST
def switch(request: AuthenticatedRequest) -> HttpResponse:
    """An unknown or refused choice is a 404 (recorded by the door) and changes nothing."""
    if request.user.kind != UserKind.PATIENT:
        raise Http404
    chosen = request.POST.get("record", "")
    owner_id = request.user.pk if chosen == MINE else chosen
    try:
        now = acting.choose(
            request.user, owner_id, request.session, client_address=client_address(request)
        )
    except acting.NotATie as exc:
        raise Http404 from exc
    if now.tie is None:
        messages.success(request, _("You are back on your own record."))
    else:
        messages.success(request, now.tie.banner)
    return redirect("records:list")
