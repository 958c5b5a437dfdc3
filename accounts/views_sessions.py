"""/accounts/sessions/: the open sessions of the signed-in account; end one, or all others.

Thin: the list is ``selectors.open_sessions``, the ends are ``services.sessions``. A session
that is not one of this account's open sessions (someone else's, already ended) is 404, and
nothing changes.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.authenticated import AuthenticatedRequest
from accounts.selectors import open_sessions
from accounts.services.places import place_database_source
from accounts.services.sessions import SessionNotFound, end_other_sessions, end_session
from dmp_portal.http import client_address


@require_GET
@never_cache
@login_required
def session_list(request: AuthenticatedRequest) -> HttpResponse:
    sessions = open_sessions(request.user, request.session.session_key)
    return render(
        request,
        "accounts/sessions.html",
        {
            "sessions": sessions,
            "others": sum(not s.current for s in sessions),
            "places": place_database_source(),
            "idle_minutes": int(settings.SESSION_IDLE_TIMEOUT.total_seconds() // 60),
            "absolute_hours": int(settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds() // 3600),
        },
    )


@login_required
@require_POST
def end_one(request: AuthenticatedRequest) -> HttpResponse:
    try:
        end_session(
            request.user,
            request.POST.get("session", ""),
            current_session_key=request.session.session_key or "",
            client_address=client_address(request),
        )
    except SessionNotFound:
        raise Http404 from None
    messages.success(request, _("The session was ended: that browser will have to log in again."))
    return redirect("accounts:sessions")


@login_required
@require_POST
def end_others(request: AuthenticatedRequest) -> HttpResponse:
    ended = end_other_sessions(
        request.user, request.session.session_key, client_address=client_address(request)
    )
    messages.success(
        request,
        ngettext(
            "%(count)d other session was ended.", "%(count)d other sessions were ended.", ended
        )
        % {"count": ended}
        if ended
        else _("No other session was open."),
    )
    return redirect("accounts:sessions")
